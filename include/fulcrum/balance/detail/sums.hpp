// SPDX-License-Identifier: Apache-2.0
/// @file balance/detail/sums.hpp
/// The one arithmetic rule of balancing (docs/balance.md, "Arithmetic"), used by every capacity,
/// bound and optimality decision so that a plan, its bound and its feasibility verdict agree bit
/// for bit:
///  - a part's load is the left-to-right double sum, from 0.0, of its items' costs in increasing
///    item index order (`part_loads`); the makespan is the largest such load;
///  - a plan fits `part_capacity` iff every such load <= part_capacity (no tolerance);
///  - a plan is better than another iff its makespan is smaller (no tolerance), and optimal iff no
///    plan has a smaller makespan under this rule;
///  - a lower bound never exceeds the optimal makespan under this rule: terms that are exact in
///    doubles (the largest cost, fl(a + b) of two costs, every sum when `sums_are_exact`) are used
///    as computed; terms taken from longer sums (sum / k, the equal-counts bound) are shrunk by
///    their worst-case rounding error first (`shrink_for_rounding`).
/// Searches that sum in another order (cost-descending placement) only prune with the same margin
/// (`grow_for_rounding`), so they never cut a plan that fits under the rule, and accept a plan only
/// on loads recomputed by the rule.
///
/// Margin: n nonnegative terms summed in any order are within a factor 1 +- n u (u = 2^-53) of
/// the exact sum (Higham, Accuracy and Stability, 4.2), so two orders differ by at most a factor
/// 1 / (1 - 2 n u); the margin used is (4 n + 8) u relative, then one more ulp outwards.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "fulcrum/core/types.hpp"

namespace fulcrum::detail {

/// Loads of the k parts of `part_of` (part of item i), each summed in increasing item index
/// order. `loads` must have k entries; it is overwritten.
inline void part_loads(std::span<const cost_t> costs, std::span<const index_type> part_of, std::span<cost_t> loads) {
  for (cost_t& l : loads) l = 0.0;
  for (std::size_t i = 0; i < costs.size(); ++i) loads[part_of[i]] += costs[i];
}

/// Largest load of `loads` (0 for none).
inline cost_t max_load(std::span<const cost_t> loads) {
  cost_t m = 0;
  for (cost_t l : loads) m = l > m ? l : m;
  return m;
}

/// True when every sum of any subset of the costs, in any order, is exact in a double: every cost
/// is a multiple of 2^-F for one F (e.g. whole numbers, halves) and the total is below 2^(53-F).
/// Then the order of summation does not matter and no rounding margin is needed.
inline bool sums_are_exact(std::span<const cost_t> costs) {
  int frac_bits = 0;  // F
  cost_t total = 0;
  for (cost_t c : costs) {
    total += c;
    if (c == 0) continue;
    int e = 0;
    const cost_t f = std::frexp(c, &e);  // c = f 2^e, f in [0.5, 1)
    const auto mant = static_cast<std::uint64_t>(std::ldexp(f, 53));
    const int lowest = e - 53 + std::countr_zero(mant);  // c is an odd multiple of 2^lowest
    if (-lowest > frac_bits) frac_bits = -lowest;
    if (frac_bits > 1000) return false;
  }
  return total < std::ldexp(1.0, 53 - frac_bits);
}

/// Relative rounding margin for sums of up to n terms: (4 n + 8) 2^-53.
inline cost_t rounding_margin(std::size_t n) {
  return (4.0 * static_cast<cost_t>(n) + 8.0) * 0x1p-53;
}

/// x shrunk by the rounding margin of n-term sums (a sound lower bound from a computed sum).
inline cost_t shrink_for_rounding(cost_t x, std::size_t n) {
  if (!(x > 0)) return x;
  return std::nextafter(x * (1 - rounding_margin(n)), 0.0);
}

/// x grown by the rounding margin of n-term sums (a pruning limit that never cuts a plan whose
/// index-order loads are <= x).
inline cost_t grow_for_rounding(cost_t x, std::size_t n) {
  if (!(x > 0) || !(x < std::numeric_limits<cost_t>::infinity())) return x;
  return std::nextafter(x * (1 + rounding_margin(n)), std::numeric_limits<cost_t>::infinity());
}

}  // namespace fulcrum::detail
