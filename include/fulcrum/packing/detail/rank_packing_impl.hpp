// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/rank_packing_impl.hpp
/// Definition of pack_for_ranks()'s span-level worker `pack_for_ranks_sized<D>` (declared in
/// packing/rank_packing.hpp; templates only, so any TU may include it): included by rank_packing.hpp
/// in header-only mode, built once into fulcrum::compiled otherwise (src/pack.cpp, D = 1..8).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/core/step_grid.hpp"
#include "fulcrum/packing/detail/multi_impl.hpp"
#include "fulcrum/packing/detail/oversize.hpp"
#include "fulcrum/packing/detail/rank_bound.hpp"
#include "fulcrum/packing/detail/rank_fill.hpp"
#include "fulcrum/packing/detail/rank_steps.hpp"
#include "fulcrum/packing/multi.hpp"
#include "fulcrum/packing/rank_packing.hpp"

namespace fulcrum {

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
  return make_rank_packing<D>(bins, steps, ranks, std::span<const size_vector<D>>(sizes), capacity, costs, lower_bound);
}

}  // namespace detail

}  // namespace fulcrum
