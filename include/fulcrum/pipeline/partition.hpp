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
#include <type_traits>
#include <vector>

#include "fulcrum/concepts/cost_model.hpp"
#include "fulcrum/pipeline/detail/chain.hpp"
#include "fulcrum/pipeline/dp_partition.hpp"
#include "fulcrum/pipeline/exact_bisection.hpp"
#include "fulcrum/pipeline/nicol.hpp"
#include "fulcrum/pipeline/stage_partition.hpp"

namespace fulcrum {

namespace detail {
inline stage_partition partition_chain(const chain& c, stage_algorithm algorithm) {
  switch (algorithm) {
    case stage_algorithm::nicol: return nicol_partition(c);
    case stage_algorithm::exact_bisection: return exact_bisection_partition(c);
    case stage_algorithm::dynamic_programming: return dp_partition(c);
    case stage_algorithm::automatic: break;
  }
  return c.homogeneous ? nicol_partition(c) : exact_bisection_partition(c);
}
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
  const auto c = detail::make_chain("partition_stages", costs, stages, opts);
  return detail::partition_chain(c, opts.algorithm);
}

/// The stage costs and bottleneck of given boundaries under the same cost model (for comparing a
/// hand-made or uniform split with the optimum). Validates the boundaries.
[[nodiscard]] inline stage_partition evaluate_partition(std::span<const cost_t> layer_costs,
                                                        std::span<const std::size_t> boundaries,
                                                        const pipeline_options& opts = {}) {
  constexpr std::string_view where = "evaluate_partition";
  if (boundaries.size() < 2) throw invalid_input(detail::describe(where, "boundaries.size()", boundaries.size(), "need at least 2"));
  const auto c = detail::make_chain(where, std::vector<cost_t>(layer_costs.begin(), layer_costs.end()),
                                    boundaries.size() - 1, opts);
  if (boundaries.front() != 0) throw invalid_input(detail::describe(where, "boundaries", 0, boundaries.front(), "must be 0"));
  if (boundaries.back() != c.n)
    throw invalid_input(detail::describe(where, "boundaries", boundaries.size() - 1, boundaries.back(), "must equal the number of layers"));
  for (std::size_t s = 0; s + 1 < boundaries.size(); ++s) {
    if (boundaries[s + 1] <= boundaries[s])
      throw invalid_input(detail::describe(where, "boundaries", s + 1, boundaries[s + 1], "stage would be empty (not increasing)"));
    if (!c.fits(s, boundaries[s], boundaries[s + 1]))
      throw infeasible(detail::describe(where, "stage_memory_cap", s, c.cap[s], "exceeded by the layers of this stage"));
  }
  return c.make(std::vector<std::size_t>(boundaries.begin(), boundaries.end()), false);
}

/// Boundaries of the uniform split by layer count (DeepSpeed's partition_uniform): the first
/// n mod p stages get one extra layer. Validates p (0 < p <= n).
[[nodiscard]] inline std::vector<std::size_t> uniform_boundaries(std::size_t layers, std::size_t stages) {
  if (stages == 0) throw invalid_input(detail::describe("uniform_boundaries", "stages", stages, "need at least one stage"));
  if (stages > layers)
    throw invalid_input(detail::describe("uniform_boundaries", "stages", stages, "more stages than layers"));
  std::vector<std::size_t> b(stages + 1, 0);
  for (std::size_t s = 0; s < stages; ++s) b[s + 1] = b[s] + layers / stages + (s < layers % stages ? 1 : 0);
  return b;
}

}  // namespace fulcrum
