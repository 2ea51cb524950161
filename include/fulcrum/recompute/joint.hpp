// SPDX-License-Identifier: Apache-2.0
/// @file recompute/joint.hpp
/// Joint stage partition and per-stage recompute (AdaPipe-style two-level search): choose the
/// stage boundaries and one recompute option per layer together, minimising the simulated 1F1B
/// iteration time under the per-device memory (params + min(m, p - s) x kept activations of
/// stage s <= device_memory).
///
/// Level 1: for every candidate stage, the least recompute that fits (exact multiple-choice
/// knapsack, Pareto-frontier DP shared by all stages with the same first layer).
/// Level 2: exact branch and bound over partitions, bounded by longest-path bounds of the 1F1B
/// schedule and a suffix DP of the least bottleneck; leaves are simulated.
/// (pipeline/detail/stage_search.hpp has the bounds and the proof sketch.)
/// Complexity: set-up O(sum over candidate stages of F K) with F <= least_recompute::max_frontier
/// (256) frontier states, capped at stage_search_engine::setup_work (2^24) units by restricting
/// boundaries to a stride; then at most limits.nodes (default 10^5) outer nodes (130 layers, 8
/// stages, 3 options: well under a second; 4096 layers: about 0.1 s, see bench/bench_growth.cpp).
/// Guarantee: the least simulated iteration time over all partitions and recompute choices (up to
/// a relative 1e-9), proven_optimal = true, unless `limits` stop the search, a frontier was thinned
/// or the stride applies (then a valid plan and a lower bound that holds for every plan). Errors: bad sizes, negative / NaN times, p > n, p == 0,
/// m == 0 -> invalid_input; nothing fits -> infeasible naming device_memory.
///
/// `search_partition(layers, layer_options, opts)` is the OmniBal-style balanced search of
/// pipeline/search.hpp (same outer search, restricted to partitions whose plain bottleneck is
/// within opts.bottleneck_tolerance of the optimum) with recompute: each stage uses the least
/// recompute that fits. Errors as above; nothing in the window fits -> infeasible naming
/// bottleneck_tolerance. This header includes pipeline/search.hpp, so both overloads are visible.
///
/// `layer_options` (every function here): a recompute_layer_range, one list of options per
/// layer (e.g. keep all / selective / full); a flat list is rejected at compile time.
///
/// `evaluate_pipeline` prices a given partition the same way (least recompute per stage, then the
/// simulator): use it to compare a uniform or hand-made split with the search results.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/pipeline/plan.hpp"
#include "fulcrum/pipeline/profile.hpp"
#include "fulcrum/pipeline/search.hpp"
#include "fulcrum/recompute/concepts.hpp"
#include "fulcrum/recompute/plan.hpp"

namespace fulcrum {

namespace detail {
/// The workers behind the front doors below, on lowered options (recompute/detail/joint_impl.hpp,
/// or fulcrum::compiled).
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER pipeline_plan joint_partition_recompute_layers(std::span<const pipeline_layer> layers,
                                                              const std::vector<std::vector<recompute_option>>& options,
                                                              const pipeline_search_options& opts);
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER pipeline_plan search_partition_layers(std::span<const pipeline_layer> layers,
                                                     const std::vector<std::vector<recompute_option>>& options,
                                                     const pipeline_search_options& opts);
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER pipeline_plan evaluate_pipeline_layers(std::span<const pipeline_layer> layers,
                                                      const std::vector<std::vector<recompute_option>>& options,
                                                      std::span<const std::size_t> boundaries,
                                                      pipeline_search_options opts);
}  // namespace detail

/// Joint search (see file docs): the least simulated iteration time over all partitions and
/// recompute choices.
template <recompute_layer_range R>
[[nodiscard]] pipeline_plan joint_partition_recompute(std::span<const pipeline_layer> layers, R&& layer_options,
                                                      const pipeline_search_options& opts) {
  return detail::joint_partition_recompute_layers(layers, detail::lower_layer_options(layer_options), opts);
}

/// OmniBal-style balanced search with per-layer recompute options (see file docs).
template <recompute_layer_range R>
[[nodiscard]] pipeline_plan search_partition(std::span<const pipeline_layer> layers, R&& layer_options,
                                             const pipeline_search_options& opts) {
  return detail::search_partition_layers(layers, detail::lower_layer_options(layer_options), opts);
}

/// A given partition (boundaries: p + 1 entries from 0 to n, increasing), each stage with its
/// least recompute, simulated. Throws infeasible naming a stage that cannot fit.
template <recompute_layer_range R>
[[nodiscard]] pipeline_plan evaluate_pipeline(std::span<const pipeline_layer> layers, R&& layer_options,
                                              std::span<const std::size_t> boundaries, pipeline_search_options opts) {
  return detail::evaluate_pipeline_layers(layers, detail::lower_layer_options(layer_options), boundaries, opts);
}

}  // namespace fulcrum

#if !defined(FULCRUM_COMPILED)
#include "fulcrum/recompute/detail/joint_impl.hpp"
#endif
