// SPDX-License-Identifier: Apache-2.0
/// @file balance/detail/bounds.hpp
/// The lower bound balance() reports: max(sum/k, max, c_(k) + c_(k+1)) strengthened by
///  - integrality: when every cost is a whole number (and the total is exact in a double), every
///    part load is a multiple of g = gcd of the costs, so the bound rounds up to a multiple of g
///    (g = 1 for most inputs; 576 for image-token costs);
///  - equal counts: every part holds at least f = floor(n/k) items, so the part holding the
///    largest item weighs at least c_(1) + the f - 1 smallest other costs.
/// Soundness under the arithmetic rule (detail/sums.hpp): the largest cost and c_(k) + c_(k+1)
/// are exact; sum/k and the equal-counts bound are shrunk by their rounding margin unless every
/// sum of the costs is exact (whole numbers, halves, ... below 2^53), so the bound never exceeds
/// the optimal makespan of index-order loads. With k = 1 the bound is the (only) plan's makespan.
/// O(n) time (one nth_element), O(n) memory; O(n) with no selection when the descending order is given.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <span>
#include <string_view>
#include <vector>

#include "fulcrum/balance/detail/sums.hpp"
#include "fulcrum/core/detail/scratch.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/core/validate.hpp"

namespace fulcrum::detail {

/// The integrality step of the bound (file docs): when every cost is a whole number below 2^53 and
/// so is their total, rounds `bound` up to a multiple of the costs' gcd.
template <class = void>
inline cost_t round_up_to_cost_gcd(std::span<const cost_t> costs, cost_t bound) {
  cost_t total = 0;
  bool integral = true;
  std::uint64_t g = 0;
  for (cost_t c : costs) {
    total += c;
    // c >= 0 (validated): below 2^53 it is whole iff it survives a round trip through int64.
    integral = integral && c < 0x1p53 && c == static_cast<cost_t>(static_cast<std::int64_t>(c));
    if (!integral) break;
    if (g != 1) g = std::gcd(g, static_cast<std::uint64_t>(c));  // 1 stays 1: skip the division loop
  }
  if (integral && total < 0x1p53 && g > 0) {
    const cost_t step = static_cast<cost_t>(g);
    bound = std::ceil(bound / step) * step;
  }
  return bound;
}

template <class = void>
inline cost_t balance_lower_bound(std::span<const cost_t> costs, std::size_t k, bool equal_counts) {
  const std::size_t n = costs.size();
  if (n == 0) return 0;
  if (k == 1) {  // one plan only: its makespan (index-order sum) is the optimum
    cost_t total = 0;
    for (cost_t c : costs) total += c;
    return total;
  }
  const bool exact = sums_are_exact(costs);
  // Exact terms: the largest cost and fl(c_(k) + c_(k+1)) (a sum of two terms is the same in
  // either order, and adding more nonnegative terms never lowers a double sum).
  cost_t sum = 0, largest = 0;
  for (cost_t c : costs) {
    sum += c;
    largest = std::max(largest, c);
  }
  cost_t bound = largest;
  if (n > k) {
    scratch_vector<cost_t> top(costs.begin(), costs.end());
    std::nth_element(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(k), top.end(), std::greater<>{});
    const cost_t kth_plus_one = top[k];
    const cost_t kth = *std::min_element(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(k));
    bound = std::max(bound, kth + kth_plus_one);
  }
  // Terms from longer sums: shrunk by their rounding margin unless every sum is exact.
  const auto sound = [&](cost_t x) { return exact ? x : shrink_for_rounding(x, n); };
  bound = std::max(bound, sound(sum / static_cast<cost_t>(k)));
  if (equal_counts && n / k >= 2) {
    const std::size_t f = n / k;
    scratch_vector<cost_t> sorted(costs.begin(), costs.end());
    const auto top_it = std::max_element(sorted.begin(), sorted.end());
    const cost_t top = *top_it;
    sorted.erase(top_it);
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(f - 1), sorted.end());
    std::sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(f - 1));
    cost_t part = top;
    for (std::size_t i = 0; i < f - 1; ++i) part += sorted[i];
    bound = std::max(bound, sound(part));
  }
  return round_up_to_cost_gcd(costs, bound);
}

