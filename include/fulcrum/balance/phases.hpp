// SPDX-License-Identifier: Apache-2.0
/// @file balance/phases.hpp
/// Per-phase balancing for multimodal models (OrchMLLM's orchestrator): the same samples are
/// balanced twice over the same k ranks, once under the vision encoder's cost model and once
/// under the LLM's, and the result says where every sample lives in each phase and how it moves
/// between them.
///
/// What: vision = balance(samples, k, opts, vision_cost); llm = balance(samples, k, opts, llm_cost).
/// Parts are interchangeable, so the LLM parts are then relabelled to keep as many samples as
/// possible on the rank that encoded them: a greedy maximum-weight matching between vision
/// parts and LLM parts on the number of shared samples (pairs by shared count descending, ties
/// by lower vision rank, then lower LLM rank; unmatched parts pair up in index order). Loads and
/// makespan of the LLM plan are unchanged by the relabelling.
/// Per sample i: vision_rank[i] / vision_slot[i] (position in that rank's vision batch) and
/// llm_rank[i] / llm_slot[i]. `transfer` has k * k groups: group s * k + d lists the samples that
/// vision rank s sends to LLM rank d after encoding, in the order s sends them (vision slot
/// order); d stores each at llm_slot. The backward pass sends gradients back along the same
/// lists in the same order (d -> s), and s puts each at vision_slot.
/// Errors: k == 0 or k > phases_max_parts = 4096 (the transfer plan has k * k groups), and
/// whatever balance() rejects -> invalid_input.
/// Complexity: two balance() calls + O(n log n + k^2) for the matching (pairs sorted by count;
/// at most min(n, k^2) pairs) + O(n + k^2) bookkeeping. Deterministic.
#pragma once

#include <cstddef>
#include <functional>
#include <ranges>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/balance/balance.hpp"
#include "fulcrum/config.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/validate.hpp"

namespace fulcrum {

/// Largest k balance_phases accepts: its transfer plan has k * k groups (<= 2^24).
inline constexpr std::size_t phases_max_parts = 4096;

struct phase_plan {
  partition vision;                      ///< samples onto ranks under the vision cost
  partition llm;                         ///< samples onto ranks under the LLM cost (relabelled, see above)
  std::vector<index_type> vision_rank;   ///< per sample: rank in the vision phase
  std::vector<index_type> vision_slot;   ///< per sample: position in its vision rank's batch
  std::vector<index_type> llm_rank;      ///< per sample: rank in the LLM phase
  std::vector<index_type> llm_slot;      ///< per sample: position in its LLM rank's batch
  grouping transfer;                     ///< k*k groups: s*k + d = samples vision rank s sends to LLM rank d, in send order
  std::size_t samples_kept = 0;          ///< samples whose vision rank equals their LLM rank
};

namespace detail {

/// The span-level worker behind balance_phases (balance/detail/phases_impl.hpp, or fulcrum::compiled).
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER phase_plan balance_phases_costs(std::span<const cost_t> vision_costs, std::span<const cost_t> llm_costs,
                                               std::size_t k, const balance_options& opts);

}  // namespace detail

/// Balances `samples` for a vision phase and an LLM phase (see the file comment). Both cost
/// models take a sample (e.g. `projected_cost{linear_cost{}, images_of{}}` for the vision
/// encoder, `projected_cost{attention_cost{}, tokens_of{}}` for the LLM).
template <std::ranges::random_access_range R, class VisionCost, class LlmCost>
  requires cost_model_for<VisionCost, std::ranges::range_value_t<R>> && cost_model_for<LlmCost, std::ranges::range_value_t<R>>
[[nodiscard]] phase_plan balance_phases(R&& samples, std::size_t k, VisionCost vision_cost, LlmCost llm_cost,
                                        balance_options opts = {}) {
  detail::validate_parts("balance_phases", "k", k, static_cast<std::size_t>(std::ranges::size(samples)));
  // `transfer` holds k * k groups: k is limited to phases_max_parts (4096) so it stays <= 2^24.
  if (k > phases_max_parts)
    throw invalid_input(detail::describe("balance_phases", "k", k, "exceeds 4096: the transfer plan holds k * k groups"));
  const auto vision = evaluate_costs(samples, vision_cost, std::identity{}, "balance_phases (vision)");
  const auto llm = evaluate_costs(samples, llm_cost, std::identity{}, "balance_phases (llm)");
  return detail::balance_phases_costs(vision, llm, k, opts);
}

/// The same in the library's argument order (samples, k, options, costs), as balance().
template <std::ranges::random_access_range R, class VisionCost, class LlmCost>
  requires cost_model_for<VisionCost, std::ranges::range_value_t<R>> && cost_model_for<LlmCost, std::ranges::range_value_t<R>>
[[nodiscard]] phase_plan balance_phases(R&& samples, std::size_t k, const balance_options& opts, VisionCost vision_cost,
                                        LlmCost llm_cost) {
  return balance_phases(std::forward<R>(samples), k, std::move(vision_cost), std::move(llm_cost), opts);
}

}  // namespace fulcrum

#if !defined(FULCRUM_COMPILED)
#include "fulcrum/balance/detail/phases_impl.hpp"
#endif
