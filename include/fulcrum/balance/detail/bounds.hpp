// SPDX-License-Identifier: Apache-2.0
/// @file balance/detail/bounds.hpp
/// The lower bound balance() reports: core's makespan_lower_bound (max(sum/k, max, c_(k) +
/// c_(k+1))) strengthened by
///  - integrality: when every cost is a whole number (and the total is exact in a double), every
///    part load is a multiple of g = gcd of the costs, so the bound rounds up to a multiple of g
///    (g = 1 for most inputs; 576 for image-token costs);
///  - equal counts: every part holds at least f = floor(n/k) items, so the part holding the
///    largest item weighs at least c_(1) + the f - 1 smallest other costs.
/// O(n) time (one nth_element), O(n) memory.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "fulcrum/core/bounds.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum::detail {

inline cost_t balance_lower_bound(std::span<const cost_t> costs, std::size_t k, bool equal_counts) {
  cost_t bound = makespan_lower_bound(costs, k);
  const std::size_t n = costs.size();
  if (n == 0) return bound;
  if (equal_counts && n / k >= 2) {
    const std::size_t f = n / k;
    std::vector<cost_t> sorted(costs.begin(), costs.end());
    const auto largest = std::max_element(sorted.begin(), sorted.end());
    const cost_t top = *largest;
    sorted.erase(largest);
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(f - 1), sorted.end());
    std::sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(f - 1));
    cost_t part = top;
    for (std::size_t i = 0; i < f - 1; ++i) part += sorted[i];
    bound = std::max(bound, part);
  }
  cost_t total = 0;
  bool integral = true;
  std::uint64_t g = 0;
  for (cost_t c : costs) {
    total += c;
    integral = integral && c == std::floor(c) && c < 0x1p53;
    if (!integral) break;
    g = std::gcd(g, static_cast<std::uint64_t>(c));
  }
  if (integral && total < 0x1p53 && g > 0) {
    const cost_t step = static_cast<cost_t>(g);
    bound = std::ceil(bound / step) * step;
  }
  return bound;
}

}  // namespace fulcrum::detail
