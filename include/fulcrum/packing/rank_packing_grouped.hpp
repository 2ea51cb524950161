// SPDX-License-Identifier: Apache-2.0
/// @file packing/rank_packing_grouped.hpp
/// pack_for_ranks() under a *group* cost model (core/group_cost.hpp): the micro-batches are packed
/// by size as pack_for_ranks always does, and inside every step their costs are evened under a
/// model that prices a whole micro-batch (padded_cost: count x longest; padded_attention_cost;
/// any monotone callable on the micro-batch's sizes), not a sum of item costs.
///
///   rank_packing pack_for_ranks(R&& items, Capacity capacity, size_t ranks,
///                               rank_pack_options opts, GroupCost cost, Proj proj = {});
///
/// The same front door and result as packing/rank_packing.hpp, chosen when `cost` is a
/// group_cost_model; sizes are one-dimensional (token counts), and the model sees them as doubles.
/// Algorithm: pack_for_ranks(items, capacity, ranks, opts, balance_sizes{}, proj) (so the bins,
/// their number and every guarantee of that front door are the same), then in every step the
/// min-max local search of core/group_cost.hpp: moves and swaps out of the step's costliest
/// micro-batch while they lower it, never over the capacity, never emptying a micro-batch or
/// filling an empty one (the empty bins stay in the last step), never moving an item over the
/// capacity (oversize own_bin). At most opts.passes x ranks accepted steps per step.
/// Result: `costs` holds every bin's group cost and `cost_dist` their DistRatio; loads, dist and
/// pad are recomputed; used_bins, lower_bound and proven_optimal are those of the packing.
/// Time: that of pack_for_ranks plus O(passes x ranks x m x ranks x m) model evaluations per step
/// for m items per micro-batch (each O(m)); the search stops at the first step it cannot improve.
/// Errors: those of pack_for_ranks; a model returning NaN / negative / infinite -> invalid_input.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ranges>
#include <span>
#include <type_traits>
#include <vector>

#include "fulcrum/core/group_cost.hpp"
#include "fulcrum/core/options.hpp"
#include "fulcrum/packing/rank_packing.hpp"

namespace fulcrum {

namespace detail {

/// Evens every step of `out` under the group model (see file docs); sizes are the packed sizes
/// (truncated to the capacity under oversize::truncate), values what the model sees.
template <group_cost_model M>
void even_steps_under_group_cost(rank_packing& out, std::span<const std::uint64_t> sizes,
                                 std::span<const double> values, std::uint64_t capacity, std::size_t passes,
                                 const M& model) {
  const std::size_t steps = out.steps(), ranks = out.ranks();
  std::vector<std::vector<index_type>> bins(steps * ranks);
  out.costs.assign(steps * ranks, 0.0);
  for (std::size_t s = 0; s < steps; ++s) {
    std::vector<std::uint64_t> load(ranks, 0);
    for (std::size_t r = 0; r < ranks; ++r)
      for (const index_type i : out.bins(s, r)) {
        bins[s * ranks + r].push_back(i);
        load[r] += sizes[i];
      }
    constexpr index_type none = group_parts<M>::none;
    even_bins(
        std::span(bins).subspan(s * ranks, ranks), std::span(out.costs).subspan(s * ranks, ranks), values, model,
        static_cast<std::uint64_t>(passes) * ranks, "pack_for_ranks",
        [&](std::size_t r, index_type gone, index_type in) {  // items over the capacity (own_bin) never move
          return sizes[in] <= capacity && (gone == none || sizes[gone] <= capacity) &&
                 load[r] - (gone == none ? 0 : sizes[gone]) + sizes[in] <= capacity;
        },
        [&](index_type i, std::size_t from, std::size_t to) {
          load[from] -= sizes[i];
          load[to] += sizes[i];
        });
  }
  out.bins = step_grid(grouping::from_groups(bins), steps, ranks);
  std::vector<double> v(bins.size());
  long double used = 0;
  for (std::size_t b = 0; b < bins.size(); ++b) {
    std::uint64_t l = 0;
    for (const index_type i : bins[b]) l += sizes[i];
    out.loads[b] = l;
    v[b] = static_cast<double>(l);
    used += static_cast<long double>(l);
  }
  out.dist.assign(1, dist_ratio_of_loads(v, steps, ranks));
  out.pad.assign(1, bins.empty() ? 0.0
                                 : static_cast<double>(1.0L - used / (static_cast<long double>(bins.size()) *
                                                                      static_cast<long double>(capacity))));
  out.cost_dist = dist_ratio_of_loads(out.costs, steps, ranks);
}

}  // namespace detail

/// Rank-aware packing with every step evened under a group cost model (see file docs).
template <std::ranges::random_access_range R, class Capacity, class GroupCost, class Proj = std::identity>
requires std::ranges::sized_range<R> && group_cost_model<GroupCost> &&
    arithmetic<std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>> &&
    arithmetic<Capacity>
[[nodiscard]] rank_packing pack_for_ranks(R&& items, Capacity capacity, std::size_t ranks, rank_pack_options opts,
                                          GroupCost cost, Proj proj = {}) {
  rank_packing out = pack_for_ranks(items, capacity, ranks, opts, balance_sizes{}, proj);  // validates everything
  const std::uint64_t cap = detail::to_capacity("pack_for_ranks", capacity);
  const auto n = static_cast<std::size_t>(std::ranges::size(items));
  std::vector<std::uint64_t> sizes(n);
  std::vector<double> values(n);
  auto it = std::ranges::begin(items);
  for (std::size_t i = 0; i < n; ++i, ++it) {
    const auto v = std::invoke(proj, *it);
    values[i] = static_cast<double>(v);
    sizes[i] = detail::to_size("pack_for_ranks", "sizes", i, v);
    if (opts.oversize_policy == oversize::truncate) sizes[i] = std::min(sizes[i], cap);
  }
  const auto model = detail::group_model_of(cost);
  detail::even_steps_under_group_cost(out, sizes, values, cap, opts.passes, model);
  return out;
}

}  // namespace fulcrum
