// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/dp_partition.hpp
/// The plain dynamic program for the chains-on-chains partition (Anily-Federgruen / Hansen-Lih):
/// D[s][j] = min over i < j of max(D[s-1][i], cost_s(i, j)), with per-stage speed, fixed cost and
/// memory cap. Kept as the textbook reference and the in-run baseline of the benchmarks.
/// Complexity: O(n^2 p) time, O(n p) memory. Guarantee: exact.
/// Determinism: ties take the smallest i (earliest boundary) at every step.
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
inline stage_partition dp_partition(const chain& c) {
  constexpr std::string_view where = "partition_stages(dynamic_programming)";
  constexpr cost_t inf = std::numeric_limits<cost_t>::infinity();
  const std::size_t n = c.n, p = c.p;
  std::vector<cost_t> prev(n + 1, inf), cur(n + 1, inf);
  std::vector<std::size_t> from((p + 1) * (n + 1), 0);
  prev[0] = 0;
  for (std::size_t s = 0; s < p; ++s) {
    std::fill(cur.begin(), cur.end(), inf);
    for (std::size_t j = s + 1; j + (p - 1 - s) <= n; ++j) {
      for (std::size_t i = s; i < j; ++i) {
        if (prev[i] == inf || !c.fits(s, i, j)) continue;
        const cost_t v = std::max(prev[i], c.cost(s, i, j));
        if (v < cur[j]) cur[j] = v, from[(s + 1) * (n + 1) + j] = i;
      }
    }
    std::swap(prev, cur);
  }
  if (prev[n] == inf) {
    // memory infeasible: name the first stage that cannot be filled
    reach_probe probe(c);
    require_memory_feasible(where, c, probe);
    throw infeasible(describe(where, "stages", p, "no feasible partition"));
  }
  std::vector<std::size_t> b(p + 1);
  b[p] = n;
  for (std::size_t s = p; s-- > 0;) b[s] = from[(s + 1) * (n + 1) + b[s + 1]];
  return c.make(std::move(b), true);
}

}  // namespace detail

/// The O(n^2 p) dynamic program on precomputed layer costs (any stages).
template <class = void>
[[nodiscard]] inline stage_partition dp_partition(std::span<const cost_t> layer_costs, std::size_t stages,
                                                  const pipeline_options& opts = {}) {
  const auto c = detail::make_chain("partition_stages(dynamic_programming)",
                                    std::vector<cost_t>(layer_costs.begin(), layer_costs.end()), stages, opts);
  return detail::dp_partition(c);
}

}  // namespace fulcrum
