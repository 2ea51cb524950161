// SPDX-License-Identifier: Apache-2.0
/// @file dispatch/node_aware.hpp
/// `node_aware_planner`: the dispatcher's node-aware mode (OrchMLLM's node-wise exchange, done
/// with fulcrum's minimal-movement post-balancing). Instead of re-dispatching every sample from
/// scratch, it keeps samples where they are whenever the balance allows, and moves bytes between
/// nodes only when a node as a whole is overloaded: `post_balance` (balance/post_balance.hpp)
/// minimises bytes crossing nodes first, then bytes crossing ranks, with every rank's load within
/// (1 + tolerance) of a from-scratch LPT plan. Each rank's samples are then split into the
/// requested micro-batches by LPT (split_ranks_into_steps), giving the steps x ranks grid.
///
/// Use: `dispatch(comm, local, cost, opts, node_aware_planner{})` with
/// `opts.ranks_per_node` set (it overrides post_balance_options::ranks_per_node when non-zero).
/// Complexity and guarantee: those of post_balance, plus O(n log n) for the micro-batch split.
/// Deterministic (ties by index), so every rank computes the same plan.
#pragma once

#include "fulcrum/balance/post_balance.hpp"
#include "fulcrum/dispatch/plan.hpp"

namespace fulcrum {

struct node_aware_planner {
  post_balance_options options{};

  template <class Meta>
  [[nodiscard]] step_grid operator()(const planning_input<Meta>& in) const {
    auto o = options;
    if (in.ranks_per_node != 0) o.ranks_per_node = in.ranks_per_node;
    const partition per_rank = post_balance(in.costs, in.current_rank, in.bytes, in.ranks, o).plan;  // k = ranks parts
    return split_ranks_into_steps(per_rank.parts, in.costs, in.micro_batches);
  }
};

}  // namespace fulcrum
