// SPDX-License-Identifier: Apache-2.0
/// @file balance/two_level.hpp
/// Two-level balancing: a global batch onto `ranks` data-parallel ranks, then each rank's share
/// into `micro_batches` micro-batches, every rank getting the same number of micro-batches.
///
/// What: level 1 balances all items onto the ranks (balance() with opts; a finite part_capacity
/// C applies per micro-batch, so level 1 uses m * C per rank); level 2 balances each rank's items
/// onto m micro-batches (balance() with opts). If level 2 cannot meet the capacity on some rank,
/// the bottom-up plan is tried: all items onto ranks * m micro-batches under C, then those
/// micro-batches onto the ranks with exactly m each (count-restricted LPT + count-keeping local
/// search on the micro-batch loads). If that fails too, `infeasible`.
/// Within a rank, micro-batches are ordered by load descending (ties by index): if ranks step
/// through micro-batches in lockstep, aligning the j-th heaviest of every rank minimises
/// lockstep_time = sum_j max_r load(r, j) for the given grouping.
///
/// Bounds: rank_lower_bound (valid for the largest rank load of any plan), and
/// micro_batch_lower_bound = the balancing bound for ranks * m parts (valid for the largest
/// micro-batch of any plan with that many micro-batches). lockstep_time >= ranks.makespan >=
/// rank_lower_bound.
/// Complexity: that of the chosen algorithm on n items, plus per rank on its share; O(n + k m)
/// bookkeeping. Deterministic.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <limits>
#include <ranges>
#include <span>
#include <vector>

#include "fulcrum/balance/balance.hpp"
#include "fulcrum/balance/detail/bounds.hpp"
#include "fulcrum/balance/local_search.hpp"
#include "fulcrum/balance/lpt.hpp"

namespace fulcrum {

struct two_level_partition {
  partition ranks;                       ///< items onto ranks (loads = rank totals)
  grouping micro_batches;                ///< ranks * m groups: group r * m + j = rank r's j-th micro-batch
  std::vector<cost_t> micro_batch_loads; ///< ranks * m loads, same order
  std::size_t rank_count = 0;            ///< number of ranks
  std::size_t micro_batches_per_rank = 0;
  cost_t micro_batch_makespan = 0;       ///< largest micro-batch load
  cost_t micro_batch_lower_bound = 0;    ///< lower bound on the largest micro-batch (ranks * m parts)
  cost_t lockstep_time = 0;              ///< sum over j of max over ranks of micro-batch j's load
  bool bottom_up = false;                ///< the capacity forced the bottom-up plan

  /// Micro-batch j of rank r.
  [[nodiscard]] std::span<const index_type> micro_batch(std::size_t r, std::size_t j) const {
    return micro_batches[r * micro_batches_per_rank + j];
  }
};

namespace detail {

/// Assembles the result from item -> rank and item -> micro-batch (global index r * m + j).
inline two_level_partition two_level_assemble(std::span<const cost_t> costs, std::size_t ranks, std::size_t m,
                                              std::span<const index_type> rank_of, std::span<const index_type> mb_of,
                                              cost_t rank_bound, cost_t mb_bound, bool bottom_up) {
  const std::size_t n = costs.size();
  two_level_partition out;
  out.rank_count = ranks;
  out.micro_batches_per_rank = m;
  out.bottom_up = bottom_up;
  out.ranks = make_partition(rank_of, costs, ranks, rank_bound);
  // Order micro-batches inside each rank by load descending (ties by current index).
  std::vector<cost_t> loads(ranks * m, 0.0);
  for (std::size_t i = 0; i < n; ++i) loads[mb_of[i]] += costs[i];
  std::vector<index_type> relabel(ranks * m);
  std::vector<index_type> local(m);
  for (std::size_t r = 0; r < ranks; ++r) {
    for (std::size_t j = 0; j < m; ++j) local[j] = static_cast<index_type>(r * m + j);
    std::sort(local.begin(), local.end(), [&](index_type a, index_type b) { return loads[a] > loads[b] || (loads[a] == loads[b] && a < b); });
    for (std::size_t j = 0; j < m; ++j) relabel[local[j]] = static_cast<index_type>(r * m + j);
  }
  std::vector<index_type> final_mb(n);
  for (std::size_t i = 0; i < n; ++i) final_mb[i] = relabel[mb_of[i]];
  const partition mbs = make_partition(final_mb, costs, ranks * m, mb_bound);
  out.micro_batches = mbs.parts;
  out.micro_batch_loads = mbs.loads;
  out.micro_batch_makespan = mbs.makespan;
  out.micro_batch_lower_bound = mb_bound;
  for (std::size_t j = 0; j < m; ++j) {
    cost_t column = 0;
    for (std::size_t r = 0; r < ranks; ++r) column = std::max(column, mbs.loads[r * m + j]);
    out.lockstep_time += column;
  }
  return out;
}

inline two_level_partition balance_two_level_costs(std::span<const cost_t> costs, std::size_t ranks, std::size_t m,
                                                   const balance_options& opts) {
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
  lpt_equal_counts_into(mb_loads, mb_order, rank_loads, rank_of_mb);
  local_search_engine engine(mb_loads, ranks, rank_of_mb, mb_order);
  engine.run(local_search_options{1'000'000, std::numeric_limits<std::size_t>::max(), true});
  engine.assignment(rank_of_mb);
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

/// Two-level balancing of `items` (priced by `cost(proj(item))`) onto `ranks` ranks with
/// `micro_batches` micro-batches each (see the file comment).
template <std::ranges::random_access_range R, class Cost = identity_cost, class Proj = std::identity>
  requires cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] two_level_partition balance_two_level(R&& items, std::size_t ranks, std::size_t micro_batches,
                                                    balance_options opts = {}, Cost cost = {}, Proj proj = {}) {
  const auto costs = evaluate_costs(items, cost, proj, "balance_two_level");
  return detail::balance_two_level_costs(costs, ranks, micro_batches, opts);
}

}  // namespace fulcrum
