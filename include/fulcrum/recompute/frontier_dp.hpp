// SPDX-License-Identifier: Apache-2.0
/// @file recompute/frontier_dp.hpp
/// Exact recompute selection by dynamic programming over the Pareto frontier of
/// (memory kept, time added): the multiple-choice knapsack DP on memory, kept sparse.
///
/// What: after layer l the DP holds, for every memory total m reachable by layers 0..l, the
/// least time with exactly that memory, and drops every state another state beats on both
/// memory and time (dominated) or that cannot be completed within the budget (m plus the least
/// memory of the remaining layers > budget).
/// Proof of exactness: memory and time are additive over layers and the budget only bounds the
/// memory, so a dominated partial plan completed in any way is beaten by the dominating one
/// completed the same way. Nothing is rounded or scaled: memories stay exact integers.
/// Complexity: O(sum_l K_l F log F) time and O(n F) memory for F frontier states; F is at most
/// min(budget / g + 1, product of option counts), g the gcd of the memories (for memories in
/// MiB of a few hundred per layer, F is a few thousand).
/// Guarantee: exact (proven_optimal = true) unless more than `limits.nodes` states are needed, in
/// which case it reports failure and the caller falls back (select_recompute: branch and bound).
/// Ties: least time, then least memory, then the order options are listed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "fulcrum/core/detail/chrono.hpp"
#include "fulcrum/core/wide_int.hpp"
#include "fulcrum/recompute/concepts.hpp"
#include "fulcrum/recompute/detail/instance.hpp"
#include "fulcrum/recompute/greedy.hpp"
#include "fulcrum/recompute/plan.hpp"

namespace fulcrum {
namespace detail {

struct frontier_state {
  std::uint64_t memory;
  double time;
  std::uint32_t parent;  ///< index in the previous layer's frontier
  std::uint32_t option;
};

/// Extends a frontier by one layer (options `opts`), keeping states with memory <= cap.
/// Returns the new frontier: memory ascending, time strictly descending.
template <class = void>
inline std::vector<frontier_state> extend_frontier(const std::vector<frontier_state>& prev,
                                                   const std::vector<recompute_option>& opts, std::uint64_t cap) {
  std::vector<frontier_state> cand;
  cand.reserve(prev.size() * opts.size());
  const auto by_memory_time = [](const frontier_state& a, const frontier_state& b) {
    return a.memory != b.memory ? a.memory < b.memory : a.time < b.time;
  };
  for (std::size_t k = 0; k < opts.size(); ++k) {
    const auto run = static_cast<std::ptrdiff_t>(cand.size());
    for (std::size_t i = 0; i < prev.size(); ++i) {  // prev is sorted by memory: so is this run
      std::uint64_t m = 0;
      if (add_overflow(prev[i].memory, opts[k].memory, m) || m > cap) break;
      cand.push_back({m, prev[i].time + opts[k].time, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(k)});
    }
    // stable merge of the sorted runs (same order as a stable sort of the concatenation)
    std::inplace_merge(cand.begin(), cand.begin() + run, cand.end(), by_memory_time);
  }
  std::vector<frontier_state> out;
  out.reserve(cand.size());
  for (const auto& s : cand)
    if (out.empty() || s.time < out.back().time) out.push_back(s);
  return out;
}

/// Exact DP; nullopt when the frontier would exceed `max_states` states in total.
template <class = void>
inline std::optional<recompute_plan> frontier_dp_recompute(const recompute_instance& in, std::uint64_t max_states) {
  const std::size_t n = in.options.size();
  std::vector<std::uint64_t> rest_min(n + 1, 0);  // least memory of layers l..n-1
  for (std::size_t l = n; l-- > 0;) {
    std::uint64_t lo = in.options[l][0].memory;
    for (const auto& o : in.options[l]) lo = std::min(lo, o.memory);
    rest_min[l] = rest_min[l + 1] + lo;  // <= min_memory: no overflow
  }
  std::vector<std::vector<frontier_state>> levels;
  levels.reserve(n + 1);
  levels.push_back({{0, 0.0, 0, 0}});
  std::uint64_t states = 1;
  for (std::size_t l = 0; l < n; ++l) {
    levels.push_back(extend_frontier(levels.back(), in.options[l], in.budget - rest_min[l + 1]));
    states += levels.back().size();
    if (states > max_states) return std::nullopt;
  }
  // the last state has the least time (frontier: time strictly descending with memory)
  std::vector<std::size_t> choice(n);
  std::size_t at = levels[n].size() - 1;
  for (std::size_t l = n; l-- > 0;) {
    const auto& s = levels[l + 1][at];
    choice[l] = s.option;
    at = s.parent;
  }
  auto plan = evaluate_choice(in, std::move(choice));
  plan.proven_optimal = true;
  plan.lower_bound = plan.time;
  return plan;
}

}  // namespace detail

/// Exact Pareto-frontier DP (see file docs). Throws `infeasible` if the budget is below the
/// minimum memory; returns proven_optimal = false with the greedy plan if the state limit is hit.
template <recompute_layer_range R>
[[nodiscard]] recompute_plan frontier_dp_recompute(R&& layers, std::uint64_t memory_budget,
                                                   search_limits limits = {std::chrono::milliseconds::max(),
                                                                           default_recompute_nodes}) {
  const auto in = detail::make_recompute_instance("select_recompute(dynamic_programming)", layers, memory_budget);
  if (auto p = detail::frontier_dp_recompute(in, limits.nodes)) return *p;
  return detail::greedy_recompute(in).plan;
}

}  // namespace fulcrum
