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

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <ranges>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/balance/balance.hpp"
#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/grouping.hpp"

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

/// Relabels `llm` parts to maximise samples kept on their vision rank (greedy matching).
inline std::vector<index_type> phase_relabel(std::span<const index_type> vision_of, std::span<const index_type> llm_of,
                                             std::size_t k) {
  struct pair_count {
    std::uint64_t count;
    index_type vision, llm;
  };
  std::vector<pair_count> pairs;
  {
    std::vector<index_type> key(vision_of.size());
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<index_type>(i);
    std::sort(key.begin(), key.end(), [&](index_type a, index_type b) {
      return vision_of[a] < vision_of[b] || (vision_of[a] == vision_of[b] && llm_of[a] < llm_of[b]);
    });
    for (std::size_t j = 0; j < key.size();) {
      std::size_t e = j;
      while (e < key.size() && vision_of[key[e]] == vision_of[key[j]] && llm_of[key[e]] == llm_of[key[j]]) ++e;
      pairs.push_back({e - j, vision_of[key[j]], llm_of[key[j]]});
      j = e;
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const pair_count& a, const pair_count& b) {
    return a.count > b.count || (a.count == b.count && (a.vision < b.vision || (a.vision == b.vision && a.llm < b.llm)));
  });
  constexpr index_type unset = std::numeric_limits<index_type>::max();
  std::vector<index_type> label(k, unset);     // llm part -> new label (= vision rank it pairs with)
  std::vector<bool> vision_used(k, false);
  for (const auto& p : pairs)
    if (label[p.llm] == unset && !vision_used[p.vision]) label[p.llm] = p.vision, vision_used[p.vision] = true;
  std::size_t free_rank = 0;
  for (std::size_t d = 0; d < k; ++d) {
    if (label[d] != unset) continue;
    while (vision_used[free_rank]) ++free_rank;
    label[d] = static_cast<index_type>(free_rank);
    vision_used[free_rank] = true;
  }
  return label;
}

inline phase_plan balance_phases_costs(std::span<const cost_t> vision_costs, std::span<const cost_t> llm_costs, std::size_t k,
                                       const balance_options& opts) {
  const std::size_t n = vision_costs.size();
  phase_plan plan;
  plan.vision = balance_costs(vision_costs, k, opts);
  const partition llm_raw = balance_costs(llm_costs, k, opts);
  plan.vision_rank = plan.vision.parts.assignment(n);
  const auto llm_raw_of = llm_raw.parts.assignment(n);
  const auto label = phase_relabel(plan.vision_rank, llm_raw_of, k);
  plan.llm_rank.resize(n);
  for (std::size_t i = 0; i < n; ++i) plan.llm_rank[i] = label[llm_raw_of[i]];
  plan.llm = make_partition(plan.llm_rank, llm_costs, k, llm_raw.lower_bound);
  plan.llm.proven_optimal = llm_raw.proven_optimal;
  plan.vision_slot.resize(n);
  plan.llm_slot.resize(n);
  for (std::size_t r = 0; r < k; ++r) {
    const auto v = plan.vision.parts[r];
    for (std::size_t j = 0; j < v.size(); ++j) plan.vision_slot[v[j]] = static_cast<index_type>(j);
    const auto l = plan.llm.parts[r];
    for (std::size_t j = 0; j < l.size(); ++j) plan.llm_slot[l[j]] = static_cast<index_type>(j);
  }
  // Transfer lists: walk each vision rank's batch in slot order.
  std::vector<std::size_t> offsets(k * k + 1, 0);
  for (std::size_t i = 0; i < n; ++i) ++offsets[plan.vision_rank[i] * k + plan.llm_rank[i] + 1];
  for (std::size_t g = 0; g < k * k; ++g) offsets[g + 1] += offsets[g];
  std::vector<index_type> indices(n);
  std::vector<std::size_t> cursor(offsets.begin(), offsets.end() - 1);
  for (std::size_t s = 0; s < k; ++s)
    for (index_type i : plan.vision.parts[s]) indices[cursor[s * k + plan.llm_rank[i]]++] = i;
  plan.transfer = grouping(std::move(offsets), std::move(indices));
  for (std::size_t i = 0; i < n; ++i) plan.samples_kept += plan.vision_rank[i] == plan.llm_rank[i] ? 1U : 0U;
  return plan;
}

}  // namespace detail

/// Balances `samples` for a vision phase and an LLM phase (see the file comment). Both cost
/// models take a sample (e.g. `projected_cost{linear_cost{}, images_of{}}` for the vision
/// encoder, `projected_cost{attention_cost{}, tokens_of{}}` for the LLM).
template <std::ranges::random_access_range R, class VisionCost, class LlmCost>
  requires cost_model_for<VisionCost, std::ranges::range_value_t<R>> && cost_model_for<LlmCost, std::ranges::range_value_t<R>>
[[nodiscard]] phase_plan balance_phases(R&& samples, std::size_t k, VisionCost vision_cost, LlmCost llm_cost,
                                        balance_options opts = {}) {
  detail::require_parts("balance_phases", k, static_cast<std::size_t>(std::ranges::size(samples)));
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
