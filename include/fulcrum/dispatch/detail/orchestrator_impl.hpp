// SPDX-License-Identifier: Apache-2.0
/// @file dispatch/detail/orchestrator_impl.hpp
/// Definitions of dispatch/orchestrator.hpp (header-only): placement, per-phase balancing, memory
/// cap repair, routes, the plan hash and the distributed front door.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fulcrum/balance/balance.hpp"
#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/balance/post_balance.hpp"
#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/hash.hpp"
#include "fulcrum/core/wide_int.hpp"
#include "fulcrum/dispatch/orchestrator.hpp"
#include "fulcrum/parallel/context_parallel.hpp"

namespace fulcrum {

inline cost_t phase_assignment::makespan() const noexcept {
  cost_t m = 0;
  for (const cost_t l : loads) m = std::max(m, l);
  return m;
}
inline cost_t phase_assignment::makespan_before() const noexcept {
  cost_t m = 0;
  for (const cost_t l : loads_before) m = std::max(m, l);
  return m;
}
inline cost_t phase_assignment::mean() const noexcept {
  if (loads.empty()) return 0;
  cost_t s = 0;
  for (const cost_t l : loads) s += l;
  return s / static_cast<cost_t>(loads.size());
}

inline phase_route phase_route::reversed() const {
  phase_route r = *this;
  r.backward = !backward;
  const std::size_t k = ranks;
  std::vector<std::size_t> offsets{0};
  std::vector<index_type> indices;
  indices.reserve(lists.item_count());
  offsets.reserve(k * k + 1);
  r.entry_bytes.clear();
  for (std::size_t d = 0; d < k; ++d)
    for (std::size_t s = 0; s < k; ++s) {
      const auto g = lists[s * k + d];
      indices.insert(indices.end(), g.begin(), g.end());
      if (!entry_bytes.empty()) {
        const auto first = static_cast<std::ptrdiff_t>(lists.offsets()[s * k + d]);
        r.entry_bytes.insert(r.entry_bytes.end(), entry_bytes.begin() + first,
                             entry_bytes.begin() + first + static_cast<std::ptrdiff_t>(g.size()));
      }
      offsets.push_back(indices.size());
      r.bytes[d * k + s] = bytes[s * k + d];
    }
  r.lists = grouping(std::move(offsets), std::move(indices));
  return r;
}

namespace detail {

inline std::string orch_field(std::size_t p, const orchestrator_phase& ph, std::string_view field) {
  return "phases[" + std::to_string(p) + "] ('" + ph.name + "')." + std::string(field);
}

inline std::size_t orch_items(const orchestrator_phase& ph, std::size_t samples) {
  return ph.per_item ? ph.sample_of.size() : samples;
}

inline std::size_t orch_sample(const orchestrator_phase& ph, std::size_t item) {
  return ph.per_item ? ph.sample_of[item] : item;
}

inline std::size_t orch_node(std::size_t r, std::size_t rpn) {
  return rpn == 0 ? 0 : r / rpn;
}

inline void orch_validate(std::span<const index_type> origin, std::span<const orchestrator_phase> phases,
                          const orchestrator_options& opts) {
  const std::size_t k = opts.ranks, n = origin.size();
  if (k == 0) throw invalid_input(describe("orchestrate", "ranks", k, "need at least one rank"));
  if (k > orchestrator_max_ranks)
    throw invalid_input(describe("orchestrate", "ranks", k, "exceeds 4096: every route holds k * k groups"));
  if (!(opts.tolerance >= 0) || opts.tolerance == std::numeric_limits<double>::infinity())
    throw invalid_input(describe("orchestrate", "tolerance", opts.tolerance, "must be finite and >= 0"));
  for (std::size_t s = 0; s < n; ++s)
    if (origin[s] >= k) throw invalid_input(describe("orchestrate", "origin", s, origin[s], "is not a rank"));
  for (std::size_t p = 0; p < phases.size(); ++p) {
    const auto& ph = phases[p];
    const std::size_t m = orch_items(ph, n);
    if (ph.costs.size() != m)
      throw invalid_input(describe("orchestrate", orch_field(p, ph, "costs.size()"), ph.costs.size(),
                                   "differs from the item count " + std::to_string(m)));
    for (std::size_t j = 0; j < m; ++j) require_non_negative("orchestrate", orch_field(p, ph, "costs"), j, ph.costs[j]);
    auto sized = [&](std::string_view field, std::size_t got) {
      if (got != 0 && got != m)
        throw invalid_input(
            describe("orchestrate", orch_field(p, ph, field), got,
                     "differs from the item count " + std::to_string(m) + " (leave it empty for zeros)"));
    };
    sized("input_bytes.size()", ph.input_bytes.size());
    sized("output_bytes.size()", ph.output_bytes.size());
    sized("memory.size()", ph.memory.size());
    if (!ph.per_item && !ph.sample_of.empty())
      throw invalid_input(describe("orchestrate", orch_field(p, ph, "sample_of.size()"), ph.sample_of.size(),
                                   "must be empty unless per_item is set"));
    for (std::size_t j = 0; j < ph.sample_of.size(); ++j)
      if (ph.sample_of[j] >= n)
        throw invalid_input(
            describe("orchestrate", orch_field(p, ph, "sample_of"), j, ph.sample_of[j], "is not a sample"));
    for (const std::size_t q : ph.consumes) {
      if (q >= p)
        throw invalid_input(describe("orchestrate", orch_field(p, ph, "consumes"), q, "is not an earlier phase"));
      if (ph.per_item)
        throw invalid_input(describe("orchestrate", orch_field(p, ph, "per_item"), 1,
                                     "must be false: a phase that consumes others has one item per sample"));
    }
    if (ph.mode == phase_mode::sequence_parallel) {
      const std::size_t d = ph.sp.degree;
      if (d == 0 || k % d != 0)
        throw invalid_input(describe("orchestrate", orch_field(p, ph, "sp.degree"), d,
                                     "must be at least 1 and divide ranks " + std::to_string(k)));
      if (opts.ranks_per_node != 0 && opts.ranks_per_node % d != 0)
        throw invalid_input(describe(
            "orchestrate", orch_field(p, ph, "sp.degree"), d,
            "must divide ranks_per_node " + std::to_string(opts.ranks_per_node) + " (an SP group sits in one node)"));
      if (ph.tokens.size() != m)
        throw invalid_input(describe("orchestrate", orch_field(p, ph, "tokens.size()"), ph.tokens.size(),
                                     "differs from the item count " + std::to_string(m)));
      if (ph.memory_cap != 0)
        throw invalid_input(describe("orchestrate", orch_field(p, ph, "memory_cap"), ph.memory_cap,
                                     "must be 0 under sequence_parallel (sp.per_gpu_tokens is its cap)"));
      if (ph.sp.per_gpu_tokens != 0) {
        const std::uint64_t cap = checked_mul(static_cast<std::uint64_t>(d), ph.sp.per_gpu_tokens, "sp capacity");
        for (std::size_t j = 0; j < m; ++j)
          if (ph.sp.padded(ph.tokens[j]) > cap)
            throw invalid_input(describe(
                "orchestrate", orch_field(p, ph, "tokens"), j, ph.tokens[j],
                "exceeds the SP group's capacity " + std::to_string(cap) + " (degree x per_gpu_tokens) after padding"));
      }
    } else if (ph.mode == phase_mode::context_parallel) {
      const std::size_t c = ph.cp_degree;
      if (c == 0 || k % c != 0)
        throw invalid_input(describe("orchestrate", orch_field(p, ph, "cp_degree"), c,
                                     "must be at least 1 and divide ranks " + std::to_string(k)));
      if (opts.ranks_per_node != 0 && opts.ranks_per_node % c != 0)
        throw invalid_input(describe(
            "orchestrate", orch_field(p, ph, "cp_degree"), c,
            "must divide ranks_per_node " + std::to_string(opts.ranks_per_node) + " (a CP group sits in one node)"));
      if (ph.tokens.size() != m)
        throw invalid_input(describe("orchestrate", orch_field(p, ph, "tokens.size()"), ph.tokens.size(),
                                     "differs from the item count " + std::to_string(m)));
      for (std::size_t j = 0; j < m; ++j)
        if (ph.tokens[j] > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
          throw invalid_input(describe("orchestrate", orch_field(p, ph, "tokens"), j, ph.tokens[j],
                                       "exceeds 2^31 - 1 (a CP document length)"));
      if (ph.memory_cap != 0)
        throw invalid_input(describe("orchestrate", orch_field(p, ph, "memory_cap"), ph.memory_cap,
                                     "must be 0 under context_parallel"));
      const std::pair<const char*, double> coef[] = {{"cp.cost.per_token", ph.cp.cost.per_token},
                                                     {"cp.cost.per_pair", ph.cp.cost.per_pair},
                                                     {"cp.cost.per_chunk", ph.cp.cost.per_chunk}};
      for (const auto& [f, v] : coef)
        if (!(v >= 0) || v == std::numeric_limits<double>::infinity())
          throw invalid_input(describe("orchestrate", orch_field(p, ph, f), v, "must be finite and >= 0"));
    } else if (!ph.tokens.empty()) {
      throw invalid_input(describe("orchestrate", orch_field(p, ph, "tokens.size()"), ph.tokens.size(),
                                   "must be empty unless mode is sequence_parallel or context_parallel"));
    }
    if (ph.memory_cap != 0)
      for (std::size_t j = 0; j < ph.memory.size(); ++j)
        if (ph.memory[j] > ph.memory_cap)
          throw invalid_input(describe("orchestrate", orch_field(p, ph, "memory"), j, ph.memory[j],
                                       "exceeds memory_cap " + std::to_string(ph.memory_cap)));
  }
}

/// Greedy memory-cap repair: while a rank is above the cap, its largest-memory item (ties: lower
/// index) goes to the least loaded rank with room (ties: same node, then lower rank).
inline void orch_memory_repair(std::size_t p, const orchestrator_phase& ph, std::vector<index_type>& rank,
                               std::size_t k, std::size_t rpn) {
  if (ph.memory_cap == 0 || ph.memory.empty()) return;
  std::vector<std::uint64_t> mem(k, 0);
  std::vector<cost_t> load(k, 0);
  for (std::size_t j = 0; j < rank.size(); ++j) {
    mem[rank[j]] = checked_add(mem[rank[j]], ph.memory[j], "orchestrate memory");
    load[rank[j]] += ph.costs[j];
  }
  for (std::size_t r = 0; r < k; ++r) {
    while (mem[r] > ph.memory_cap) {
      std::size_t best = rank.size();
      for (std::size_t j = 0; j < rank.size(); ++j)
        if (rank[j] == r && (best == rank.size() || ph.memory[j] > ph.memory[best])) best = j;
      std::size_t to = k;
      for (std::size_t t = 0; t < k; ++t) {
        if (t == r || mem[t] + ph.memory[best] > ph.memory_cap) continue;
        if (to == k) {
          to = t;
          continue;
        }
        const cost_t lt = load[t] + ph.costs[best], lb = load[to] + ph.costs[best];
        const bool t_near = orch_node(t, rpn) == orch_node(r, rpn), to_near = orch_node(to, rpn) == orch_node(r, rpn);
        if (lt < lb || (lt == lb && t_near && !to_near)) to = t;
      }
      if (to == k)
        throw invalid_input(describe("orchestrate", orch_field(p, ph, "memory_cap"), ph.memory_cap,
                                     "cannot be held on every rank (greedy repair found no rank with room)"));
      mem[r] -= ph.memory[best];
      mem[to] += ph.memory[best];
      load[r] -= ph.costs[best];
      load[to] += ph.costs[best];
      rank[best] = static_cast<index_type>(to);
    }
  }
}

/// Maps interchangeable parts onto ranks keeping the most bytes where they are: a greedy
/// maximum-weight matching on (part, rank) -> bytes of the part's items already on the rank.
/// Returns the parts reordered so that group r is the part placed on rank r.
inline grouping orch_relabel(const grouping& parts, std::span<const index_type> current,
                             std::span<const std::uint64_t> bytes, std::size_t k) {
  std::vector<std::uint64_t> w(k * k, 0);
  for (std::size_t q = 0; q < k; ++q)
    for (const index_type j : parts[q]) w[q * k + current[j]] += bytes[j];
  std::vector<std::size_t> pairs;
  for (std::size_t x = 0; x < k * k; ++x)
    if (w[x] > 0) pairs.push_back(x);
  std::stable_sort(pairs.begin(), pairs.end(), [&](std::size_t a, std::size_t b) { return w[a] > w[b]; });
  constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> rank_of(k, none), part_on(k, none);
  for (const std::size_t x : pairs) {
    const std::size_t q = x / k, r = x % k;
    if (rank_of[q] != none || part_on[r] != none) continue;
    rank_of[q] = r;
    part_on[r] = q;
  }
  std::size_t free_rank = 0;
  for (std::size_t q = 0; q < k; ++q) {
    if (rank_of[q] != none) continue;
    while (part_on[free_rank] != none) ++free_rank;
    rank_of[q] = free_rank;
    part_on[free_rank] = q;
  }
  std::vector<std::size_t> offsets{0};
  std::vector<index_type> indices;
  indices.reserve(parts.item_count());
  for (std::size_t r = 0; r < k; ++r) {
    const auto g = parts[part_on[r]];
    indices.insert(indices.end(), g.begin(), g.end());
    offsets.push_back(indices.size());
  }
  return grouping(std::move(offsets), std::move(indices));
}

/// sequence_parallel: balance the k / d SP groups from the items' current groups (post_balance),
/// repair the token cap greedily, then give every item one rank of its group (its current rank if
/// there, else the member with the fewest padded tokens; items by padded tokens descending).
inline std::vector<index_type> orch_sp_assign(std::size_t p, const orchestrator_phase& ph,
                                              std::span<const index_type> current,
                                              std::span<const std::uint64_t> in_bytes, std::size_t k, std::size_t rpn,
                                              double tolerance) {
  const std::size_t d = ph.sp.degree, groups = k / d, m = current.size();
  std::vector<index_type> cur_group(m);
  for (std::size_t j = 0; j < m; ++j) cur_group[j] = static_cast<index_type>(current[j] / d);
  post_balance_options po;
  po.ranks_per_node = rpn == 0 ? groups : rpn / d;
  po.tolerance = tolerance;
  const partition part = post_balance(ph.costs, cur_group, in_bytes, groups, po).plan;
  std::vector<index_type> group(m);
  for (std::size_t g = 0; g < groups; ++g)
    for (const index_type j : part.parts[g]) group[j] = static_cast<index_type>(g);
  std::vector<std::uint64_t> padded(m);
  for (std::size_t j = 0; j < m; ++j) padded[j] = ph.sp.padded(ph.tokens[j]);
  if (ph.sp.per_gpu_tokens != 0) {
    const std::uint64_t cap = static_cast<std::uint64_t>(d) * ph.sp.per_gpu_tokens;  // validated
    std::vector<std::uint64_t> tok(groups, 0);
    std::vector<cost_t> load(groups, 0);
    for (std::size_t j = 0; j < m; ++j) {
      tok[group[j]] = checked_add(tok[group[j]], padded[j], "orchestrate tokens");
      load[group[j]] += ph.costs[j];
    }
    const std::size_t gpn = rpn == 0 ? groups : rpn / d;
    for (std::size_t g = 0; g < groups; ++g)
      while (tok[g] > cap) {
        // The item to move: the smallest that covers the excess and fits another group, else the
        // largest that fits another group (ties: lower index); it goes to the least loaded group
        // with room (ties: same node, then lower group).
        const std::uint64_t excess = tok[g] - cap;
        auto room = [&](std::size_t j) {
          std::size_t to = groups;
          for (std::size_t t = 0; t < groups; ++t) {
            if (t == g || tok[t] + padded[j] > cap) continue;
            if (to == groups) {
              to = t;
              continue;
            }
            const cost_t lt = load[t] + ph.costs[j], lb = load[to] + ph.costs[j];
            const bool t_near = t / gpn == g / gpn, to_near = to / gpn == g / gpn;
            if (lt < lb || (lt == lb && t_near && !to_near)) to = t;
          }
          return to;
        };
        std::size_t best = m, to = groups;
        for (std::size_t j = 0; j < m; ++j) {
          if (group[j] != g || padded[j] == 0) continue;
          const bool covers = padded[j] >= excess;
          if (best != m) {
            const bool best_covers = padded[best] >= excess;
            const bool better =
                covers ? (!best_covers || padded[j] < padded[best]) : (!best_covers && padded[j] > padded[best]);
            if (!better) continue;
          }
          const std::size_t t = room(j);
          if (t == groups) continue;
          best = j;
          to = t;
        }
        if (to == groups)
          throw invalid_input(describe("orchestrate", orch_field(p, ph, "sp.per_gpu_tokens"), ph.sp.per_gpu_tokens,
                                       "cannot be held by every SP group (greedy repair found no group with room)"));
        tok[g] -= padded[best];
        tok[to] += padded[best];
        load[g] -= ph.costs[best];
        load[to] += ph.costs[best];
        group[best] = static_cast<index_type>(to);
      }
  }
  std::vector<index_type> rank(m);
  std::vector<std::uint64_t> member_tokens(k, 0);
  std::vector<std::size_t> rest;
  for (std::size_t j = 0; j < m; ++j) {
    if (current[j] / d == group[j]) {
      rank[j] = current[j];
      member_tokens[current[j]] += padded[j];
    } else {
      rest.push_back(j);
    }
  }
  std::stable_sort(rest.begin(), rest.end(), [&](std::size_t a, std::size_t b) { return padded[a] > padded[b]; });
  for (const std::size_t j : rest) {
    const std::size_t first = std::size_t{group[j]} * d;
    std::size_t to = first;
    for (std::size_t r = first + 1; r < first + d; ++r)
      if (member_tokens[r] < member_tokens[to]) to = r;
    rank[j] = static_cast<index_type>(to);
    member_tokens[to] += padded[j];
  }
  return rank;
}

/// CP cost of a whole document of L tokens: one chunk [0, L).
inline cost_t orch_cp_doc_cost(const cp_cost& c, std::uint64_t L) {
  if (L == 0) return 0;
  return c.per_token * static_cast<cost_t>(L) + c.per_pair * static_cast<cost_t>(causal_pairs(0, L)) + c.per_chunk;
}

/// A context_parallel phase's placement: per item its rank, per rank its chunks, tokens and CP
/// load, and per item its (rank, real tokens) shares in ascending rank (CSR).
struct orch_cp_result {
  std::vector<index_type> rank;
  std::vector<std::size_t> shard_offsets;
  std::vector<cp_chunk> shards;
  std::vector<std::uint64_t> tokens;
  std::vector<cost_t> loads;
  std::vector<cost_t> loads_before;
  std::vector<std::size_t> share_offsets;
  std::vector<index_type> share_rank;
  std::vector<std::uint64_t> share_tokens;
};

/// context_parallel: post_balance the documents' CP costs over the k / c groups from their current
/// groups, then shard every group's documents (item index order) over its c ranks with
/// plan_context_parallel.
inline orch_cp_result orch_cp_assign(const orchestrator_phase& ph, std::span<const index_type> current,
                                     std::span<const std::uint64_t> in_bytes, std::size_t k, std::size_t rpn,
                                     double tolerance) {
  const std::size_t c = ph.cp_degree, groups = k / c, m = current.size();
  std::vector<cost_t> doc_cost(m);
  for (std::size_t j = 0; j < m; ++j) doc_cost[j] = orch_cp_doc_cost(ph.cp.cost, ph.tokens[j]);
  std::vector<index_type> cur_group(m), group(m);
  for (std::size_t j = 0; j < m; ++j) cur_group[j] = static_cast<index_type>(current[j] / c);
  if (m != 0) {
    post_balance_options po;
    po.ranks_per_node = rpn == 0 ? groups : rpn / c;
    po.tolerance = tolerance;
    const partition part = post_balance(std::span<const cost_t>(doc_cost), cur_group, in_bytes, groups, po).plan;
    for (std::size_t g = 0; g < groups; ++g)
      for (const index_type j : part.parts[g]) group[j] = static_cast<index_type>(g);
  }
  orch_cp_result res;
  res.rank.assign(m, 0);
  res.tokens.assign(k, 0);
  res.loads.assign(k, 0);
  res.loads_before.assign(k, 0);
  res.shard_offsets.assign(1, 0);
  std::vector<cost_t> before(groups, 0);
  for (std::size_t j = 0; j < m; ++j) before[cur_group[j]] += doc_cost[j];
  const grouping members = grouping::from_assignment(std::span<const index_type>(group), groups);
  // (item, rank, real tokens) for every chunk, gathered into per-item shares afterwards.
  std::vector<std::uint64_t> most(m, 0);
  std::vector<std::vector<std::pair<index_type, std::uint64_t>>> shares(m);
  for (std::size_t g = 0; g < groups; ++g) {
    const auto docs = members[g];
    cp_plan cpp;
    if (!docs.empty()) {
      std::vector<std::uint32_t> lengths(docs.size());
      for (std::size_t i = 0; i < docs.size(); ++i) lengths[i] = static_cast<std::uint32_t>(ph.tokens[docs[i]]);
      cpp = plan_context_parallel(std::span<const std::uint32_t>(lengths), c, ph.cp);
    }
    for (std::size_t q = 0; q < c; ++q) {
      const std::size_t r = g * c + q;
      res.loads_before[r] = before[g] / static_cast<cost_t>(c);
      if (!docs.empty())
        for (const cp_chunk& ch : cpp.rank_chunks(q)) {
          const index_type j = docs[ch.document];
          res.shards.push_back(cp_chunk{j, ch.begin, ch.end});
          // The CP cost of the chunk, recomputed (pad positions of zigzag_padded included).
          res.loads[r] += ph.cp.cost.per_token * static_cast<cost_t>(ch.end - ch.begin) +
                          ph.cp.cost.per_pair * static_cast<cost_t>(causal_pairs(ch.begin, ch.end)) +
                          ph.cp.cost.per_chunk;
          const std::uint64_t L = ph.tokens[j];
          const std::uint64_t real = std::min<std::uint64_t>(ch.end, L) - std::min<std::uint64_t>(ch.begin, L);
          res.tokens[r] += real;
          if (real == 0) continue;
          auto& v = shares[j];
          if (v.empty() || v.back().first != r) v.emplace_back(static_cast<index_type>(r), 0);
          v.back().second += real;
        }
      res.shard_offsets.push_back(res.shards.size());
    }
  }
  res.share_offsets.assign(1, 0);
  for (std::size_t j = 0; j < m; ++j) {
    // rank[j]: the member holding most of the document (ties: lower rank); its group's first
    // rank when the document is empty.
    res.rank[j] = static_cast<index_type>(std::size_t{group[j]} * c);
    for (const auto& [r, t] : shares[j]) {
      if (t > most[j]) {
        most[j] = t;
        res.rank[j] = r;
      }
      res.share_rank.push_back(r);
      res.share_tokens.push_back(t);
    }
    res.share_offsets.push_back(res.share_rank.size());
  }
  return res;
}

/// A route into a context_parallel phase: sending item i (on src[i], bytes[i]) feeds document
/// target[i], whose bytes are split over its shares in proportion to their tokens (cumulative
/// floors: share q gets floor(b T_q / T) - floor(b T_{q-1} / T), T_q the tokens of shares 0..q).
inline phase_route orch_cp_route(std::size_t from, std::size_t to, std::span<const index_type> src,
                                 std::span<const std::size_t> target, std::span<const std::uint64_t> bytes,
                                 const orch_cp_result& cpr, std::size_t k, std::size_t rpn) {
  phase_route r;
  r.from_phase = from;
  r.to_phase = to;
  r.ranks = k;
  r.bytes.assign(k * k, 0);
  r.item_bytes.assign(src.size(), 0);
  struct entry {
    std::size_t group;
    index_type item;
    std::uint64_t bytes;
  };
  std::vector<entry> entries;
  entries.reserve(src.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    const std::uint64_t b = bytes.empty() ? 0 : bytes[i];
    r.item_bytes[i] = b;
    r.bytes_total = checked_add(r.bytes_total, b, "orchestrate route bytes");
    const std::size_t j = target[i];
    const std::size_t lo = cpr.share_offsets[j], hi = cpr.share_offsets[j + 1];
    auto add = [&](std::size_t d, std::uint64_t part) {
      const std::size_t g = std::size_t{src[i]} * k + d;
      entries.push_back(entry{g, static_cast<index_type>(i), part});
      r.bytes[g] += part;
      if (src[i] != d) {
        r.bytes_moved += part;
        if (orch_node(src[i], rpn) != orch_node(d, rpn)) r.bytes_inter_node += part;
      }
    };
    if (lo == hi) {  // an empty document: its bytes go whole to its rank
      add(cpr.rank[j], b);
      continue;
    }
    std::uint64_t total = 0, cum = 0, given = 0;
    for (std::size_t q = lo; q < hi; ++q) total += cpr.share_tokens[q];
    for (std::size_t q = lo; q < hi; ++q) {
      cum += cpr.share_tokens[q];
      const auto upto = static_cast<std::uint64_t>(uint128(b) * uint128(cum) / uint128(total));
      add(cpr.share_rank[q], upto - given);
      given = upto;
    }
  }
  // Group the entries by (s, d), stable in item order.
  std::vector<std::size_t> offsets(k * k + 1, 0);
  for (const auto& e : entries) ++offsets[e.group + 1];
  for (std::size_t g = 0; g < k * k; ++g) offsets[g + 1] += offsets[g];
  std::vector<std::size_t> next(offsets.begin(), offsets.end() - 1);
  std::vector<index_type> indices(entries.size());
  r.entry_bytes.assign(entries.size(), 0);
  for (const auto& e : entries) {
    const std::size_t at = next[e.group]++;
    indices[at] = e.item;
    r.entry_bytes[at] = e.bytes;
  }
  r.lists = grouping(std::move(offsets), std::move(indices));
  return r;
}

inline phase_route orch_route(std::size_t from, std::size_t to, std::span<const index_type> src,
                              std::span<const index_type> dst, std::span<const std::uint64_t> bytes, std::size_t k,
                              std::size_t rpn) {
  phase_route r;
  r.from_phase = from;
  r.to_phase = to;
  r.ranks = k;
  r.bytes.assign(k * k, 0);
  std::vector<std::size_t> group(src.size());
  r.item_bytes.assign(src.size(), 0);
  for (std::size_t i = 0; i < src.size(); ++i) {
    group[i] = std::size_t{src[i]} * k + dst[i];
    const std::uint64_t b = bytes.empty() ? 0 : bytes[i];
    r.item_bytes[i] = b;
    r.bytes[group[i]] = checked_add(r.bytes[group[i]], b, "orchestrate route bytes");
    r.bytes_total = checked_add(r.bytes_total, b, "orchestrate route bytes");
    if (src[i] != dst[i]) {
      r.bytes_moved += b;
      if (orch_node(src[i], rpn) != orch_node(dst[i], rpn)) r.bytes_inter_node += b;
    }
  }
  r.lists = grouping::from_assignment(std::span<const std::size_t>(group), k * k);
  return r;
}

}  // namespace detail

inline orchestrator_plan orchestrate(std::span<const index_type> origin, std::span<const orchestrator_phase> phases,
                                     const orchestrator_options& opts) {
  detail::orch_validate(origin, phases, opts);
  const std::size_t k = opts.ranks, n = origin.size(), rpn = opts.ranks_per_node;
  orchestrator_plan plan;
  plan.ranks = k;
  plan.ranks_per_node = rpn;
  plan.origin.assign(origin.begin(), origin.end());
  for (std::size_t p = 0; p < phases.size(); ++p) {
    const auto& ph = phases[p];
    const std::size_t m = detail::orch_items(ph, n);
    // 1. Where each item's input is: (rank, bytes) contributions, the largest share wins.
    std::vector<std::vector<std::pair<index_type, std::uint64_t>>> parts(m);
    for (std::size_t j = 0; j < m; ++j)
      parts[j].emplace_back(origin[detail::orch_sample(ph, j)], ph.input_bytes.empty() ? 0 : ph.input_bytes[j]);
    for (const std::size_t q : ph.consumes) {
      const auto& prod = phases[q];
      const auto& pa = plan.phases[q];
      for (std::size_t i = 0; i < pa.rank.size(); ++i)
        parts[detail::orch_sample(prod, i)].emplace_back(pa.rank[i],
                                                         prod.output_bytes.empty() ? 0 : prod.output_bytes[i]);
    }
    phase_assignment a;
    a.name = ph.name;
    a.current_rank.resize(m);
    std::vector<std::uint64_t> in_bytes(m, 0);
    for (std::size_t j = 0; j < m; ++j) {
      auto& v = parts[j];
      const index_type home = v.front().first;
      std::sort(v.begin(), v.end());
      std::vector<std::pair<index_type, std::uint64_t>> per_rank;  // (rank, bytes), ascending rank
      for (const auto& [r, b] : v) {
        if (per_rank.empty() || per_rank.back().first != r) per_rank.emplace_back(r, 0);
        per_rank.back().second = checked_add(per_rank.back().second, b, "orchestrate bytes");
      }
      index_type best = home;
      std::uint64_t best_bytes = 0, total = 0;
      for (const auto& [r, b] : per_rank) {
        total = checked_add(total, b, "orchestrate bytes");
        if (r == home) best_bytes = b;
      }
      // The largest share wins; ties: the origin, then the lower rank (ascending scan, strict >).
      for (const auto& [r, b] : per_rank)
        if (b > best_bytes) {
          best = r;
          best_bytes = b;
        }
      a.current_rank[j] = best;
      in_bytes[j] = total;
    }
    // 2. Balance.
    std::vector<index_type> rank(m);
    detail::orch_cp_result cpr;
    if (ph.mode == phase_mode::context_parallel) {
      cpr = detail::orch_cp_assign(ph, a.current_rank, in_bytes, k, rpn, opts.tolerance);
      rank = cpr.rank;
    } else if (ph.mode == phase_mode::keep || m == 0) {
      rank = a.current_rank;
    } else if (ph.mode == phase_mode::sequence_parallel) {
      rank = detail::orch_sp_assign(p, ph, a.current_rank, in_bytes, k, rpn, opts.tolerance);
    } else {
      partition part;
      if (ph.mode == phase_mode::scratch) {
        part = lpt(std::span<const cost_t>(ph.costs), k);
      } else if (ph.mode == phase_mode::equal_count) {
        balance_options bo;
        bo.equal_counts = true;
        const partition raw = balance(std::span<const cost_t>(ph.costs), k, bo);
        part = raw;
        part.parts = detail::orch_relabel(raw.parts, a.current_rank, in_bytes, k);
      } else {
        post_balance_options po;
        po.ranks_per_node = rpn == 0 ? k : rpn;
        po.tolerance = opts.tolerance;
        part = post_balance(ph.costs, a.current_rank, in_bytes, k, po).plan;
      }
      for (std::size_t r = 0; r < k; ++r)
        for (const index_type j : part.parts[r]) rank[j] = static_cast<index_type>(r);
    }
    detail::orch_memory_repair(p, ph, rank, k, rpn);
    // 3. Batches, loads, memory.
    a.per_rank = grouping::from_assignment(std::span<const index_type>(rank), k);
    a.slot.resize(m);
    for (std::size_t r = 0; r < k; ++r) {
      const auto items = a.per_rank[r];
      for (std::size_t s = 0; s < items.size(); ++s) a.slot[items[s]] = static_cast<index_type>(s);
    }
    a.loads.assign(k, 0);
    a.loads_before.assign(k, 0);
    a.memory.assign(k, 0);
    for (std::size_t j = 0; j < m; ++j) {
      a.loads[rank[j]] += ph.costs[j];
      a.loads_before[a.current_rank[j]] += ph.costs[j];
      if (!ph.memory.empty()) a.memory[rank[j]] += ph.memory[j];
    }
    if (ph.mode == phase_mode::sequence_parallel) {
      // Every GPU of an SP group runs 1/d of each of the group's sequences: it carries the group's load.
      const std::size_t d = ph.sp.degree;
      a.sp_degree = d;
      a.sp_tokens.assign(k, 0);
      for (std::size_t j = 0; j < m; ++j) a.sp_tokens[rank[j]] += ph.sp.padded(ph.tokens[j]);
      for (std::size_t g = 0; g < k / d; ++g) {
        cost_t l = 0, b = 0;
        std::uint64_t t = 0;
        for (std::size_t r = g * d; r < (g + 1) * d; ++r) {
          l += a.loads[r];
          b += a.loads_before[r];
          t += a.sp_tokens[r];
        }
        for (std::size_t r = g * d; r < (g + 1) * d; ++r) {
          a.loads[r] = l;
          a.loads_before[r] = b;
          a.sp_tokens[r] = t / d;
        }
      }
    }
    if (ph.mode == phase_mode::context_parallel) {
      // Every rank carries the CP cost of its own chunks (recomputed from them).
      a.sp_degree = ph.cp_degree;
      a.loads = cpr.loads;
      a.loads_before = cpr.loads_before;
      a.shard_offsets = std::move(cpr.shard_offsets);
      a.shards = std::move(cpr.shards);
      a.cp_tokens = cpr.tokens;
    }
    a.rank = std::move(rank);
    const bool cp = ph.mode == phase_mode::context_parallel;
    // 4. Routes: raw data from the origins, then the consumed phases' outputs.
    if (!ph.input_bytes.empty()) {
      std::vector<index_type> src(m);
      for (std::size_t j = 0; j < m; ++j) src[j] = origin[detail::orch_sample(ph, j)];
      if (cp) {
        std::vector<std::size_t> target(m);
        for (std::size_t j = 0; j < m; ++j) target[j] = j;
        plan.routes.push_back(detail::orch_cp_route(phase_route::origin, p, src, target, ph.input_bytes, cpr, k, rpn));
      } else {
        plan.routes.push_back(detail::orch_route(phase_route::origin, p, src, a.rank, ph.input_bytes, k, rpn));
      }
    }
    for (const std::size_t q : ph.consumes) {
      const auto& prod = phases[q];
      const auto& pa = plan.phases[q];
      if (cp) {
        std::vector<std::size_t> target(pa.rank.size());
        for (std::size_t i = 0; i < target.size(); ++i) target[i] = detail::orch_sample(prod, i);
        plan.routes.push_back(detail::orch_cp_route(q, p, pa.rank, target, prod.output_bytes, cpr, k, rpn));
        continue;
      }
      std::vector<index_type> dst(pa.rank.size());
      for (std::size_t i = 0; i < dst.size(); ++i) dst[i] = a.rank[detail::orch_sample(prod, i)];
      plan.routes.push_back(detail::orch_route(q, p, pa.rank, dst, prod.output_bytes, k, rpn));
    }
    plan.phases.push_back(std::move(a));
  }
  plan.hash = plan_hash(plan);
  return plan;
}

inline std::uint64_t plan_hash(const orchestrator_plan& plan) noexcept {
  fnv1a64 h;
  h.integer(std::uint64_t{plan.ranks}).integer(std::uint64_t{plan.ranks_per_node});
  h.integers(std::span<const index_type>(plan.origin));
  h.integer(std::uint64_t{plan.phases.size()});
  for (const auto& a : plan.phases)
    h.integer(std::uint64_t{a.rank.size()}).integers(std::span<const index_type>(a.rank));
  h.integer(std::uint64_t{plan.routes.size()});
  for (const auto& r : plan.routes) {
    h.integer(std::uint64_t{r.from_phase}).integer(std::uint64_t{r.to_phase}).integer(std::uint64_t{r.backward});
    h.integers(r.lists.offsets()).integers(r.lists.indices()).integers(std::span<const std::uint64_t>(r.bytes));
    if (!r.entry_bytes.empty()) h.integers(std::span<const std::uint64_t>(r.entry_bytes));
  }
  for (const auto& a : plan.phases)  // context_parallel shards (nothing for other modes)
    for (const cp_chunk& ch : a.shards)
      h.integer(std::uint64_t{ch.document}).integer(std::uint64_t{ch.begin}).integer(std::uint64_t{ch.end});
  return h.value();
}

namespace detail {

/// One item of a phase on the wire (orchestrate_distributed's all_gather_v).
struct orch_wire_item {
  std::uint64_t sample = 0;
  double cost = 0;
  std::uint64_t input_bytes = 0;
  std::uint64_t output_bytes = 0;
  std::uint64_t memory = 0;
  std::uint64_t tokens = 0;
};


}  // namespace detail

template <communicator C>
orchestrator_plan orchestrate_distributed(C& c, std::size_t local_samples,
                                          std::span<const orchestrator_phase> local_phases, orchestrator_options opts,
                                          std::vector<orchestrator_phase>* global_phases) {
  const std::size_t p = comm::size(c);
  opts.ranks = p;
  std::vector<std::vector<detail::orch_wire_item>> wire(local_phases.size());
  detail::abort_on_error(c, [&] {
    for (std::size_t q = 0; q < local_phases.size(); ++q) {
      const auto& ph = local_phases[q];
      const std::size_t m = detail::orch_items(ph, local_samples);
      if (ph.costs.size() != m)
        throw invalid_input(detail::describe("orchestrate_distributed", detail::orch_field(q, ph, "costs.size()"),
                                             ph.costs.size(),
                                             "differs from the local item count " + std::to_string(m)));
      for (const auto* v : {&ph.input_bytes, &ph.output_bytes, &ph.memory, &ph.tokens})
        if (!v->empty() && v->size() != m)
          throw invalid_input(detail::describe("orchestrate_distributed",
                                               detail::orch_field(q, ph, "per-item array size"), v->size(),
                                               "differs from the local item count " + std::to_string(m)));
      wire[q].resize(m);
      for (std::size_t j = 0; j < m; ++j) {
        const std::size_t s = detail::orch_sample(ph, j);
        if (s >= local_samples)
          throw invalid_input(detail::describe("orchestrate_distributed", detail::orch_field(q, ph, "sample_of"), j, s,
                                               "is not a local sample"));
        wire[q][j] = {s,
                      ph.costs[j],
                      ph.input_bytes.empty() ? 0 : ph.input_bytes[j],
                      ph.output_bytes.empty() ? 0 : ph.output_bytes[j],
                      ph.memory.empty() ? 0 : ph.memory[j],
                      ph.tokens.empty() ? 0 : ph.tokens[j]};
      }
    }
  }, "orchestrate_distributed");
  const std::vector<std::uint64_t> mine{local_samples};
  const auto counts = comm::all_gather_v(c, mine);
  std::vector<std::size_t> sample_base(p + 1, 0);
  for (std::size_t r = 0; r < p; ++r) sample_base[r + 1] = sample_base[r] + counts.values[r];
  std::vector<index_type> origin(sample_base[p]);
  for (std::size_t r = 0; r < p; ++r)
    for (std::size_t s = sample_base[r]; s < sample_base[r + 1]; ++s) origin[s] = static_cast<index_type>(r);
  std::vector<orchestrator_phase> phases(local_phases.size());
  for (std::size_t q = 0; q < local_phases.size(); ++q) {
    const auto all = comm::all_gather_v(c, wire[q]);
    auto& ph = phases[q];
    const auto& lp = local_phases[q];
    ph.name = lp.name;
    ph.memory_cap = lp.memory_cap;
    ph.consumes = lp.consumes;
    ph.mode = lp.mode;
    ph.sp = lp.sp;
    ph.cp_degree = lp.cp_degree;
    ph.cp = lp.cp;
    const bool tokens = lp.mode == phase_mode::sequence_parallel || lp.mode == phase_mode::context_parallel;
    const std::size_t m = all.values.size();
    ph.per_item = lp.per_item;
    if (lp.per_item) ph.sample_of.resize(m);
    ph.costs.resize(m);
    ph.input_bytes.resize(m);
    ph.output_bytes.resize(m);
    ph.memory.resize(m);
    if (tokens) ph.tokens.resize(m);
    for (std::size_t r = 0; r < p; ++r)
      for (std::size_t j = all.offsets[r]; j < all.offsets[r + 1]; ++j) {
        const auto& w = all.values[j];
        if (lp.per_item) ph.sample_of[j] = static_cast<index_type>(sample_base[r] + w.sample);
        ph.costs[j] = w.cost;
        ph.input_bytes[j] = w.input_bytes;
        ph.output_bytes[j] = w.output_bytes;
        ph.memory[j] = w.memory;
        if (tokens) ph.tokens[j] = w.tokens;
      }
  }
  orchestrator_plan plan = detail::abort_on_error(
      c, [&] { return orchestrate(origin, phases, opts); }, "orchestrate_distributed");
  const std::uint64_t h[2] = {plan.hash, ~plan.hash};
  std::uint64_t hmax[2] = {0, 0};
  comm::all_reduce(c, std::span<const std::uint64_t>(h), std::span<std::uint64_t>(hmax), max_op{});
  if (hmax[0] != h[0] || hmax[1] != h[1])
    throw comm_error("orchestrate_distributed: ranks computed different plans (plan hash " + std::to_string(plan.hash) +
                     " on rank " + std::to_string(comm::rank(c)) + "; do all ranks pass the same phase settings?)");
  if (global_phases) *global_phases = std::move(phases);
  return plan;
}

}  // namespace fulcrum
