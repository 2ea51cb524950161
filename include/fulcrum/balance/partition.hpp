// SPDX-License-Identifier: Apache-2.0
/// @file balance/partition.hpp
/// `partition`: the result of balancing items onto k parts. Contract (docs/design.md).
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "fulcrum/core/bounds.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/stats.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

/// Like every result type: `lower_bound` (balance: a makespan, cost_t), `gap()`, `proven_optimal`,
/// `stats()` over the part loads.
struct partition {
  grouping parts;               ///< k groups of item indices
  std::vector<cost_t> loads;    ///< cost of each part (summed in the part's item order)
  cost_t makespan = 0;          ///< max load
  cost_t lower_bound = 0;       ///< best known lower bound on the optimal makespan
  bool proven_optimal = false;  ///< makespan == lower bound, or proved by exhaustive search

  /// (makespan - lower_bound) / lower_bound: 0 when proven optimal, never negative.
  [[nodiscard]] double gap() const noexcept { return result_gap(makespan, lower_bound, proven_optimal); }
  /// max/mean and friends over the part loads.
  [[nodiscard]] load_stats stats() const { return summarize_loads(std::span<const cost_t>(loads)); }
};

namespace detail {
/// Builds a partition from an assignment: loads summed per part in index order, makespan, bound.
/// The same into `p`, reusing its storage (no allocation once it has held as many parts and items).
inline void make_partition_into(partition& p, std::span<const index_type> part_of, std::span<const cost_t> costs,
                                std::size_t k, cost_t lower_bound) {
  p.parts.assign_from_assignment(part_of, k);
  p.loads.assign(k, 0);
  for (std::size_t g = 0; g < k; ++g)
    for (index_type i : p.parts[g]) p.loads[g] += costs[i];
  p.makespan = p.loads.empty() ? 0 : *std::max_element(p.loads.begin(), p.loads.end());
  p.lower_bound = lower_bound;
  p.proven_optimal = p.makespan <= lower_bound;
}
inline partition make_partition(std::span<const index_type> part_of, std::span<const cost_t> costs, std::size_t k,
                                cost_t lower_bound) {
  partition p;
  make_partition_into(p, part_of, costs, k, lower_bound);
  return p;
}
}  // namespace detail

}  // namespace fulcrum
