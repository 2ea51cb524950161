// SPDX-License-Identifier: Apache-2.0
/// @file packing/lp_export.hpp
/// `write_packing_lp`: the bin-packing assignment ILP in CPLEX LP format, the model an external
/// MILP solver (CBC, HiGHS, Gurobi, CPLEX, SCIP) reads, e.g. `cbc model.lp solve solu out.txt`.
///
/// Model, for items i = 0..n-1 and candidate bins b = 0..m-1 (m = an upper bound on the bins):
///
///     minimise    sum_b y_b
///     assign_i:   sum_b x_i_b = 1                       every item in exactly one bin
///     cap_b:      sum_i s_i x_i_b - C y_b <= 0           capacity, only in bins that are used
///     link_i_b:   x_i_b - y_b <= 0                       (optional) tightens the LP relaxation
///     sym_b:      y_b - y_(b+1) >= 0                     (optional) used bins come first
///     bound:      sum_b y_b >= L2                        (optional) Martello–Toth bound as a cut
///     x_i_b, y_b binary; with symmetry breaking x_i_b exists only for b <= i.
///
/// Symmetry breaking is exact: number the bins of any packing by their smallest item index; then
/// item i sits in a bin numbered <= i and the used bins are 0..B-1. So the optimum is unchanged.
/// m defaults to the best-fit-decreasing bin count (always feasible; at least 1, so an empty input
/// gives a model with optimum 0) and may be given larger.
/// Coefficients are written as integers; solvers hold them as doubles, so the model is exact for
/// sizes and capacity below 2^53. Output size O(n m); time O(n m + n log n).
///
/// Errors: capacity == 0 -> invalid_input; an item over the capacity -> infeasible naming it;
/// max_bins below the items' need (fewer than the L2 bound) -> invalid_input.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <span>
#include <limits>
#include <string>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/bounds.hpp"
#include "fulcrum/packing/detail/exact_search.hpp"

namespace fulcrum {

struct packing_lp_options {
  std::size_t max_bins = 0;        ///< candidate bins m; 0 = the best-fit-decreasing bin count
  bool symmetry_breaking = true;   ///< x_i_b only for b <= i, and y_b >= y_(b+1)
  bool linking = true;             ///< x_i_b <= y_b rows
  bool bound_cut = true;           ///< sum y >= L2
};

/// Writes the bin-packing ILP of `sizes` and `capacity` to `os` in CPLEX LP format (see file docs).
/// Returns the number of candidate bins m.
inline std::size_t write_packing_lp(std::ostream& os, std::span<const std::uint64_t> sizes, std::uint64_t capacity,
                                    const packing_lp_options& opts = {}) {
  if (capacity == 0) throw invalid_input(detail::describe("write_packing_lp", "capacity", capacity, "must be positive"));
  if (sizes.size() > std::numeric_limits<index_type>::max())
    throw invalid_input(detail::describe("write_packing_lp", "sizes.size()", sizes.size(), "more items than index_type can address"));
  std::vector<index_type> positive;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] > capacity)
      throw infeasible(detail::describe("write_packing_lp", "sizes", i, sizes[i], "is larger than the capacity"));
    if (sizes[i] > 0) positive.push_back(static_cast<index_type>(i));
  }
  const std::size_t n = sizes.size();
  const std::uint64_t l2 = lower_bound_l2(sizes, capacity);
  std::size_t m = opts.max_bins;
  if (m == 0) m = std::max<std::size_t>(detail::exact::best_fit_decreasing(sizes, positive, capacity).size(), 1);
  if (m < l2)
    throw invalid_input(detail::describe("write_packing_lp", "max_bins", m, "is below the L2 lower bound on the bins"));
  const auto bins_of = [&](std::size_t i) { return opts.symmetry_breaking ? std::min(m, i + 1) : m; };

  // Writes terms, wrapping lines every 8 terms (LP format allows continuation lines).
  std::size_t on_line = 0;
  bool first_term = true;
  auto start_row = [&](const std::string& name) {
    os << ' ' << name << ':';
    on_line = 0;
    first_term = true;
  };
  auto term = [&](bool negative, std::uint64_t coef, const std::string& var) {
    if (on_line == 8) os << "\n   ", on_line = 0;
    os << (negative ? " - " : (first_term ? " " : " + "));
    if (coef != 1) os << coef << ' ';
    os << var;
    ++on_line;
    first_term = false;
  };
  auto y = [](std::size_t b) { return "y_" + std::to_string(b); };
  auto x = [](std::size_t i, std::size_t b) { return "x_" + std::to_string(i) + '_' + std::to_string(b); };

  os << "\\ fulcrum bin packing: " << n << " items, capacity " << capacity << ", " << m << " candidate bins\n";
  os << "Minimize\n";
  start_row("bins");
  for (std::size_t b = 0; b < m; ++b) term(false, 1, y(b));
  os << "\nSubject To\n";
  for (std::size_t i = 0; i < n; ++i) {
    start_row("assign_" + std::to_string(i));
    for (std::size_t b = 0; b < bins_of(i); ++b) term(false, 1, x(i, b));
    os << " = 1\n";
  }
  for (std::size_t b = 0; b < m; ++b) {
    start_row("cap_" + std::to_string(b));
    for (std::size_t i = 0; i < n; ++i)
      if (sizes[i] > 0 && b < bins_of(i)) term(false, sizes[i], x(i, b));
    term(true, capacity, y(b));
    os << " <= 0\n";
  }
  if (opts.linking)
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t b = 0; b < bins_of(i); ++b) {
        start_row("link_" + std::to_string(i) + '_' + std::to_string(b));
        term(false, 1, x(i, b));
        term(true, 1, y(b));
        os << " <= 0\n";
      }
  if (opts.symmetry_breaking)
    for (std::size_t b = 0; b + 1 < m; ++b) {
      start_row("sym_" + std::to_string(b));
      term(false, 1, y(b));
      term(true, 1, y(b + 1));
      os << " >= 0\n";
    }
  if (opts.bound_cut && m > 0) {
    start_row("bound");
    for (std::size_t b = 0; b < m; ++b) term(false, 1, y(b));
    os << " >= " << l2 << '\n';
  }
  os << "Binary\n";
  for (std::size_t b = 0; b < m; ++b) os << ' ' << y(b) << '\n';
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t b = 0; b < bins_of(i); ++b) os << ' ' << x(i, b) << '\n';
  os << "End\n";
  return m;
}

}  // namespace fulcrum
