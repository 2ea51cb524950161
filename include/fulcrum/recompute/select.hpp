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

#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/recompute/concepts.hpp"
#include "fulcrum/recompute/plan.hpp"

namespace fulcrum {

namespace detail {
/// select_recompute on lowered options (recompute/detail/select_impl.hpp, or fulcrum::compiled).
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER recompute_plan select_recompute_layers(const std::vector<std::vector<recompute_option>>& layers,
                                                      std::uint64_t memory_budget, const recompute_options& opts);
}  // namespace detail

/// Chooses one option per layer (see file docs). `layers`: a range of ranges of recompute_option.
template <recompute_layer_range R>
[[nodiscard]] recompute_plan select_recompute(R&& layers, std::uint64_t memory_budget, recompute_options opts = {}) {
  return detail::select_recompute_layers(detail::lower_layer_options(layers), memory_budget, opts);
}

}  // namespace fulcrum

#if !defined(FULCRUM_COMPILED)
#include "fulcrum/recompute/detail/select_impl.hpp"
#endif
