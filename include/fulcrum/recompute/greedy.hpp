// SPDX-License-Identifier: Apache-2.0
/// @file recompute/greedy.hpp
/// Greedy recompute selection (the baseline; what PyTorch's memory-budget knapsack calls
/// "greedy by runtime per byte").
///
/// What: start every layer at its fastest option; walk the steps of every layer's lower convex
/// hull (from more memory to less) in order of added time per unit of memory saved, globally,
/// and take them until the memory fits the budget.
/// Complexity: O(K log K) for K options in all. Guarantee: feasible whenever the budget is at
/// least the minimum memory; stops at the first fitting plan, so its time exceeds the optimum by
/// at most the added time of its last step (the LP bound, reported as lower_bound, shows the gap).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fulcrum/core/wide_int.hpp"
#include "fulcrum/recompute/concepts.hpp"
#include "fulcrum/recompute/detail/instance.hpp"
#include "fulcrum/recompute/plan.hpp"

namespace fulcrum {
namespace detail {

/// Greedy plan plus the LP-relaxation lower bound of the instance (optionally restricted to
/// layers >= first with a given budget: used by branch and bound).
struct greedy_result {
  recompute_plan plan;
  double lp_bound = 0;
};

template <class = void>
inline greedy_result greedy_recompute(const recompute_instance& in) {
  std::vector<std::size_t> choice;
  const auto steps = hull_steps(in, choice);
  uint128 memory = 0;
  double base_time = 0;
  for (std::size_t l = 0; l < choice.size(); ++l) {
    memory += in.options[l][choice[l]].memory;
    base_time += in.options[l][choice[l]].time;
  }
  double lp = base_time;
  bool lp_done = memory <= in.budget;
  for (const auto& st : steps) {
    if (memory <= in.budget) break;
    const uint128 excess = memory - in.budget;
    if (!lp_done) {
      if (excess <= st.saved) {
        lp += st.added * static_cast<double>(static_cast<std::uint64_t>(excess)) / static_cast<double>(st.saved);
        lp_done = true;
      } else {
        lp += st.added;
      }
    }
    choice[st.layer] = st.to;
    memory -= st.saved;
  }
  greedy_result r;
  r.plan = evaluate_choice(in, std::move(choice));
  r.lp_bound = lp;
  r.plan.lower_bound = std::min(lp, r.plan.time);
  r.plan.proven_optimal = r.plan.time <= r.plan.lower_bound;
  return r;
}

}  // namespace detail

/// Greedy selection; see file docs. `layers`: range of ranges of recompute_option.
template <recompute_layer_range R>
[[nodiscard]] recompute_plan greedy_recompute(R&& layers, std::uint64_t memory_budget) {
  const auto in = detail::make_recompute_instance("select_recompute(greedy)", layers, memory_budget);
  return detail::greedy_recompute(in).plan;
}

}  // namespace fulcrum
