// SPDX-License-Identifier: Apache-2.0
/// @file dispatch/detail/plan_impl.hpp
/// Definitions of the dispatch plan workers declared in dispatch/plan.hpp (split_ranks_into_steps,
/// lpt_planner's LPT): included by plan.hpp in header-only mode, compiled once into
/// fulcrum::compiled otherwise (src/comm.cpp).
#pragma once

#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/config.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/step_grid.hpp"
#include "fulcrum/dispatch/plan.hpp"

namespace fulcrum {

FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER step_grid split_ranks_into_steps(const grouping& per_rank, std::span<const cost_t> costs,
                                                std::size_t steps) {
  const std::size_t ranks = per_rank.size();
  if (steps == 0 && per_rank.item_count() > 0)
    throw invalid_input(
        detail::describe("split_ranks_into_steps", "steps", steps, "need at least one step for the items"));
  if (ranks != 0 && steps > std::numeric_limits<index_type>::max() / ranks)
    throw invalid_input(detail::describe("split_ranks_into_steps", "steps", steps, "steps * ranks exceeds index_type"));
  std::vector<std::vector<index_type>> bins(steps * ranks);
  std::vector<cost_t> local;
  for (std::size_t r = 0; r < ranks; ++r) {
    const auto items = per_rank[r];
    local.assign(items.size(), 0);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i] >= costs.size())
        throw invalid_input(detail::describe("split_ranks_into_steps", "index", items[i], "has no cost"));
      local[i] = costs[items[i]];
    }
    const auto step_of = lpt_assign(local, steps);
    for (std::size_t i = 0; i < items.size(); ++i) bins[step_of[i] * ranks + r].push_back(items[i]);
  }
  return step_grid(grouping::from_groups(bins), steps, ranks);  // bins[s * ranks + r]: step-major
}

namespace detail {

FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER step_grid lpt_step_grid(std::span<const cost_t> costs, std::size_t ranks, std::size_t micro_batches) {
  return step_grid(lpt(costs, ranks * micro_batches).parts, micro_batches, ranks);
}

}  // namespace detail

}  // namespace fulcrum
