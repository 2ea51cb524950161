// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/partition.hpp
/// `partition_stages`: the front door of exact pipeline stage partitioning (contract).
///
/// What: split n layers (costs in order) into p contiguous, non-empty stages minimising the
/// bottleneck (largest stage cost), with optional per-stage speed, fixed cost (embedding on the
/// first stage, head and loss on the last) and memory cap (see stage_partition.hpp for the cost
/// formula). `automatic` runs Nicol's search when the stages are homogeneous and the exact
/// bisection otherwise; both are exact.
/// Complexity: O(n + (p log n)^2) (nicol), O(n log n + probes * p log n) (exact_bisection),
/// O(n^2 p) (dynamic_programming).
/// Guarantee: the bottleneck is optimal (proven_optimal = true); no stage is ever empty.
/// Errors: p == 0, p > n, n == 0, negative / NaN / infinite costs, bad option sizes ->
/// invalid_input naming field, index and value; a memory cap no assignment meets -> infeasible
/// naming the stage.
#pragma once

#include <cstddef>
#include <functional>
#include <ranges>
#include <span>
#include <type_traits>
#include <vector>

#include "fulcrum/concepts/cost_model.hpp"
#include "fulcrum/config.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/pipeline/stage_partition.hpp"

namespace fulcrum {

namespace detail {
/// partition_stages on evaluated costs (pipeline/detail/partition_impl.hpp, or fulcrum::compiled).
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER stage_partition partition_stages_costs(const std::vector<cost_t>& costs, std::size_t stages,
                                                      const pipeline_options& opts);
}  // namespace detail

/// Exact minimum-bottleneck partition of `layer_costs` (any sized input range; each element,
/// after `proj`, an arithmetic cost) into `stages` contiguous, non-empty stages.
template <std::ranges::input_range R, class Proj = std::identity>
  requires std::ranges::sized_range<R> &&
           arithmetic<std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] stage_partition partition_stages(R&& layer_costs, std::size_t stages, pipeline_options opts = {},
                                               Proj proj = {}) {
  std::vector<cost_t> costs;
  costs.reserve(static_cast<std::size_t>(std::ranges::size(layer_costs)));
  std::size_t i = 0;
  for (auto&& x : layer_costs) {
    const auto v = std::invoke(proj, x);
    if constexpr (std::is_floating_point_v<std::remove_cvref_t<decltype(v)>>)
      detail::require_non_negative("partition_stages", "layer_costs", i, v);
    else if constexpr (std::is_signed_v<std::remove_cvref_t<decltype(v)>>)
      detail::require_non_negative("partition_stages", "layer_costs", i, v);
    costs.push_back(static_cast<cost_t>(v));
    ++i;
  }
  return detail::partition_stages_costs(costs, stages, opts);
}

/// The stage costs and bottleneck of given boundaries under the same cost model (for comparing a
/// hand-made or uniform split with the optimum). Validates the boundaries.
FULCRUM_WORKER_TEMPLATE
[[nodiscard]] FULCRUM_WORKER stage_partition evaluate_partition(std::span<const cost_t> layer_costs,
                                                                std::span<const std::size_t> boundaries,
                                                                const pipeline_options& opts = {});

/// Boundaries of the uniform split by layer count (DeepSpeed's partition_uniform): the first
/// n mod p stages get one extra layer. Validates p (0 < p <= n).
FULCRUM_WORKER_TEMPLATE
[[nodiscard]] FULCRUM_WORKER std::vector<std::size_t> uniform_boundaries(std::size_t layers, std::size_t stages);

}  // namespace fulcrum

#if !defined(FULCRUM_COMPILED)
#include "fulcrum/pipeline/detail/partition_impl.hpp"
#endif
