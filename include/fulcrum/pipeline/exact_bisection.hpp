// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/exact_bisection.hpp
/// Exact bisection for the chains-on-chains partition with heterogeneous stages (Pinar and
/// Aykanat's "exact bisection", extended to per-stage speed, fixed cost and memory cap).
///
/// What: bisection on the bottleneck B between a lower bound and the bottleneck of a feasible
/// partition. Each probe computes, stage by stage, the exact set of positions where the stage can
/// end (a short list of intervals; exact for any speeds, fixed costs and caps, where a greedy
/// probe is not). A successful probe lowers the upper bound to the bottleneck of the partition it
/// realises; a failed one raises the lower bound to the next value at which any reachable set
/// changes. Both bounds are therefore always realisable stage costs and the loop ends exactly.
/// Complexity: O(n log n) set-up; each probe O(p k log n) for k intervals per stage (k = 1 unless
/// single layers exceed the bound); the number of probes is at most the number of bits between
/// the bounds (typically 20-40).
/// Guarantee: exact (proven_optimal = true). A memory cap that no assignment meets throws
/// `infeasible` naming the stage.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "fulcrum/pipeline/detail/chain.hpp"
#include "fulcrum/pipeline/stage_partition.hpp"

namespace fulcrum {
namespace detail {

/// A bound no partition can beat: every layer sits on some stage, and the stages together can do
/// at most sum_s (B - fixed_s) * speed_s work.
template <class = void>
inline cost_t partition_lower_bound(const chain& c) {
  cost_t lb = 0;
  for (std::size_t i = 0; i < c.n; ++i) {
    cost_t best = std::numeric_limits<cost_t>::infinity();
    for (std::size_t s = 0; s < c.p; ++s) best = std::min(best, c.cost(s, i, i + 1));
    lb = std::max(lb, best);
  }
  double speed_sum = 0, fixed_work = 0;
  for (std::size_t s = 0; s < c.p; ++s) speed_sum += c.speed[s], fixed_work += c.fixed[s] * c.speed[s];
  return std::max(lb, (c.prefix[c.n] + fixed_work) / speed_sum * (1.0 - 1e-12));
}

template <class = void>
inline stage_partition exact_bisection_partition(const chain& c) {
  constexpr std::string_view where = "partition_stages(exact_bisection)";
  reach_probe probe(c);
  require_memory_feasible(where, c, probe);
  // Upper bound: any feasible partition.
  if (!probe.run(std::numeric_limits<cost_t>::infinity()))
    throw infeasible(describe(where, "stages", c.p, "no feasible partition"));
  stage_partition best = c.make(probe.extract(std::numeric_limits<cost_t>::infinity()), false);
  cost_t hi = best.bottleneck;
  cost_t lo = std::min(partition_lower_bound(c), hi);
  while (lo < hi) {
    cost_t mid = lo + (hi - lo) / 2;
    if (!(mid < hi)) mid = lo;
    if (probe.run(mid)) {
      best = c.make(probe.extract(mid), false);
      hi = best.bottleneck;  // <= mid
    } else {
      lo = std::min(probe.next_event(), hi);  // > mid: nothing changes below it
    }
  }
  best.proven_optimal = true;
  return best;
}

}  // namespace detail

/// Exact bisection on precomputed layer costs (any stages; see file docs).
template <class = void>
[[nodiscard]] inline stage_partition exact_bisection_partition(std::span<const cost_t> layer_costs, std::size_t stages,
                                                               const pipeline_options& opts = {}) {
  const auto c = detail::make_chain("partition_stages(exact_bisection)",
                                    std::vector<cost_t>(layer_costs.begin(), layer_costs.end()), stages, opts);
  return detail::exact_bisection_partition(c);
}

}  // namespace fulcrum
