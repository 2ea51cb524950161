// SPDX-License-Identifier: Apache-2.0
/// @file balance/lp_export.hpp
/// Writes the assignment ILP of k-way balancing in CPLEX LP format, for an external MIP solver
/// (CBC, HiGHS, Gurobi, CPLEX, SCIP) as an oracle or to solve instances outside fulcrum:
///
///     minimize    C
///     subject to  sum_j x_i_j = 1                      for every item i      (a_i)
///                 sum_i c_i x_i_j - C <= 0             for every part j      (l_j)
///                 floor(n/k) <= sum_i x_i_j <= ceil(n/k)   if opts.equal_counts (n_j, m_j)
///                 0 <= C <= opts.part_capacity         (upper bound only if finite)
///                 x_i_j binary
///
/// Symmetry: the parts are interchangeable, so the largest item (lowest index on ties) is fixed to
/// part 0 (x_i_0 = 1), which every solver accepts and which keeps the optimum unchanged.
/// Numbers are written with 17 significant digits (exact round trip of doubles); lines are wrapped
/// every 8 terms (LP readers limit line length). Variables: C and x_<item>_<part>.
/// Complexity: O(n k) output. Errors: k == 0, NaN/negative/infinite costs -> invalid_input.
#pragma once

#include <cstddef>
#include <limits>
#include <ostream>
#include <span>
#include <sstream>

#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/balance/options.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum {

/// Writes the ILP of balancing `costs` onto k parts (see the file comment) to `os`.
inline void write_balance_lp(std::ostream& os, std::span<const cost_t> costs, std::size_t k,
                             const balance_options& opts = {}) {
  constexpr const char* where = "write_balance_lp";
  detail::require_parts(where, k, costs.size());
  for (std::size_t i = 0; i < costs.size(); ++i) detail::require_non_negative(where, "cost", i, costs[i]);
  if (std::isnan(opts.part_capacity) || !(opts.part_capacity > 0))
    throw invalid_input(detail::describe(where, "part_capacity", opts.part_capacity, "must be positive"));
  const std::size_t n = costs.size();
  std::ostringstream out;  // formatted in a buffer so a throwing stream never sees half a model
  out.precision(17);
  auto x = [&](std::size_t i, std::size_t j) { out << "x_" << i << '_' << j; };
  out << "\\ fulcrum: balance " << n << " items onto " << k << " parts, minimise the makespan C\n";
  out << "Minimize\n obj: C\nSubject To\n";
  for (std::size_t i = 0; i < n; ++i) {
    out << " a" << i << ':';
    for (std::size_t j = 0; j < k; ++j) {
      out << (j == 0 ? " " : " + ");
      x(i, j);
      if (j % 8 == 7 && j + 1 < k) out << "\n  ";
    }
    out << " = 1\n";
  }
  for (std::size_t j = 0; j < k; ++j) {
    out << " l" << j << ':';
    std::size_t terms = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (costs[i] == 0) continue;
      out << (terms == 0 ? " " : " + ") << costs[i] << ' ';
      x(i, j);
      if (++terms % 8 == 0) out << "\n  ";
    }
    out << " - C <= 0\n";
  }
  if (opts.equal_counts) {
    const std::size_t lo = n / k, hi = lo + (n % k ? 1 : 0);
    for (std::size_t j = 0; j < k; ++j)
      for (int side = 0; side < 2; ++side) {
        out << (side == 0 ? " n" : " m") << j << ':';
        for (std::size_t i = 0; i < n; ++i) {
          out << (i == 0 ? " " : " + ");
          x(i, j);
          if (i % 8 == 7 && i + 1 < n) out << "\n  ";
        }
        if (n == 0) out << " 0 C";
        out << (side == 0 ? " >= " : " <= ") << (side == 0 ? lo : hi) << '\n';
      }
  }
  out << "Bounds\n";
  if (opts.part_capacity < std::numeric_limits<cost_t>::infinity()) out << " 0 <= C <= " << opts.part_capacity << '\n';
  else out << " C >= 0\n";
  if (n > 0) {
    const auto order = detail::order_by_cost_descending(costs);
    out << ' ';
    x(order[0], 0);
    out << " = 1\n";
  }
  if (n > 0) {
    out << "Binaries\n";
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < k; ++j) {
        out << ' ';
        x(i, j);
        out << '\n';
      }
  }
  out << "End\n";
  os << out.str();
}

}  // namespace fulcrum
