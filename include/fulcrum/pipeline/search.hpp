// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/search.hpp
/// Balanced partition search (OmniBal's "model balance" search, made exact): among the stage
/// partitions whose plain bottleneck (forward + backward, no recompute) is within
/// `bottleneck_tolerance` of the optimum, find the one with the least simulated 1F1B iteration
/// time, each stage using the least recompute that fits its device memory
/// (params + min(m, p - s) x kept activations <= device_memory).
///
/// Why: partitions with the same bottleneck differ in iteration time (the warm-up and drain of
/// 1F1B weigh every stage, and early stages hold more micro-batches so need more recompute);
/// OmniBal samples such near-balanced partitions and profiles them. Here the set is searched
/// exhaustively by branch and bound against the simulator (see recompute/detail/joint_engine.hpp).
/// Complexity: O(n^2 (p + F K)) set-up (F recompute frontier states, K options per layer), then
/// the outer search; the tolerance window keeps it small. Guarantee: optimal over the window
/// (proven_optimal = true) unless `limits` stop the search (then the best plan found and a
/// lower bound). Errors: as partition_stages; nothing in the window fits -> infeasible.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "fulcrum/pipeline/partition.hpp"
#include "fulcrum/pipeline/profile.hpp"
#include "fulcrum/recompute/detail/joint_engine.hpp"

namespace fulcrum {

/// OmniBal-style search with per-layer recompute options (range of ranges of recompute_option,
/// one per layer; see file docs).
template <class R>
[[nodiscard]] pipeline_plan search_partition(std::span<const pipeline_layer> layers, R&& recompute_options,
                                             const pipeline_search_options& opts) {
  constexpr std::string_view where = "search_partition";
  auto in = detail::make_joint_input(where, layers, recompute_options, true);
  detail::validate_search_options(where, opts, in.layers.size());
  const auto best = partition_stages(layers, opts.stages, {}, &pipeline_layer::time);
  const double cap = best.bottleneck * (1.0 + opts.bottleneck_tolerance) * (1.0 + 1e-12);
  detail::joint_engine engine(where, std::move(in), opts, cap);
  try {
    return engine.solve();
  } catch (const infeasible&) {
    throw infeasible(detail::describe(where, "bottleneck_tolerance", opts.bottleneck_tolerance,
                                      "no partition within this tolerance of the optimal bottleneck fits device_memory = " +
                                          std::to_string(opts.device_memory) + " (raise the tolerance or the memory)"));
  }
}

/// The same without recompute: every layer keeps its activation_memory.
[[nodiscard]] inline pipeline_plan search_partition(std::span<const pipeline_layer> layers, const pipeline_search_options& opts) {
  return search_partition(layers, std::vector<std::vector<recompute_option>>{}, opts);
}

}  // namespace fulcrum
