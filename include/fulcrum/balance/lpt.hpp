// SPDX-License-Identifier: Apache-2.0
/// @file balance/lpt.hpp
/// Greedy LPT (longest processing time first) balancing of n items onto k parts.
///
/// What: sort items by cost, largest first (ties: lower index first); give each to the currently
/// lightest part (ties: lower part index).
/// Complexity: O(n log n + n log k) time, O(n + k) memory.
/// Guarantee: makespan <= (4/3 - 1/(3k)) * OPT (Graham 1969). Deterministic on every platform.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <limits>
#include <numeric>
#include <queue>
#include <ranges>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/balance/partition.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum {

namespace detail {
/// Item indices ordered by cost descending, ties by index ascending.
inline std::vector<index_type> order_by_cost_descending(std::span<const cost_t> costs) {
  std::vector<index_type> order(costs.size());
  std::iota(order.begin(), order.end(), index_type{0});
  std::stable_sort(order.begin(), order.end(), [&](index_type a, index_type b) { return costs[a] > costs[b]; });
  return order;
}

inline void require_parts(std::string_view where, std::size_t k, std::size_t n) {
  if (k == 0) throw invalid_input(describe(where, "k", k, "need at least one part"));
  if (k > std::numeric_limits<index_type>::max())
    throw invalid_input(describe(where, "k", k, "more parts than index_type can address"));
  if (n > std::numeric_limits<index_type>::max())
    throw invalid_input(describe(where, "items", n, "more items than index_type can address"));
}
}  // namespace detail

/// LPT assignment on precomputed costs: result[i] = part of item i.
[[nodiscard]] inline std::vector<index_type> lpt_assign(std::span<const cost_t> costs, std::size_t k) {
  detail::require_parts("lpt", k, costs.size());
  for (std::size_t i = 0; i < costs.size(); ++i) detail::require_non_negative("lpt", "cost", i, costs[i]);
  using entry = std::pair<cost_t, index_type>;  // (load, part): min-heap, ties by part index
  std::vector<entry> heap(k);
  for (std::size_t p = 0; p < k; ++p) heap[p] = {0.0, static_cast<index_type>(p)};
  std::priority_queue<entry, std::vector<entry>, std::greater<>> lightest(std::greater<>{}, std::move(heap));
  std::vector<index_type> part_of(costs.size());
  for (index_type i : detail::order_by_cost_descending(costs)) {
    auto [load, part] = lightest.top();
    lightest.pop();
    part_of[i] = part;
    lightest.push({load + costs[i], part});
  }
  return part_of;
}

/// LPT on precomputed costs, with loads, makespan and lower bound.
[[nodiscard]] inline partition lpt(std::span<const cost_t> costs, std::size_t k) {
  const auto part_of = lpt_assign(costs, k);
  return detail::make_partition(part_of, costs, k, makespan_lower_bound(costs, k));
}

/// LPT on any random-access range of items, priced by `cost(proj(item))`.
template <std::ranges::random_access_range R, class Cost = identity_cost, class Proj = std::identity>
  requires cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] partition lpt(R&& items, std::size_t k, Cost cost = {}, Proj proj = {}) {
  detail::require_parts("lpt", k, static_cast<std::size_t>(std::ranges::size(items)));
  const auto costs = evaluate_costs(items, cost, proj, "lpt");
  return lpt(std::span<const cost_t>(costs), k);
}

}  // namespace fulcrum
