// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/rank_packing_impl.hpp
/// Definition of pack_for_ranks()'s span-level worker `pack_for_ranks_into<D>` (declared in
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
#include "fulcrum/packing/bounds.hpp"
#include "fulcrum/packing/detail/multi_impl.hpp"
#include "fulcrum/packing/detail/oversize.hpp"
#include "fulcrum/packing/detail/rank_bound.hpp"
#include "fulcrum/packing/detail/rank_fill.hpp"
#include "fulcrum/packing/detail/rank_steps.hpp"
#include "fulcrum/packing/detail/rank_workspace.hpp"
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

/// pack_for_ranks on the validated sizes and costs held by a workspace (oversize items not yet
/// handled), the plan written into `out` (every field reset). Allocation-free once the workspace
/// and `out` have grown, except on the multi_best_fit_decreasing fallback (see the file docs of
/// packing/rank_packing.hpp).
template <std::size_t D>
void pack_for_ranks_into(rank_workspace<D>& w, rank_packing& out, const size_vector<D>& capacity, std::size_t ranks,
                         const rank_pack_options& opts) {
  constexpr const char* where = "pack_for_ranks";
  const std::span<const cost_t> costs(w.costs);
  // Oversize items (packing/detail/oversize.hpp, shared with pack()).
  split_oversize_into<D>(where, std::span<size_vector<D>>(w.sizes), capacity, opts.oversize_policy, true, w.split);
  const std::vector<index_type>& regular = w.split.regular;
  const std::vector<index_type>& own = w.split.own;
  const std::span<const size_vector<D>> sizes(w.sizes);
  // Lower bound on bins: L2 per dimension over the regular items, plus one per own bin.
  w.compact.clear();
  for (const index_type i : regular) w.compact.push_back(sizes[i]);
  const std::span<const size_vector<D>> compact(w.compact);
  std::uint64_t l2 = 0;
  for (std::size_t d = 0; d < D; ++d)
    l2 = std::max(l2, lower_bound_l2_fn(
                          compact.size(), [&](std::size_t i) { return compact[i][d]; }, capacity[d], w.bound_scratch));
  const std::uint64_t lower_bound =
      std::max(l2, coupled_lower_bound<D>(compact, capacity, w.bound_scratch)) + own.size();
  // 1. Fill bins.
  std::size_t used = 0;
  const rank_fill_layout<D> layout = rank_fill_plan<D>(capacity);
  if (layout.applies) {
    used = rank_fill_into<D>(compact, capacity, layout, w.fill, w.filled);
  } else {
    const multi_packing<D> p = multi_best_fit_decreasing<D>(compact, capacity);
    for (; used < p.bins.size(); ++used) {
      if (used == w.filled.size()) w.filled.emplace_back();
      w.filled[used].assign(p.bins[used].begin(), p.bins[used].end());
    }
  }
  for (std::size_t b = 0; b < used; ++b)
    for (auto& i : w.filled[b]) i = regular[i];
  for (const index_type i : own) {
    if (used == w.filled.size()) w.filled.emplace_back();
    w.filled[used++].assign(1, i);
  }
  // 2. Steps: used bins padded with empty ones to steps * ranks.
  const std::size_t steps = (used + ranks - 1) / ranks;
  const std::size_t total = steps * ranks;
  w.filled_loads.assign(total, size_vector<D>{});
  w.filled_costs.assign(total, 0.0);
  w.first_item.assign(total, static_cast<index_type>(-1));
  for (std::size_t b = 0; b < used; ++b)
    for (const index_type i : w.filled[b]) {
      for (std::size_t d = 0; d < D; ++d) w.filled_loads[b][d] += sizes[i][d];
      if (!costs.empty()) w.filled_costs[b] += costs[i];
      w.first_item[b] = std::min(w.first_item[b], i);
    }
  rank_state<D>& st = w.st;
  st.sizes = sizes;
  st.capacity = capacity;
  st.costs = costs;
  st.ranks = ranks;
  // Normalisers: capacities, or the mean bin cost.
  st.norm.clear();
  if (costs.empty()) {
    for (std::size_t d = 0; d < D; ++d) st.norm.push_back(static_cast<double>(capacity[d]));
  } else {
    double sum = 0;
    for (std::size_t b = 0; b < total; ++b) sum += w.filled_costs[b];
    st.norm.push_back(used > 0 && sum > 0 ? sum / static_cast<double>(used) : 1.0);
  }
  // 3. Deal sorted bins into steps (the order of rank_order_bins); 4. balance each step.
  std::array<std::size_t, D> dims{};
  std::iota(dims.begin(), dims.end(), std::size_t{0});
  // Stable insertion sort by capacity (std::stable_sort would allocate a buffer).
  for (std::size_t x = 1; x < D; ++x)
    for (std::size_t y = x; y > 0 && capacity[dims[y]] < capacity[dims[y - 1]]; --y) std::swap(dims[y], dims[y - 1]);
  auto empty_bin = [&](std::size_t b) { return b >= used || w.filled[b].empty(); };
  w.order.resize(total);
  std::iota(w.order.begin(), w.order.end(), std::size_t{0});
  std::sort(w.order.begin(), w.order.end(), [&](std::size_t a, std::size_t b) {
    const bool ea = empty_bin(a), eb = empty_bin(b);
    if (ea != eb) return eb;
    if (!costs.empty() && w.filled_costs[a] != w.filled_costs[b]) return w.filled_costs[a] > w.filled_costs[b];
    for (const std::size_t d : dims)
      if (w.filled_loads[a][d] != w.filled_loads[b][d]) return w.filled_loads[a][d] > w.filled_loads[b][d];
    if (w.first_item[a] != w.first_item[b]) return w.first_item[a] < w.first_item[b];
    return a < b;
  });
  if (st.bins.size() < total) st.bins.resize(total);
  st.loads.resize(total);
  st.cost_loads.resize(total);
  for (std::size_t k = 0; k < total; ++k) {
    const std::size_t from = w.order[k];
    if (from < used)
      st.bins[k].assign(w.filled[from].begin(), w.filled[from].end());
    else
      st.bins[k].clear();
    st.loads[k] = w.filled_loads[from];
    st.cost_loads[k] = w.filled_costs[from];
  }
  for (std::size_t s = 0; s < steps; ++s) rank_balance_step(st, s * ranks, opts.passes, w.step);
  // 5. Shuffle steps (a last step with empty bins stays last) and ranks inside each step.
  w.step_order.resize(steps);
  std::iota(w.step_order.begin(), w.step_order.end(), std::size_t{0});
  rng gen(opts.seed);
  if (opts.shuffle && steps > 0) {
    const bool last_partial = used < total;
    gen.shuffle(std::span<std::size_t>(w.step_order.data(), last_partial ? steps - 1 : steps));
  }
  w.rank_order.resize(ranks);
  w.offsets.assign(1, 0);
  w.indices.clear();
  for (std::size_t s = 0; s < steps; ++s) {
    std::iota(w.rank_order.begin(), w.rank_order.end(), std::size_t{0});
    const std::size_t from = w.step_order[s];
    // Empty bins of the last step are legal on any rank, so the ranks are shuffled there too.
    if (opts.shuffle) gen.shuffle(std::span<std::size_t>(w.rank_order));
    for (std::size_t r = 0; r < ranks; ++r) {
      const auto& bin = st.bins[from * ranks + w.rank_order[r]];
      const auto begin = static_cast<std::ptrdiff_t>(w.indices.size());
      w.indices.insert(w.indices.end(), bin.begin(), bin.end());
      std::sort(w.indices.begin() + begin, w.indices.end());
      w.offsets.push_back(w.indices.size());
    }
  }
  // The result (as make_rank_packing): loads, metrics, bound.
  out.bins.assign(w.offsets, w.indices, steps, ranks);
  out.dims = D;
  out.lower_bound = lower_bound;
  out.used_bins = 0;
  out.loads.assign(total * D, 0);
  if (costs.empty())
    out.costs.clear();
  else
    out.costs.assign(total, 0.0);
  for (std::size_t b = 0; b < total; ++b) {
    if (w.offsets[b + 1] > w.offsets[b]) ++out.used_bins;
    for (std::size_t p = w.offsets[b]; p < w.offsets[b + 1]; ++p) {
      const index_type i = w.indices[p];
      for (std::size_t d = 0; d < D; ++d) out.loads[b * D + d] += sizes[i][d];
      if (!costs.empty()) out.costs[b] += costs[i];
    }
  }
  out.proven_optimal = out.used_bins <= out.lower_bound;
  out.dist.clear();
  out.pad.clear();
  w.values.resize(total);
  for (std::size_t d = 0; d < D; ++d) {
    long double used_sum = 0;
    for (std::size_t b = 0; b < total; ++b) {
      w.values[b] = static_cast<double>(out.loads[b * D + d]);
      used_sum += static_cast<long double>(out.loads[b * D + d]);
    }
    out.dist.push_back(dist_ratio_of_loads(w.values, steps, ranks));
    out.pad.push_back(total == 0 ? 0.0
                                 : static_cast<double>(1.0L - used_sum / (static_cast<long double>(total) *
                                                                          static_cast<long double>(capacity[d]))));
  }
  out.cost_dist = costs.empty() ? 0.0 : dist_ratio_of_loads(out.costs, steps, ranks);
}

}  // namespace detail

}  // namespace fulcrum
