// SPDX-License-Identifier: Apache-2.0
/// @file packing/rank_packing.hpp
/// `pack_for_ranks`: rank-aware packing for data-parallel training (contract, docs/design.md) —
/// OmniBal's balanced dynamic mini-batches, done without dropping or padding anything.
///
///   rank_packing pack_for_ranks(R&& items, Capacity capacity, std::size_t ranks,
///                               rank_pack_options opts = {}, Cost cost = {}, Proj proj = {});
///
/// Output: a `rank_packing` (packing/rank_packing_result.hpp) whose `bins` is a step_grid of
/// steps x ranks bins; bins(s, r) is rank r's micro-batch at step s, so
/// every rank runs the same number of micro-batches (unequal counts hang NCCL collectives). Every
/// item is placed exactly once, every bin holds the capacity in every dimension, and empty bins
/// occur only in the last step. Within a step the bins are balanced in every dimension (sizes
/// normalised by capacity), or under `cost` when one is given.
///
/// Algorithm (deterministic; ties by item index; `opts.seed` only shuffles the order of steps and of
/// ranks inside a step):
///  1. Fill bins one at a time (detail/rank_fill.hpp): open with the largest remaining item by
///     dominant normalised size, then add, among the best offer of each coarse-size class, the item
///     that keeps the bin's fill fractions of the tight dimensions in step (so the binding dimension
///     fills up without starving the other). O(n K log C) for K coarse classes (e.g. the image
///     counts 0..8). Where the classes do not apply (a coarse capacity of
///     4096 or more, or a fine capacity of 2^24 or more) multi_best_fit_decreasing packs instead.
///  2. steps = ceil(bins / ranks); the bin count is padded with empty bins to steps * ranks.
///  3. Bins are sorted by their loads (coarsest dimension first, descending; by cost under a cost
///     model) and consecutive groups of `ranks` bins form the steps, so a step's bins start alike;
///     the empty bins land in the last step.
///  4. In every step a local search moves and swaps items between two bins of the step (never over a
///     capacity, never emptying a bin) while it lowers the step's sum of squared normalised deviations
///     from the step mean; in the last step this also spreads items into its empty bins. Up to 16
///     ranks every pair of bins is examined per pass; beyond, each bin pairs with the 9 bins around
///     its mirror position in the step's order by deviation (heavy with light), O(ranks) pairs.
///  5. Steps (all but a last step that holds empty bins) and the ranks inside each step are shuffled
///     with opts.seed when opts.shuffle is true, so training does not see steps sorted by size.
///     Swaps between two bins try every pair of items while |A| * |B| <= 16384; larger bins
///     (thousands of small items) use a sorted search: each item of A tries the 8 items of B
///     nearest the best swap partner by a key (exact in one balance dimension), O(m log m) per pair.
/// Time O(n K log C + n log n + steps * passes * P * m * (log m + D)) worst case for m items per bin
/// and P pairs per pass (ranks^2 / 2 up to 16 ranks, about 9 ranks beyond); with m^2 <= 16384
/// the full O(m^2 D) swap scan runs, which is the same order.
///
/// Metrics (OmniBal): DistRatio per step = sum_r (X_max - X_r) / (X_max * ranks), averaged over
/// steps (`dist_ratio`, `dist_ratio_of_loads`); PadRatio = 1 - used / (bins * capacity) per
/// dimension (`pad_ratio`, see there for why this and not OmniBal's within-batch padding). The
/// result carries both for every dimension, the L2 lower bound on bins and step_lower_bound().
///
/// Input: items are any random-access sized range; `proj(item)` gives an arithmetic size (capacity
/// arithmetic) or a std::array<T, D> of sizes (capacity std::array of the same D; a different D is
/// a compile-time error). `cost` defaults to `balance_sizes` (balance every size dimension); any
/// other cost must be a cost_model_for the projected value and is called as cost(proj(item)), the
/// same rule as balance() (for a ViT + LLM model on {images, tokens}, price the std::array the
/// projection gives), and then only the per-bin cost is balanced (costs see the sizes before any
/// truncation). Errors: ranks == 0 or above fulcrum::max_parts (2^24, core/validate.hpp), a cost sum
/// that overflows a double, a zero capacity, negative,
/// NaN or fractional sizes, a negative or NaN cost -> invalid_input naming field, index and value;
/// an item over the capacity -> infeasible naming it (opts.oversize_policy: `truncate` counts it as
/// the capacity in that dimension; `own_bin` gives it a bin of its own, over capacity by design).
/// Empty input: 0 steps, 0 bins.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <ranges>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/step_grid.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/core/validate.hpp"
#include "fulcrum/packing/detail/oversize.hpp"
#include "fulcrum/packing/detail/rank_bound.hpp"
#include "fulcrum/packing/detail/rank_fill.hpp"
#include "fulcrum/packing/detail/rank_steps.hpp"
#include "fulcrum/packing/multi.hpp"
#include "fulcrum/packing/pack.hpp"
#include "fulcrum/packing/packing.hpp"
#include "fulcrum/packing/rank_packing_result.hpp"

