// SPDX-License-Identifier: Apache-2.0
/// @file balance/detail/phases_impl.hpp
/// Definition of balance_phases()'s span-level worker (declared in balance/phases.hpp): included
/// by phases.hpp in header-only mode, compiled once into fulcrum::compiled otherwise (src/balance.cpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/balance/balance.hpp"
#include "fulcrum/balance/detail/sums.hpp"
#include "fulcrum/balance/phases.hpp"
#include "fulcrum/config.hpp"
#include "fulcrum/core/grouping.hpp"

namespace fulcrum {

namespace detail {

/// Relabels `llm` parts to maximise samples kept on their vision rank (greedy matching).
template <class = void>
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
    return a.count > b.count ||
           (a.count == b.count && (a.vision < b.vision || (a.vision == b.vision && a.llm < b.llm)));
  });
  constexpr index_type unset = std::numeric_limits<index_type>::max();
  std::vector<index_type> label(k, unset);  // llm part -> new label (= vision rank it pairs with)
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

FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER phase_plan balance_phases_costs(std::span<const cost_t> vision_costs, std::span<const cost_t> llm_costs,
                                               std::size_t k, const balance_options& opts) {
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

}  // namespace fulcrum
