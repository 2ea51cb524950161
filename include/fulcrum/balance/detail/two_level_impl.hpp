// SPDX-License-Identifier: Apache-2.0
/// @file balance/detail/two_level_impl.hpp
/// Definition of balance_two_level()'s span-level worker (declared in balance/two_level.hpp) and its
/// helpers: included by two_level.hpp in header-only mode, compiled once into fulcrum::compiled
/// otherwise (src/balance.cpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "fulcrum/balance/balance.hpp"
#include "fulcrum/balance/detail/bounds.hpp"
#include "fulcrum/balance/local_search.hpp"
#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/balance/two_level.hpp"
#include "fulcrum/config.hpp"
#include "fulcrum/core/step_grid.hpp"

namespace fulcrum {

namespace detail {

/// Assembles the result from item -> rank and item -> micro-batch (internal label r * m + j).
template <class = void>
inline two_level_partition two_level_assemble(std::span<const cost_t> costs, std::size_t ranks, std::size_t m,
                                              std::span<const index_type> rank_of, std::span<const index_type> mb_of,
                                              cost_t rank_bound, cost_t mb_bound, bool bottom_up) {
  const std::size_t n = costs.size();
  two_level_partition out;
  out.bottom_up = bottom_up;
  out.ranks = make_partition(rank_of, costs, ranks, rank_bound);
  // Order micro-batches inside each rank by load descending (ties by current label), then store
  // them step-major: rank r's j-th micro-batch is cell (j, r), group j * ranks + r.
  std::vector<cost_t> loads(ranks * m, 0.0);
  for (std::size_t i = 0; i < n; ++i) loads[mb_of[i]] += costs[i];
  std::vector<index_type> cell(ranks * m);
  std::vector<index_type> local(m);
  for (std::size_t r = 0; r < ranks; ++r) {
    for (std::size_t j = 0; j < m; ++j) local[j] = static_cast<index_type>(r * m + j);
    std::sort(local.begin(), local.end(),
              [&](index_type a, index_type b) { return loads[a] > loads[b] || (loads[a] == loads[b] && a < b); });
    for (std::size_t j = 0; j < m; ++j) cell[local[j]] = static_cast<index_type>(j * ranks + r);
  }
  std::vector<index_type> cell_of(n);
  for (std::size_t i = 0; i < n; ++i) cell_of[i] = cell[mb_of[i]];
  const partition mbs = make_partition(cell_of, costs, ranks * m, mb_bound);
  out.micro_batches = step_grid(mbs.parts, m, ranks);  // cells j * ranks + r: step-major
  out.micro_batch_loads = mbs.loads;
  out.micro_batch_makespan = mbs.makespan;
  out.micro_batch_lower_bound = mb_bound;
  out.lower_bound = out.ranks.lower_bound;
  out.proven_optimal = out.ranks.proven_optimal;
  for (std::size_t j = 0; j < m; ++j) {
    cost_t column = 0;
    for (std::size_t r = 0; r < ranks; ++r) column = std::max(column, mbs.loads[j * ranks + r]);
    out.lockstep_time += column;
  }
  return out;
}

/// Bottom-up, equal counts: deals ranks * m micro-batches (loads `mb_loads`, item counts q or q + 1)
/// onto the ranks, m each, so that every rank holds floor(e / ranks) or ceil(e / ranks) of the e
/// larger ones: rank item counts then differ by at most one. Greedy in load order (heaviest first,
/// ties by index) onto the lightest rank that may still take a micro-batch of that size class
/// (the quotas are monotone, so lazily checked heaps suffice and the greedy always completes),
/// then swaps of same-class micro-batches between the heaviest rank and another while they lower
/// the heaviest load (at most `max_pairs` micro-batch pairs examined). O(rm log r + max_pairs).
template <class = void>
inline void two_level_deal_equal_counts(std::span<const cost_t> mb_loads, std::span<const std::uint8_t> big,
                                        std::span<const index_type> mb_order, std::size_t ranks, std::size_t m,
                                        std::span<index_type> rank_of_mb, std::uint64_t max_pairs = 20'000'000) {
  std::size_t e = 0;
  for (const std::uint8_t b : big) e += b;
  const std::size_t b0 = e / ranks, e1 = e % ranks;  // e1 ranks hold b0 + 1 large, the rest b0
  std::vector<cost_t> load(ranks, 0.0);
  std::vector<std::size_t> n_big(ranks, 0), n_small(ranks, 0);
  std::size_t ranks_a = 0, ranks_b = 0;  // ranks that reached b0 + 1 large / m - b0 small
  const auto may_take = [&](std::size_t r, bool large) {
    if (large) return n_big[r] < b0 || (n_big[r] == b0 && n_small[r] < m - b0 && ranks_a < e1);
    return n_small[r] + 1 < m - b0 || (n_small[r] + 1 == m - b0 && n_big[r] <= b0 && ranks_b < ranks - e1);
  };
  struct entry {
    cost_t load;
    std::size_t rank;
  };
  const auto heavier = [](const entry& a, const entry& b) {
    return a.load > b.load || (a.load == b.load && a.rank > b.rank);
  };
  std::array<std::vector<entry>, 2> heaps;  // min-heaps by (load, rank); stale entries are skipped lazily
  for (std::size_t r = 0; r < ranks; ++r) heaps[0].push_back({0.0, r}), heaps[1].push_back({0.0, r});
  for (const index_type g : mb_order) {
    const bool large = big[g] != 0;
    auto& heap = heaps[large ? 1 : 0];
    std::size_t r = ranks;
    while (!heap.empty()) {
      const entry top = heap.front();
      std::pop_heap(heap.begin(), heap.end(), heavier);
      heap.pop_back();
      if (top.load != load[top.rank] || !may_take(top.rank, large)) continue;  // stale, or out for good
      r = top.rank;
      break;
    }
    if (r == ranks) throw std::logic_error("balance_two_level: equal-count dealing found no rank");  // unreachable
    rank_of_mb[g] = static_cast<index_type>(r);
    load[r] += mb_loads[g];
    if (large && ++n_big[r] == b0 + 1) ++ranks_a;
    if (!large && ++n_small[r] == m - b0) ++ranks_b;
    for (auto& h : heaps) {
      h.push_back({load[r], r});
      std::push_heap(h.begin(), h.end(), heavier);
    }
  }
  // Same-class swaps between the heaviest rank and the others.
  std::vector<std::vector<index_type>> held(ranks);
  for (std::size_t g = 0; g < rank_of_mb.size(); ++g) held[rank_of_mb[g]].push_back(static_cast<index_type>(g));
  std::uint64_t pairs = 0;
  for (;;) {
    std::size_t h = 0;
    for (std::size_t r = 1; r < ranks; ++r)
      if (load[r] > load[h]) h = r;
    cost_t best = load[h];
    std::size_t best_p = ranks, best_a = 0, best_b = 0;
    for (std::size_t p = 0; p < ranks && pairs < max_pairs; ++p) {
      if (p == h) continue;
      for (std::size_t a = 0; a < held[h].size(); ++a)
        for (std::size_t b = 0; b < held[p].size(); ++b) {
          ++pairs;
          const index_type ga = held[h][a], gb = held[p][b];
          if (big[ga] != big[gb] || !(mb_loads[ga] > mb_loads[gb])) continue;
          const cost_t new_h = load[h] - mb_loads[ga] + mb_loads[gb];
          const cost_t new_p = load[p] - mb_loads[gb] + mb_loads[ga];
          const cost_t worse = std::max(new_h, new_p);
          if (worse < best) best = worse, best_p = p, best_a = a, best_b = b;
        }
    }
    if (best_p == ranks) break;
    const index_type ga = held[h][best_a], gb = held[best_p][best_b];
    load[h] = load[h] - mb_loads[ga] + mb_loads[gb];
    load[best_p] = load[best_p] - mb_loads[gb] + mb_loads[ga];
    held[h][best_a] = gb;
    held[best_p][best_b] = ga;
    rank_of_mb[ga] = static_cast<index_type>(best_p);
    rank_of_mb[gb] = static_cast<index_type>(h);
    if (pairs >= max_pairs) break;
  }
}

FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER two_level_partition balance_two_level_costs(std::span<const cost_t> costs, std::size_t ranks,
                                                           std::size_t m, const balance_options& opts) {
  constexpr std::string_view where = "balance_two_level";
  if (ranks == 0) throw invalid_input(describe(where, "ranks", ranks, "need at least one rank"));
  if (m == 0) throw invalid_input(describe(where, "micro_batches", m, "need at least one micro-batch per rank"));
  if (ranks > std::numeric_limits<index_type>::max() / m)
    throw invalid_input(describe(where, "micro_batches", m, "ranks * micro_batches overflows index_type"));
  const std::size_t n = costs.size();
  // Validates costs and capacity for ranks * m micro-batches (throws infeasible if no plan can exist).
  const cost_t mb_bound = balance_check_inputs(where, costs, ranks * m, opts);
  const cost_t rank_bound = balance_lower_bound(costs, ranks, opts.equal_counts);
  const cost_t cap = opts.part_capacity;

  // Top-down.
  balance_options level1 = opts;
  level1.part_capacity = cap < std::numeric_limits<cost_t>::infinity() ? cap * static_cast<cost_t>(m) : cap;
  bool top_down_ok = true;
  std::vector<index_type> rank_of, mb_of(n);
  try {
    const partition by_rank = balance_costs(costs, ranks, level1);
    rank_of = by_rank.parts.assignment(n);
    std::vector<cost_t> share;
    for (std::size_t r = 0; r < ranks; ++r) {
      const auto items = by_rank.parts[r];
      share.assign(items.size(), 0.0);
      for (std::size_t j = 0; j < items.size(); ++j) share[j] = costs[items[j]];
      const partition inner = balance_costs(share, m, opts);
      for (std::size_t g = 0; g < m; ++g)
        for (index_type local : inner.parts[g]) mb_of[items[local]] = static_cast<index_type>(r * m + g);
    }
  } catch (const infeasible&) {
    if (!(cap < std::numeric_limits<cost_t>::infinity())) throw;
    top_down_ok = false;
  }
  if (top_down_ok) return two_level_assemble(costs, ranks, m, rank_of, mb_of, rank_bound, mb_bound, false);

  // Bottom-up: micro-batches first (under the capacity), then m of them per rank.
  const partition mbs = balance_costs(costs, ranks * m, opts);  // throws infeasible with its reason
  std::vector<cost_t> mb_loads(mbs.loads.begin(), mbs.loads.end());
  const auto mb_order = radix_order_descending(mb_loads);
  std::vector<index_type> rank_of_mb(ranks * m);
  std::vector<cost_t> rank_loads(ranks, 0.0);
  // Size classes of the micro-batches: with equal_counts they hold q or q + 1 items each, and the
  // q + 1 ones must be dealt evenly over the ranks, or rank item counts drift apart.
  std::vector<std::uint8_t> big(ranks * m, 0);
  bool two_sizes = false;
  if (opts.equal_counts) {
    const std::size_t q = n / (ranks * m);
    for (std::size_t g = 0; g < ranks * m; ++g) {
      big[g] = mbs.parts.group_size(g) > q ? 1 : 0;
      two_sizes = two_sizes || big[g] != big[0];
    }
  }
  if (two_sizes) {
    two_level_deal_equal_counts(mb_loads, big, mb_order, ranks, m, rank_of_mb);
  } else {
    lpt_equal_counts_into(mb_loads, mb_order, rank_loads, rank_of_mb);
    local_search_engine engine(mb_loads, ranks, rank_of_mb, mb_order);
    engine.run(local_search_options{1'000'000, std::numeric_limits<std::size_t>::max(), true});
    engine.assignment(rank_of_mb);
  }
  std::vector<index_type> slot(ranks, 0);
  std::vector<index_type> mb_label(ranks * m);
  for (std::size_t g = 0; g < ranks * m; ++g) {
    const index_type r = rank_of_mb[g];
    mb_label[g] = static_cast<index_type>(r * m + slot[r]++);
  }
  rank_of.assign(n, 0);
  for (std::size_t g = 0; g < ranks * m; ++g)
    for (index_type i : mbs.parts[g]) {
      rank_of[i] = rank_of_mb[g];
      mb_of[i] = mb_label[g];
    }
  return two_level_assemble(costs, ranks, m, rank_of, mb_of, rank_bound, mb_bound, true);
}

}  // namespace detail

}  // namespace fulcrum
