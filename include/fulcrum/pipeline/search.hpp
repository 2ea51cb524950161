// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/search.hpp
/// Balanced partition search (OmniBal's "model balance" search, made exact) without recompute:
/// among the stage partitions whose plain bottleneck (forward + backward) is within
/// `bottleneck_tolerance` of the optimum, find the one with the least simulated 1F1B iteration
/// time whose stages fit their device memory keeping every activation
/// (params + min(m, p - s) x activation_memory <= device_memory).
///
/// Why: partitions with the same bottleneck differ in iteration time (the warm-up and drain of
/// 1F1B weigh every stage, and early stages hold more micro-batches so need more memory);
/// OmniBal samples such near-balanced partitions and profiles them. Here the set is searched
/// exhaustively by branch and bound against the simulator (see pipeline/detail/stage_search.hpp).
/// The overload with per-layer recompute options (each stage then uses the least recompute that
/// fits) is in recompute/joint.hpp: pipeline/ does not depend on recompute/.
/// Complexity (default options, worst case): O(n + p) for the window's bands, a set-up of at most
/// stage_search_engine::setup_work (2^24) inner steps (stage starts and ends the window allows;
/// beyond that budget boundaries are restricted to a stride), then at most limits.nodes
/// (default_pipeline_search_nodes = 10^5) outer nodes of O(w + p m) each (w: stage ends per start).
/// Measured: 256 to 4096 layers, 8 stages, 16 micro-batches: 0.01 to 0.1 s (bench/bench_growth.cpp).
/// Guarantee: optimal over the window (proven_optimal = true) unless `limits` stop the search or
/// the stride applies (then the best plan found and a lower bound that holds for every plan: the
/// least open node's bound, or the plain-work relaxation). recompute_choice and stage_recompute are all 0.
/// Errors: as partition_stages (no layers, negative / NaN times, p == 0, p > n, m == 0 ->
/// invalid_input); nothing in the window fits -> infeasible naming bottleneck_tolerance.
#pragma once

#include <span>

#include "fulcrum/config.hpp"
#include "fulcrum/pipeline/partition.hpp"
#include "fulcrum/pipeline/plan.hpp"
#include "fulcrum/pipeline/profile.hpp"

namespace fulcrum {

/// OmniBal-style search without recompute: every layer keeps its activation_memory (see file docs).
/// Defined in pipeline/detail/search_impl.hpp (header-only) or in fulcrum::compiled.
FULCRUM_WORKER_TEMPLATE
[[nodiscard]] FULCRUM_WORKER pipeline_plan search_partition(std::span<const pipeline_layer> layers,
                                                            const pipeline_search_options& opts);

}  // namespace fulcrum

#if !defined(FULCRUM_COMPILED)
#include "fulcrum/pipeline/detail/search_impl.hpp"
#endif
