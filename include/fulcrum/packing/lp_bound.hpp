// SPDX-License-Identifier: Apache-2.0
/// @file packing/lp_bound.hpp
/// `lower_bound_lp`: the Gilmore–Gomory (continuous cutting-stock) lower bound on the number of
/// bins, by column generation, rounded up. Usually equal to the optimum on the classic families
/// (the "integer round-up property"), and never below L1; not always above L2 on its own.
///
/// - What: min sum_p x_p over bin patterns p (multisets of the distinct item sizes that fit in C),
///   covering every size's multiplicity, x >= 0. Restricted master by a small dense simplex on the
///   distinct sizes; pricing by a bounded-knapsack DP over the capacity (C x parts <= 1e6), else by
///   Pareto lists / branch and bound / DP (see detail/gg_bound.hpp). No external solver.
/// - Guarantee: the returned value is a valid lower bound at ANY stopping point: it is the Farley
///   bound sum_i d_i y_i / z* of the current (clamped) duals y, where z* is the exact (or an
///   over-estimated) best pattern value, less a 1e-7 relative tolerance, rounded up; and at least
///   L1 = ceil(sum / C). When `lp_bound_result::converged` is true, lp_value is the LP optimum.
/// - Complexity: per iteration O(m^2) per simplex pivot (m = distinct sizes) and one pricing step
///   (O(C · m log n) by DP). Bounded by `lp_bound_options` (iterations, time, target).
///   Memory O(m^2) doubles for the basis inverse: meant for up to a few thousand distinct sizes.
/// - Zero-size items are ignored; a non-empty input gives at least 1.
/// - Errors: capacity == 0 -> invalid_input; an item larger than the capacity -> invalid_input
///   naming the item.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/packing/bounds.hpp"
#include "fulcrum/packing/detail/gg_bound.hpp"

namespace fulcrum {

/// Limits of `lower_bound_lp`.
struct lp_bound_options {
  std::size_t max_iterations = 2000;                                  ///< column-generation iterations (pricing steps)
  std::chrono::milliseconds time = std::chrono::milliseconds::max();  ///< wall clock (not deterministic)
  std::uint64_t target = std::numeric_limits<std::uint64_t>::max();   ///< stop once the bound reaches it
  std::uint64_t work = std::numeric_limits<std::uint64_t>::max();     ///< deterministic work cap (simplex flops)
};

/// Result of `lp_bound`.
struct lp_bound_result {
  std::uint64_t bound = 0;  ///< valid lower bound on the number of bins (>= L1)
  double lp_value = 0;      ///< best Farley value found (the LP optimum when converged)
  bool converged = false;   ///< column generation finished: no improving pattern
  std::size_t iterations = 0;
};

namespace detail {

/// Distinct positive sizes (descending) and their multiplicities; validates.
inline void lp_distinct(std::span<const std::uint64_t> sizes, std::uint64_t capacity, std::vector<std::uint64_t>& w,
                        std::vector<std::uint64_t>& d, const char* where) {
  require_capacity(where, capacity);
  std::vector<std::uint64_t> s;
  s.reserve(sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] > capacity) throw invalid_input(describe(where, "sizes", i, sizes[i], "is larger than the capacity"));
    if (sizes[i] > 0) s.push_back(sizes[i]);
  }
  std::sort(s.begin(), s.end(), [](std::uint64_t a, std::uint64_t b) { return a > b; });
  w.clear();
  d.clear();
  for (std::uint64_t x : s) {
    if (w.empty() || w.back() != x) w.push_back(x), d.push_back(0);
    ++d.back();
  }
}

}  // namespace detail

/// The Gilmore–Gomory bound with its details (see file docs).
[[nodiscard]] inline lp_bound_result lp_bound(std::span<const std::uint64_t> sizes, std::uint64_t capacity,
                                              const lp_bound_options& opts = {}) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> w, d;
  detail::lp_distinct(sizes, capacity, w, d, "lower_bound_lp");
  lp_bound_result r;
  if (sizes.empty()) {
    r.converged = true;
    return r;
  }
  const std::uint64_t l1 = std::max<std::uint64_t>(lower_bound_l1(sizes, capacity), 1);
  detail::gg::limits lim;
  lim.max_iterations = opts.max_iterations;
  lim.stop_at = opts.target;
  lim.max_work = opts.work;
  if (opts.time != std::chrono::milliseconds::max()) {
    lim.has_deadline = true;
    const auto left = std::chrono::steady_clock::time_point::max() - start;
    lim.deadline = opts.time >= left ? std::chrono::steady_clock::time_point::max() : start + opts.time;
  }
  const auto o = detail::gg::column_generation(w, d, capacity, lim);
  r.bound = std::max(o.bound, l1);
  r.lp_value = o.lp_value;
  r.converged = o.converged || w.empty();
  r.iterations = o.iterations;
  return r;
}

/// max(L1, rounded-up Gilmore–Gomory bound) (see file docs).
[[nodiscard]] inline std::uint64_t lower_bound_lp(std::span<const std::uint64_t> sizes, std::uint64_t capacity,
                                                  const lp_bound_options& opts = {}) {
  return lp_bound(sizes, capacity, opts).bound;
}

}  // namespace fulcrum
