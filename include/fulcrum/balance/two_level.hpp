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
/// equal_counts holds across ranks and micro-batches on both paths: rank item counts differ by at
/// most one, and so do micro-batch item counts (the bottom-up plan deals the larger micro-batches
/// evenly over the ranks, and its local search swaps only micro-batches of the same count).
///
/// Result layout: `micro_batches` is a step_grid (core/step_grid.hpp) with one step per
/// micro-batch index: micro_batches(j, r) is rank r's j-th micro-batch, and micro_batch_loads is
/// in the same step-major order (j * ranks + r). dispatch() takes the result as a plan directly.
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

#include <cstddef>
#include <functional>
#include <ranges>
#include <span>
#include <vector>

#include "fulcrum/balance/balance.hpp"
#include "fulcrum/config.hpp"
#include "fulcrum/core/step_grid.hpp"

namespace fulcrum {

struct two_level_partition {
  partition ranks;                        ///< items onto ranks (loads = rank totals)
  step_grid micro_batches;                ///< m steps x ranks: micro_batches(j, r) = rank r's j-th micro-batch
  std::vector<cost_t> micro_batch_loads;  ///< m * ranks loads, step-major: (j, r) at j * ranks + r
  cost_t micro_batch_makespan = 0;        ///< largest micro-batch load
  cost_t micro_batch_lower_bound = 0;     ///< lower bound on the largest micro-batch (ranks * m parts)
  cost_t lockstep_time = 0;               ///< sum over j of max over ranks of micro-batch j's load
  bool bottom_up = false;                 ///< the capacity forced the bottom-up plan
  cost_t lower_bound = 0;                 ///< = ranks.lower_bound: no plan has a smaller largest rank load
  bool proven_optimal = false;            ///< = ranks.proven_optimal (the rank level is optimal)

  /// The rank level's gap: (ranks.makespan - lower_bound) / lower_bound.
  [[nodiscard]] double gap() const noexcept { return ranks.gap(); }
  /// max/mean and friends over the rank loads.
  [[nodiscard]] load_stats stats() const { return ranks.stats(); }

  /// The grid (what dispatch() takes from a planner that returns a two_level_partition).
  [[nodiscard]] const step_grid& grid() const noexcept { return micro_batches; }
  /// Number of ranks.
  [[nodiscard]] std::size_t rank_count() const noexcept { return micro_batches.ranks(); }
  /// Micro-batches per rank.
  [[nodiscard]] std::size_t micro_batches_per_rank() const noexcept { return micro_batches.steps(); }
  /// Micro-batch j of rank r (unchecked; micro_batches.at(j, r) checks).
  [[nodiscard]] std::span<const index_type> micro_batch(std::size_t r, std::size_t j) const {
    return micro_batches(j, r);
  }
  /// Load of micro-batch j of rank r.
  [[nodiscard]] cost_t micro_batch_load(std::size_t r, std::size_t j) const {
    return micro_batch_loads[j * micro_batches.ranks() + r];
  }
};

namespace detail {

/// The span-level worker behind balance_two_level (balance/detail/two_level_impl.hpp, or
/// fulcrum::compiled).
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER two_level_partition balance_two_level_costs(std::span<const cost_t> costs, std::size_t ranks,
                                                           std::size_t m, const balance_options& opts);

}  // namespace detail

/// Two-level balancing of `items` (priced by `cost(proj(item))`) onto `ranks` ranks with
/// `micro_batches` micro-batches each (see the file comment).
template <std::ranges::random_access_range R, class Cost = identity_cost, class Proj = std::identity>
  requires cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] two_level_partition balance_two_level(R&& items, std::size_t ranks, std::size_t micro_batches,
                                                    balance_options opts = {}, Cost cost = {}, Proj proj = {}) {
  const auto costs = evaluate_costs(items, cost, proj, "balance_two_level", opts.executor);
  return detail::balance_two_level_costs(costs, ranks, micro_batches, opts);
}

}  // namespace fulcrum

#if !defined(FULCRUM_COMPILED)
#include "fulcrum/balance/detail/two_level_impl.hpp"
#endif
