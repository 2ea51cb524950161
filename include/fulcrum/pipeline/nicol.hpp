// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/nicol.hpp
/// Nicol's exact parametric search for the chains-on-chains partition (Nicol 1994; Pinar and
/// Aykanat, JPDC 2004): split n layer costs into p contiguous, non-empty stages minimising the
/// largest stage cost.
///
/// What: for stage s = 0 .. p-2 starting at layer i, binary-search the smallest end j such that
/// the rest of the chain can be finished with bottleneck <= cost(i, j) (greedy probe). cost(i, j)
/// is a candidate optimum; the stage then ends at j - 1 and the search moves on. The optimum is
/// the smallest candidate (or the last stage's cost).
/// Complexity: O(n) prefix sums + O((p log n)^2) probing; O(n) memory.
/// Guarantee: exact (proven_optimal = true). Needs homogeneous stages (the same speed, fixed
/// cost and memory cap on every stage), for which the greedy probe is exact and the optimum of a
/// suffix does not grow when the suffix shrinks; use exact_bisection otherwise.
/// Determinism: the boundaries are those of `exact_bisection` at the optimum (stages taken from
/// the last backwards, each starting as late as possible).
#pragma once

#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "fulcrum/pipeline/detail/chain.hpp"
#include "fulcrum/pipeline/stage_partition.hpp"

namespace fulcrum {
namespace detail {

template <class = void>
inline stage_partition nicol_partition(const chain& c) {
  constexpr std::string_view where = "partition_stages(nicol)";
  if (!c.homogeneous)
    throw invalid_input(describe(where, "options.algorithm", std::string_view("nicol"),
                                 "needs the same speed, fixed cost and memory cap on every stage; use exact_bisection"));
  reach_probe probe(c);
  require_memory_feasible(where, c, probe);
  cost_t best = std::numeric_limits<cost_t>::infinity();
  std::size_t i = 0;
  for (std::size_t s = 0; s + 1 < c.p; ++s) {
    const std::size_t limit = c.n - (c.p - 1 - s);
    // smallest j in [i+1, limit] with greedy_probe(i, s, cost(i, j)) (monotone in j).
    // Nicol+ range cuts (Pinar-Aykanat): below the suffix average every probe fails; at or above
    // the best candidate nothing can improve, and stopping there keeps the continuation exact.
    const cost_t suffix_avg =  // shaded by 1e-12 so rounding never cuts a feasible end
        (c.fixed[s] + (c.prefix[c.n] - c.prefix[i]) / c.speed[s] / static_cast<double>(c.p - s)) * (1.0 - 1e-12);
    std::size_t lo = i + 1, hi = limit + 1;
    {
      std::size_t a = lo, b = hi;  // first j with cost >= suffix average (probes below it fail)
      while (a < b) {
        const std::size_t mid = a + (b - a) / 2;
        if (c.cost(s, i, mid) < suffix_avg) a = mid + 1;
        else b = mid;
      }
      lo = a;
      a = lo, b = hi;  // first j with cost >= best
      while (a < b) {
        const std::size_t mid = a + (b - a) / 2;
        if (c.cost(s, i, mid) < best) a = mid + 1;
        else b = mid;
      }
      hi = a;
    }
    const std::size_t cut = hi;  // ends at >= cut cannot beat best
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (greedy_probe(c, i, s, c.cost(s, i, mid))) hi = mid;
      else lo = mid + 1;
    }
    if (lo < cut) best = std::min(best, c.cost(s, i, lo));
    // Stage s ends before lo; keep it memory-feasible (largest j < lo that fits).
    if (lo - 1 == i || !c.fits(s, i, i + 1)) break;  // every better solution has stage s ending at >= lo
    const std::size_t j = c.farthest(s, i, i + 1, lo - 1, std::numeric_limits<cost_t>::infinity());
    i = j;
    if (s + 2 == c.p && c.fits(s + 1, i, c.n)) best = std::min(best, c.cost(s + 1, i, c.n));
  }
  if (c.p == 1) best = c.cost(0, 0, c.n);
  if (!probe.run(best))
    throw infeasible(describe(where, "bottleneck", best, "internal error: optimum not reachable"));
  return c.make(probe.extract(best), true);
}

}  // namespace detail

/// Nicol's exact search on precomputed layer costs (homogeneous stages; see file docs).
template <class = void>
[[nodiscard]] inline stage_partition nicol_partition(std::span<const cost_t> layer_costs, std::size_t stages,
                                                     const pipeline_options& opts = {}) {
  const auto c = detail::make_chain("partition_stages(nicol)", std::vector<cost_t>(layer_costs.begin(), layer_costs.end()),
                                    stages, opts);
  return detail::nicol_partition(c);
}

}  // namespace fulcrum