namespace fulcrum {

/// Default cost of pack_for_ranks: balance every size dimension (normalised by its capacity).
struct balance_sizes {};

struct rank_pack_options {
  oversize oversize_policy = oversize::error;  ///< item over the capacity: error, truncate or own_bin
  std::size_t passes = 32;                     ///< local-search passes per step (each pass: every pair of bins)
  bool shuffle = true;                         ///< shuffle the steps and the ranks inside a step (seeded)
  std::uint64_t seed = default_seed;           ///< for the shuffle
};

namespace detail {

/// Builds the result (loads, metrics, bound) from bins already laid out in steps.
template <std::size_t D>
[[nodiscard]] rank_packing make_rank_packing(std::vector<std::vector<index_type>>& bins, std::size_t steps,
                                             std::size_t ranks, std::span<const size_vector<D>> sizes,
                                             const size_vector<D>& capacity, std::span<const cost_t> costs,
                                             std::uint64_t lower_bound) {
  rank_packing out;
  for (auto& b : bins) std::sort(b.begin(), b.end());
  out.bins = step_grid(grouping::from_groups(bins), steps, ranks);  // bins[s * ranks + r]: step-major
  out.dims = D;
  out.lower_bound = lower_bound;
  out.loads.assign(bins.size() * D, 0);
  if (!costs.empty()) out.costs.assign(bins.size(), 0.0);
  for (std::size_t b = 0; b < bins.size(); ++b) {
    if (!bins[b].empty()) ++out.used_bins;
    for (const index_type i : bins[b]) {
      for (std::size_t d = 0; d < D; ++d) out.loads[b * D + d] += sizes[i][d];
      if (!costs.empty()) out.costs[b] += costs[i];
    }
  }
  out.proven_optimal = out.used_bins <= out.lower_bound;
  std::vector<double> v(bins.size());
  for (std::size_t d = 0; d < D; ++d) {
    long double used = 0;
    for (std::size_t b = 0; b < bins.size(); ++b) {
      v[b] = static_cast<double>(out.loads[b * D + d]);
      used += static_cast<long double>(out.loads[b * D + d]);
    }
    out.dist.push_back(dist_ratio_of_loads(v, steps, ranks));
    out.pad.push_back(bins.empty() ? 0.0
                                   : static_cast<double>(1.0L - used / (static_cast<long double>(bins.size()) *
                                                                        static_cast<long double>(capacity[d]))));
  }
  if (!costs.empty()) out.cost_dist = dist_ratio_of_loads(out.costs, steps, ranks);
  return out;
}

/// pack_for_ranks on validated sizes (oversize items not yet handled).
template <std::size_t D>
[[nodiscard]] rank_packing pack_for_ranks_sized(std::vector<size_vector<D>> sizes, const size_vector<D>& capacity,
                                                std::size_t ranks, const rank_pack_options& opts,
                                                std::span<const cost_t> costs) {
  constexpr const char* where = "pack_for_ranks";
  // Oversize items (packing/detail/oversize.hpp, shared with pack()).
  const oversize_split split =
      split_oversize<D>(where, std::span<size_vector<D>>(sizes), capacity, opts.oversize_policy, true);
  const std::vector<index_type>& regular = split.regular;
  const std::vector<index_type>& own = split.own;
  // Lower bound on bins: L2 per dimension over the regular items, plus one per own bin.
  std::vector<size_vector<D>> compact;
  compact.reserve(regular.size());
  for (const index_type i : regular) compact.push_back(sizes[i]);
  const std::uint64_t lower_bound =
      std::max(multi_lower_bound<D>(compact, capacity), coupled_lower_bound<D>(compact, capacity)) + own.size();
  // 1. Fill bins.
  rank_state<D> st;
  st.sizes = sizes;
  st.capacity = capacity;
  st.costs = costs;
  st.ranks = ranks;
  const rank_fill_layout<D> layout = rank_fill_plan<D>(capacity);
  if (layout.applies) {
    st.bins = rank_fill<D>(compact, capacity, layout);
  } else {
    const multi_packing<D> p = multi_best_fit_decreasing<D>(compact, capacity);
    for (std::size_t b = 0; b < p.bins.size(); ++b) st.bins.emplace_back(p.bins[b].begin(), p.bins[b].end());
  }
  for (auto& b : st.bins)
    for (auto& i : b) i = regular[i];
  for (const index_type i : own) st.bins.push_back({i});
  // 2. Steps.
  const std::size_t used = st.bins.size();
  const std::size_t steps = (used + ranks - 1) / ranks;
  st.bins.resize(steps * ranks);
  rank_recompute(st);
  // Normalisers: capacities, or the mean bin cost.
  if (costs.empty()) {
    for (std::size_t d = 0; d < D; ++d) st.norm.push_back(static_cast<double>(capacity[d]));
  } else {
    double total = 0;
    for (const double c : st.cost_loads) total += c;
    st.norm.push_back(used > 0 && total > 0 ? total / static_cast<double>(used) : 1.0);
  }
  // 3. Deal sorted bins into steps; 4. balance each step.
  rank_order_bins(st);
  for (std::size_t s = 0; s < steps; ++s) rank_balance_step(st, s * ranks, opts.passes);
  // 5. Shuffle steps (a last step with empty bins stays last) and ranks inside each step.
  std::vector<std::vector<index_type>> bins(steps * ranks);
  std::vector<std::size_t> step_order(steps);
  std::iota(step_order.begin(), step_order.end(), std::size_t{0});
  rng gen(opts.seed);
  if (opts.shuffle && steps > 0) {
    const bool last_partial = used < steps * ranks;
    gen.shuffle(std::span<std::size_t>(step_order.data(), last_partial ? steps - 1 : steps));
  }
  std::vector<std::size_t> rank_order(ranks);
  for (std::size_t s = 0; s < steps; ++s) {
    std::iota(rank_order.begin(), rank_order.end(), std::size_t{0});
    const std::size_t from = step_order[s];
    // In the last step keep the empty bins at the end only if they are not shuffled apart: they
    // are legal on any rank, so shuffle there too.
    if (opts.shuffle) gen.shuffle(std::span<std::size_t>(rank_order));
    for (std::size_t r = 0; r < ranks; ++r) bins[s * ranks + r] = std::move(st.bins[from * ranks + rank_order[r]]);
  }
  return make_rank_packing<D>(bins, steps, ranks, std::span<const size_vector<D>>(sizes), capacity, costs,
                              lower_bound);
}

}  // namespace detail

/// Rank-aware packing (see file docs).
template <std::ranges::random_access_range R, class Capacity, class Cost = balance_sizes, class Proj = std::identity>
  requires std::ranges::sized_range<R> && std::regular_invocable<const Proj&, std::ranges::range_reference_t<R>> &&
           (std::same_as<Cost, balance_sizes> ||
            cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>)
[[nodiscard]] rank_packing pack_for_ranks(R&& items, Capacity capacity, std::size_t ranks, rank_pack_options opts = {},
                                          Cost cost = {}, Proj proj = {}) {
  constexpr const char* where = "pack_for_ranks";
  using projected = std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>;
  const auto n = static_cast<std::size_t>(std::ranges::size(items));
  detail::validate_parts(where, "ranks", ranks, n);  // 1..max_parts, before any allocation
  // Costs (only when a cost model is given): cost(proj(item)), as in balance().
  std::vector<cost_t> costs;
  if constexpr (!std::is_same_v<Cost, balance_sizes>) {
    costs = evaluate_costs(items, cost, proj, where);
    (void)detail::validate_costs(where, costs);  // finite sum (else cost_dist is NaN)
  }
  auto sizes_of = [&]<std::size_t D>(std::integral_constant<std::size_t, D>, auto&& size_at) {
    std::vector<size_vector<D>> sizes(n);
    auto it = std::ranges::begin(items);
    for (std::size_t i = 0; i < n; ++i, ++it) sizes[i] = size_at(i, *it);
    return sizes;
  };
  if constexpr (detail::is_std_array<projected>::value) {
    static_assert(detail::is_std_array<Capacity>::value,
                  "pack_for_ranks: multi-constraint sizes (std::array) need a std::array capacity of the same dimension");
    constexpr std::size_t D = std::tuple_size_v<projected>;
    static_assert(std::tuple_size_v<Capacity> == D, "pack_for_ranks: sizes and capacity have mismatched dimensions");
    size_vector<D> cap{};
    for (std::size_t d = 0; d < D; ++d) {
      cap[d] = detail::to_size(where, "capacity", d, capacity[d]);
      if (cap[d] == 0) throw invalid_input(detail::describe(where, "capacity", d, cap[d], "must be positive"));
    }
    auto sizes = sizes_of(std::integral_constant<std::size_t, D>{}, [&](std::size_t i, auto&& item) {
      const projected v = std::invoke(proj, item);
      size_vector<D> s{};
      for (std::size_t d = 0; d < D; ++d) s[d] = detail::to_size(where, "sizes[" + std::to_string(i) + "]", d, v[d]);
      return s;
    });
    return detail::pack_for_ranks_sized<D>(std::move(sizes), cap, ranks, opts, costs);
  } else {
    static_assert(std::is_arithmetic_v<projected> && !std::is_same_v<projected, bool>,
                  "pack_for_ranks: the projection must give an arithmetic size or a std::array of sizes");
    static_assert(std::is_arithmetic_v<Capacity> && !std::is_same_v<Capacity, bool>,
                  "pack_for_ranks: one-dimensional sizes need an arithmetic capacity");
    const size_vector<1> cap{detail::to_capacity(where, capacity)};
    auto sizes = sizes_of(std::integral_constant<std::size_t, 1>{}, [&](std::size_t i, auto&& item) {
      return size_vector<1>{detail::to_size(where, "sizes", i, std::invoke(proj, item))};
    });
    return detail::pack_for_ranks_sized<1>(std::move(sizes), cap, ranks, opts, costs);
  }
}

}  // namespace fulcrum
