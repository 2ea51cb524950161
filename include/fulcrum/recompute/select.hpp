// SPDX-License-Identifier: Apache-2.0
/// @file recompute/select.hpp
/// `select_recompute`: the front door of memory-budgeted recompute selection (contract).
///
/// What: per layer a list of options {memory kept, time added}; pick one per layer so that the
/// total memory kept is <= memory_budget and the total time added is least (a multiple-choice
/// knapsack). `automatic` runs the exact Pareto-frontier DP (frontier_dp.hpp) and, if it would
/// need more than `limits.nodes` states, the exact anytime branch and bound
/// (branch_and_bound.hpp); `greedy` is the convex-hull baseline (greedy.hpp).
/// Guarantee: exact unless a limit is hit (then proven_optimal = false and lower_bound is the LP
/// bound). Deterministic: same input, same plan.
/// Worst case with the default options (limits.nodes = 100'000 states for the DP, then 100'000
/// nodes for branch and bound): O(N K log(N K) + 10^5 (H + K)) for N layers, K options per layer,
/// H <= N K hull steps; about 1 s for 2000 layers x 3 options with irregular memories. Raise
/// limits.nodes for a proof of optimality on large irregular instances.
/// Errors: no layers, a layer with no options, negative / NaN / infinite time -> invalid_input
/// naming the layer and option; budget below the least memory any plan keeps -> infeasible
/// naming the budget and that minimum.
#pragma once

#include <cstdint>

#include "fulcrum/recompute/branch_and_bound.hpp"
#include "fulcrum/recompute/concepts.hpp"
#include "fulcrum/recompute/detail/instance.hpp"
#include "fulcrum/recompute/frontier_dp.hpp"
#include "fulcrum/recompute/greedy.hpp"
#include "fulcrum/recompute/plan.hpp"

namespace fulcrum {

namespace detail {
inline recompute_plan select_recompute(const recompute_instance& in, const recompute_options& opts) {
  switch (opts.algorithm) {
    case recompute_algorithm::greedy: return greedy_recompute(in).plan;
    case recompute_algorithm::branch_and_bound: return recompute_bnb(in, opts.limits).solve();
    case recompute_algorithm::dynamic_programming:
      if (auto p = frontier_dp_recompute(in, opts.limits.nodes)) return *p;
      return greedy_recompute(in).plan;
    case recompute_algorithm::automatic: break;
  }
  if (auto p = frontier_dp_recompute(in, opts.limits.nodes)) return *p;
  return recompute_bnb(in, opts.limits).solve();
}
}  // namespace detail

/// Chooses one option per layer (see file docs). `layers`: a range of ranges of recompute_option.
template <recompute_layer_range R>
[[nodiscard]] recompute_plan select_recompute(R&& layers, std::uint64_t memory_budget, recompute_options opts = {}) {
  const auto in = detail::make_recompute_instance("select_recompute", layers, memory_budget);
  return detail::select_recompute(in, opts);
}

}  // namespace fulcrum
