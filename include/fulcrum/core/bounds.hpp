// SPDX-License-Identifier: Apache-2.0
/// @file core/bounds.hpp
/// Lower bounds on the makespan of k-way balancing (P||Cmax), O(n + k log n):
///   max( sum / k,  max item,  c_(k) + c_(k+1) )
/// where c_(j) is the j-th largest cost: with n > k items, two of the k+1 largest share a part.
/// Sums are taken in index order (deterministic).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

[[nodiscard]] inline cost_t makespan_lower_bound(std::span<const cost_t> costs, std::size_t k) {
  if (k == 0) throw invalid_input("makespan_lower_bound: k = 0: need at least one part");
  if (costs.empty()) return 0;
  cost_t sum = 0, largest = 0;
  for (cost_t c : costs) {
    sum += c;
    largest = std::max(largest, c);
  }
  cost_t bound = std::max(sum / static_cast<cost_t>(k), largest);
  if (costs.size() > k) {
    std::vector<cost_t> top(costs.begin(), costs.end());
    std::nth_element(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(k), top.end(), std::greater<>{});
    const cost_t kth_plus_one = top[k];
    const cost_t kth = *std::min_element(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(k));
    bound = std::max(bound, kth + kth_plus_one);
  }
  return bound;
}

}  // namespace fulcrum
