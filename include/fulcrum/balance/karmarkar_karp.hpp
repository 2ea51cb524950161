// SPDX-License-Identifier: Apache-2.0
/// @file balance/karmarkar_karp.hpp
/// k-way Karmarkar-Karp (largest differencing method, LDM) balancing of n items onto k parts.
///
/// What: every item starts as a partial solution (a k-tuple of part sums: the item in one part,
/// zeros elsewhere). Repeatedly take the two partial solutions with the largest difference
/// (max - min), join them by pairing the heaviest part of one with the lightest part of the
/// other (2nd heaviest with 2nd lightest, ...), until one k-tuple is left: the partition.
/// Ties: larger difference first, then the earlier (cost-descending, index-ascending) singleton,
/// then the earlier-created tuple; inside a tuple parts order by sum, then smallest item index.
///
/// Complexity: O(n log n + n k log k) time in the worst case, O(n + k) memory. Tuples are stored
/// sparsely and merged in place (detail/karmarkar_karp.hpp), so the usual n >> k case costs
/// O(n) for the radix sort plus, per item, O(log k) comparisons and one memmove of at most k
/// 16-byte entries (timings for n = 65536, k = 512 in docs/benchmarks.md).
///
/// Guarantee: makespan <= 7/6 OPT for k = 2 (Fischetti-Martello 1987) and <= (4/3 - 1/(3k)) OPT
/// for k >= 3 (Michiels, Korst, Aarts, van Leeuwen, Spieksma 2007: the ratio lies between
/// 4/3 - 1/(3(k-1)) and 4/3 - 1/(3k)); on random inputs its final difference is far below LPT's
/// (Yakir 1996). Deterministic on every platform.
#pragma once

#include <cstddef>
#include <functional>
#include <ranges>
#include <span>
#include <vector>

#include "fulcrum/balance/detail/karmarkar_karp.hpp"
#include "fulcrum/balance/detail/karmarkar_karp_equal.hpp"
#include "fulcrum/balance/detail/order.hpp"
#include "fulcrum/balance/detail/sums.hpp"
#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/balance/partition.hpp"
#include "fulcrum/core/cost_model.hpp"

namespace fulcrum {

/// Karmarkar-Karp assignment on precomputed costs: result[i] = part of item i.
template <class = void>
[[nodiscard]] inline std::vector<index_type> karmarkar_karp_assign(std::span<const cost_t> costs, std::size_t k) {
  detail::require_parts("karmarkar_karp", k, costs.size());
  detail::require_costs("karmarkar_karp", costs);
  const auto part_of = detail::karmarkar_karp_solver(costs, k).run();
  return std::vector<index_type>(part_of.begin(), part_of.end());
}

/// Karmarkar-Karp with equal item counts (every part gets floor(n/k) or ceil(n/k) items):
/// chunks of k items in cost order become full tuples, which are then differenced
/// (detail/karmarkar_karp_equal.hpp). O(n log k). result[i] = part of item i.
template <class = void>
[[nodiscard]] inline std::vector<index_type> karmarkar_karp_assign_equal_counts(std::span<const cost_t> costs, std::size_t k) {
  detail::require_parts("karmarkar_karp", k, costs.size());
  detail::require_costs("karmarkar_karp", costs);
  const auto part_of = detail::karmarkar_karp_equal_counts(costs, k);
  return std::vector<index_type>(part_of.begin(), part_of.end());
}

/// Karmarkar-Karp on precomputed costs, with loads, makespan and lower bound
/// (detail::sound_makespan_lower_bound: never above the optimum under the arithmetic rule of
/// docs/balance.md, so gap() >= 0, also for non-integer costs).
template <class = void>
[[nodiscard]] inline partition karmarkar_karp(std::span<const cost_t> costs, std::size_t k) {
  const auto part_of = karmarkar_karp_assign(costs, k);
  return detail::make_partition(part_of, costs, k, detail::sound_makespan_lower_bound(costs, k));
}

/// Karmarkar-Karp on any random-access range of items, priced by `cost(proj(item))`.
template <std::ranges::random_access_range R, class Cost = identity_cost, class Proj = std::identity>
  requires cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] partition karmarkar_karp(R&& items, std::size_t k, Cost cost = {}, Proj proj = {}) {
  detail::require_parts("karmarkar_karp", k, static_cast<std::size_t>(std::ranges::size(items)));
  const auto costs = evaluate_costs(items, cost, proj, "karmarkar_karp");
  return karmarkar_karp(std::span<const cost_t>(costs), k);
}

}  // namespace fulcrum
