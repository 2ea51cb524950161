// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/plan.hpp
/// Vocabulary of the 1F1B pipeline searches (contract): `pipeline_search_options` (p, m, device
/// memory, transfer time, tolerance, limits) and `pipeline_plan` (stages, recompute choice per
/// layer, per-stage times and memory, the simulated schedule, lower bound).
///
/// Used by `search_partition` (pipeline/search.hpp: without recompute; recompute/joint.hpp: with
/// per-layer recompute options), `joint_partition_recompute` and `evaluate_pipeline`
/// (recompute/joint.hpp). A plan found without recompute options has recompute_choice all 0 and
/// stage_recompute all 0. lower_bound is in the unit of the layer times (double).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "fulcrum/core/options.hpp"
#include "fulcrum/core/stats.hpp"
#include "fulcrum/pipeline/schedule.hpp"
#include "fulcrum/pipeline/stage_partition.hpp"

namespace fulcrum {

/// Default outer-search node budget of search_partition and joint_partition_recompute. Each node
/// costs O(w + p m) (w: the window of stage ends, at most n), so the default search is bounded by
/// about 10^5 x (w + p m) operations after the set-up: 0.1 to 1 s for 64 to 4096 layers. Raise it
/// (or set it to max) for a proof on large instances; the plan is deterministic either way.
inline constexpr std::uint64_t default_pipeline_search_nodes = 100'000;

/// Options of the pipeline searches (1F1B schedule).
struct pipeline_search_options {
  std::size_t stages = 1;                                                   ///< p
  std::size_t micro_batches = 1;                                            ///< m
  std::uint64_t device_memory = std::numeric_limits<std::uint64_t>::max();  ///< per device, same unit as the layers
  double p2p_time = 0;                                                      ///< one activation / gradient transfer
  /// search_partition: consider partitions whose plain bottleneck (forward + backward, no
  /// recompute) is at most (1 + tolerance) x the optimum. joint_partition_recompute ignores it.
  double bottleneck_tolerance = 0.05;
  /// nodes of the outer search (and wall time); default_pipeline_search_nodes by default
  search_limits limits{std::chrono::milliseconds::max(), default_pipeline_search_nodes};
};

/// A pipeline plan: stages, recompute per layer, per-stage times and memory, simulated schedule.
struct pipeline_plan {
  stage_partition partition;                  ///< boundaries; stage_costs / bottleneck = f + b with recompute
  std::vector<std::size_t> recompute_choice;  ///< per layer: index of its recompute option (0 without options)
  std::vector<double> stage_forward;          ///< per stage, one micro-batch
  std::vector<double> stage_backward;         ///< per stage, one micro-batch, recompute included
  std::vector<double> stage_recompute;        ///< per stage: recompute time per micro-batch
  std::vector<std::uint64_t> stage_memory;    ///< per stage: params + in-flight x kept activations
  schedule_result schedule;                   ///< simulated 1F1B iteration
  double iteration_time = 0;                  ///< schedule.iteration_time
  double lower_bound = 0;                     ///< no plan in the searched set is faster than this
  bool proven_optimal = false;                ///< iteration_time is the least over the searched set
  std::uint64_t nodes = 0;                    ///< outer search nodes visited

  /// (iteration_time - lower_bound) / lower_bound: 0 when proven optimal, never negative.
  [[nodiscard]] double gap() const noexcept { return result_gap(iteration_time, lower_bound, proven_optimal); }
  /// max/mean and friends over the stage costs (forward + backward, recompute included).
  [[nodiscard]] load_stats stats() const { return partition.stats(); }
};

}  // namespace fulcrum
