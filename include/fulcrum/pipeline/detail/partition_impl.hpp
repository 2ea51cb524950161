// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/detail/partition_impl.hpp
/// Definitions of the pipeline partition workers declared in pipeline/partition.hpp
/// (partition_stages_costs, evaluate_partition, uniform_boundaries): included by partition.hpp in
/// header-only mode, compiled once into fulcrum::compiled otherwise (src/pipeline.cpp).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/pipeline/detail/chain.hpp"
#include "fulcrum/pipeline/dp_partition.hpp"
#include "fulcrum/pipeline/exact_bisection.hpp"
#include "fulcrum/pipeline/nicol.hpp"
#include "fulcrum/pipeline/partition.hpp"
#include "fulcrum/pipeline/stage_partition.hpp"

namespace fulcrum {

namespace detail {

template <class = void>
inline stage_partition partition_chain(const chain& c, stage_algorithm algorithm) {
  switch (algorithm) {
    case stage_algorithm::nicol:
      return nicol_partition(c);
    case stage_algorithm::exact_bisection:
      return exact_bisection_partition(c);
    case stage_algorithm::dynamic_programming:
      return dp_partition(c);
    case stage_algorithm::automatic:
      break;
  }
  return c.homogeneous ? nicol_partition(c) : exact_bisection_partition(c);
}

FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER stage_partition partition_stages_costs(const std::vector<cost_t>& costs, std::size_t stages,
                                                      const pipeline_options& opts) {
  const auto c = make_chain("partition_stages", costs, stages, opts);
  return partition_chain(c, opts.algorithm);
}

}  // namespace detail

/// The stage costs and bottleneck of given boundaries under the same cost model (for comparing a
/// hand-made or uniform split with the optimum). Validates the boundaries.
FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER stage_partition evaluate_partition(std::span<const cost_t> layer_costs,
                                                  std::span<const std::size_t> boundaries,
                                                  const pipeline_options& opts) {
  constexpr std::string_view where = "evaluate_partition";
  if (boundaries.size() < 2)
    throw invalid_input(detail::describe(where, "boundaries.size()", boundaries.size(), "need at least 2"));
  const auto c = detail::make_chain(where, std::vector<cost_t>(layer_costs.begin(), layer_costs.end()),
                                    boundaries.size() - 1, opts);
  if (boundaries.front() != 0)
    throw invalid_input(detail::describe(where, "boundaries", 0, boundaries.front(), "must be 0"));
  if (boundaries.back() != c.n)
    throw invalid_input(detail::describe(where, "boundaries", boundaries.size() - 1, boundaries.back(),
                                         "must equal the number of layers"));
  for (std::size_t s = 0; s + 1 < boundaries.size(); ++s) {
    if (boundaries[s + 1] <= boundaries[s])
      throw invalid_input(
          detail::describe(where, "boundaries", s + 1, boundaries[s + 1], "stage would be empty (not increasing)"));
    if (!c.fits(s, boundaries[s], boundaries[s + 1]))
      throw infeasible(
          detail::describe(where, "stage_memory_cap", s, c.cap[s], "exceeded by the layers of this stage"));
  }
  return c.make(std::vector<std::size_t>(boundaries.begin(), boundaries.end()), false);
}

/// Boundaries of the uniform split by layer count (DeepSpeed's partition_uniform): the first
/// n mod p stages get one extra layer. Validates p (0 < p <= n).
FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER std::vector<std::size_t> uniform_boundaries(std::size_t layers, std::size_t stages) {
  if (stages == 0)
    throw invalid_input(detail::describe("uniform_boundaries", "stages", stages, "need at least one stage"));
  if (stages > layers)
    throw invalid_input(detail::describe("uniform_boundaries", "stages", stages, "more stages than layers"));
  std::vector<std::size_t> b(stages + 1, 0);
  for (std::size_t s = 0; s < stages; ++s) b[s + 1] = b[s] + layers / stages + (s < layers % stages ? 1 : 0);
  return b;
}

}  // namespace fulcrum
