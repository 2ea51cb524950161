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

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <vector>

#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum::detail {

/// Loads of the k parts of `part_of` (part of item i), each summed in increasing item index
/// order. `loads` must have k entries; it is overwritten.
template <class = void>
inline void part_loads(std::span<const cost_t> costs, std::span<const index_type> part_of, std::span<cost_t> loads) {
  for (cost_t& l : loads) l = 0.0;
  for (std::size_t i = 0; i < costs.size(); ++i) loads[part_of[i]] += costs[i];
}

/// Largest load of `loads` (0 for none).
template <class = void>
inline cost_t max_load(std::span<const cost_t> loads) {
  cost_t m = 0;
  for (cost_t l : loads) m = l > m ? l : m;
  return m;
}

/// Running test behind `sums_are_exact`, constexpr (bit operations only) so that the CUDA
/// backends (built with --expt-relaxed-constexpr) take the same decision bit for bit on the device.
template <class = void>
struct basic_exact_sums_check {
  int frac_bits = 0;  ///< F: every cost seen is a multiple of 2^-F
  bool too_fine = false;

  constexpr void add(cost_t c) {
    if (c == 0 || too_fine) return;
    const auto bits = std::bit_cast<std::uint64_t>(c);
    const auto field = static_cast<int>((bits >> 52) & 0x7ffU);
    std::uint64_t mant = bits & ((std::uint64_t{1} << 52) - 1);
    int lowest = -1074;  // exponent of the mantissa's last bit (subnormal: field 0)
    if (field != 0) {
      mant |= std::uint64_t{1} << 52;
      lowest = field - 1075;
    }
    lowest += std::countr_zero(mant);  // c is an odd multiple of 2^lowest
    if (-lowest > frac_bits) frac_bits = -lowest;
    if (frac_bits > 1000) too_fine = true;
  }
  /// True when `total` (the double sum of the costs seen) is below 2^(53 - F).
  [[nodiscard]] constexpr bool exact(cost_t total) const {
    if (too_fine) return false;
    const auto limit = std::bit_cast<cost_t>(static_cast<std::uint64_t>(53 - frac_bits + 1023) << 52);
    return total < limit;
  }
};
using exact_sums_check = basic_exact_sums_check<>;

/// True when every sum of any subset of the costs, in any order, is exact in a double: every cost
/// is a multiple of 2^-F for one F (e.g. whole numbers, halves) and the total is below 2^(53-F).
/// Then the order of summation does not matter and no rounding margin is needed.
template <class = void>
inline bool sums_are_exact(std::span<const cost_t> costs) {
  exact_sums_check check;
  cost_t total = 0;
  for (cost_t c : costs) {
    total += c;
    check.add(c);
  }
  return check.exact(total);
}

/// Relative rounding margin for sums of up to n terms: (4 n + 8) 2^-53.
constexpr cost_t rounding_margin(std::size_t n) {
  return (mul(4.0, static_cast<cost_t>(n)) + 8.0) * 0x1p-53;
}

/// The next double below a positive finite x (std::nextafter(x, 0.0), constexpr).
constexpr cost_t next_below(cost_t x) {
  return std::bit_cast<cost_t>(std::bit_cast<std::uint64_t>(x) - 1);
}

/// x shrunk by the rounding margin of n-term sums (a sound lower bound from a computed sum).
/// constexpr (bit operations only) so the CUDA backends compute the same bits on the device.
constexpr cost_t shrink_for_rounding(cost_t x, std::size_t n) {
  if (!(x > 0)) return x;
  const cost_t y = x * (1 - rounding_margin(n));
  return y > 0 ? next_below(y) : y;
}

/// The makespan lower bound of lpt() and karmarkar_karp() (CPU and CUDA) from its parts, sound
/// under the arithmetic rule: max(largest, pair, sum / k) where `largest` is the largest cost,
/// `pair` = fl(c_(k) + c_(k+1)) (0 when n <= k) and `sum` the index-order sum of the costs; the
/// sum / k term is shrunk by its rounding margin unless `exact` (sums_are_exact). With k = 1 the
/// bound is `sum`, the only plan's makespan. constexpr: the CUDA backends call it on the device.
constexpr cost_t sound_makespan_bound(cost_t sum, cost_t largest, cost_t pair, std::size_t n, std::size_t k,
                                      bool exact) {
  if (n == 0) return 0;
  if (k == 1) return sum;
  cost_t bound = largest < pair ? pair : largest;
  cost_t mean = sum / static_cast<cost_t>(k);
  if (!exact) mean = shrink_for_rounding(mean, n);
  return bound < mean ? mean : bound;
}

/// sound_makespan_bound of `costs` (k >= 1): O(n) time (one nth_element), O(n) memory when n > k.
template <class = void>
inline cost_t sound_makespan_lower_bound(std::span<const cost_t> costs, std::size_t k) {
  const std::size_t n = costs.size();
  exact_sums_check check;
  cost_t sum = 0, largest = 0, pair = 0;
  for (cost_t c : costs) {
    sum += c;
    largest = largest < c ? c : largest;
    check.add(c);
  }
  if (n > k && k > 1) {
    std::vector<cost_t> top(costs.begin(), costs.end());
    std::nth_element(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(k), top.end(), std::greater<>{});
    pair = *std::min_element(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(k)) + top[k];
  }
  return sound_makespan_bound(sum, largest, pair, n, k, check.exact(sum));
}

/// x grown by the rounding margin of n-term sums (a pruning limit that never cuts a plan whose
/// index-order loads are <= x).
template <class = void>
inline cost_t grow_for_rounding(cost_t x, std::size_t n) {
  if (!(x > 0) || !(x < std::numeric_limits<cost_t>::infinity())) return x;
  return std::nextafter(x * (1 + rounding_margin(n)), std::numeric_limits<cost_t>::infinity());
}

}  // namespace fulcrum::detail