/// What one pass over validated costs gives the bound: the index-order sum, the largest cost,
/// sums_are_exact's test and the integrality step's gcd (0 when some cost is not a whole number
/// below 2^53).
struct cost_summary {
  cost_t sum = 0;
  cost_t largest = 0;
  bool exact = false;     ///< sums_are_exact(costs)
  std::uint64_t gcd = 0;  ///< gcd of the costs when all are whole numbers below 2^53, else 0
};

/// The cost_summary of `costs` in one pass, validating them as validate_costs does (the same
/// exceptions: the first cost that is NaN, infinite or negative, or a sum that overflows).
template <class = void>
inline cost_summary summarize_costs(std::string_view where, std::span<const cost_t> costs) {
  cost_summary out;
  exact_sums_check check;
  bool integral = true;
  std::uint64_t g = 0;
  for (cost_t c : costs) {
    if (!(c >= 0 && c <= std::numeric_limits<cost_t>::max())) [[unlikely]]
      (void)validate_costs(where, costs);  // throws, naming the first such cost
    out.sum += c;
    out.largest = std::max(out.largest, c);
    check.add(c);
    // c >= 0: below 2^53 it is whole iff it survives a round trip through int64.
    integral = integral && c < 0x1p53 && c == static_cast<cost_t>(static_cast<std::int64_t>(c));
    if (integral && g != 1) g = std::gcd(g, static_cast<std::uint64_t>(c));  // 1 stays 1: skip the division loop
  }
  if (!std::isfinite(out.sum)) (void)validate_costs(where, costs);  // throws: the sum overflows
  out.exact = check.exact(out.sum);
  out.gcd = integral ? g : 0;
  return out;
}

/// The same bound, bit for bit, from the items already ordered by cost descending (`desc`, as
/// radix_order_descending gives) and their summary: no selection or copy, O(n / k) beyond it.
/// The per-step path of balance() (a few hundred items) spends most of its time here otherwise.
template <class = void>
inline cost_t balance_lower_bound(std::span<const cost_t> costs, std::span<const index_type> desc, std::size_t k,
                                  bool equal_counts, const cost_summary& summary) {
  const std::size_t n = costs.size();
  if (n == 0) return 0;
  if (k == 1) return summary.sum;
  const bool exact = summary.exact;
  cost_t bound = summary.largest;
  if (n > k) bound = std::max(bound, costs[desc[k - 1]] + costs[desc[k]]);
  const auto sound = [&](cost_t x) { return exact ? x : shrink_for_rounding(x, n); };
  bound = std::max(bound, sound(summary.sum / static_cast<cost_t>(k)));
  if (equal_counts && n / k >= 2) {
    // The largest plus the f - 1 smallest others, summed smallest first (the last of `desc`).
    const std::size_t f = n / k;
    cost_t part = costs[desc[0]];
    for (std::size_t i = 0; i + 1 < f; ++i) part += costs[desc[n - 1 - i]];
    bound = std::max(bound, sound(part));
  }
  // The integrality step (round_up_to_cost_gcd) from the summary.
  if (summary.gcd > 0 && summary.sum < 0x1p53) {
    const auto step = static_cast<cost_t>(summary.gcd);
    bound = std::ceil(bound / step) * step;
  }
  return bound;
}

/// The same from the costs alone (one summary pass). `sums_exact`, when given, receives
/// sums_are_exact(costs) (detail/sums.hpp; false when k = 1).
template <class = void>
inline cost_t balance_lower_bound(std::span<const cost_t> costs, std::span<const index_type> desc, std::size_t k,
                                  bool equal_counts, bool* sums_exact = nullptr) {
  const cost_summary summary = summarize_costs("balance", costs);
  if (sums_exact != nullptr) *sums_exact = k > 1 && !costs.empty() && summary.exact;
  return balance_lower_bound(costs, desc, k, equal_counts, summary);
}

}  // namespace fulcrum::detail
