// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/stage_partition.hpp
/// Vocabulary of pipeline stage partitioning: `stage_partition` (the result, contract),
/// `pipeline_options` (heterogeneous stages, memory caps, algorithm) and `stage_algorithm` (was
/// `partition_algorithm`, a name too close to the balance result `partition`; the old name is a
/// deprecated alias).
///
/// A partition of n layers into p stages is given by p + 1 boundaries
/// 0 = b[0] < b[1] < ... < b[p] = n: stage s holds layers [b[s], b[s+1]), never empty.
/// The cost of stage s holding layers [i, j) is
///     stage_fixed_cost[s] + (c[i] + ... + c[j-1]) / stage_speed[s]
/// (prefix sums: `fixed + (P[j] - P[i]) / speed`, evaluated the same way everywhere so results
/// are bit-identical), and its memory is layer_memory[i] + ... + layer_memory[j-1], which must
/// not exceed stage_memory_cap[s]. The bottleneck is the largest stage cost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/core/stats.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

/// Which exact algorithm `partition_stages` runs.
enum class stage_algorithm {
  automatic,          ///< nicol when the stages are homogeneous, else exact_bisection
  nicol,              ///< Nicol's exact parametric search, O(n + (p log n)^2); homogeneous stages only
  exact_bisection,    ///< exact bisection over realizable bottlenecks (Pinar-Aykanat); any stages
  dynamic_programming ///< plain O(n^2 p) dynamic program (reference / baseline); any stages
};
/// The former name of stage_algorithm.
using partition_algorithm [[deprecated("renamed fulcrum::stage_algorithm")]] = stage_algorithm;

/// Names of stage_algorithm in declaration order (core/enum_names.hpp: to_string, parse_enum).
[[nodiscard]] constexpr enum_names_table<stage_algorithm, 4> enum_table(stage_algorithm) noexcept {
  return {"stage_algorithm", {"automatic", "nicol", "exact_bisection", "dynamic_programming"}};
}

/// Options of `partition_stages`. Empty vectors mean "not used" (speed 1, fixed cost 0, no cap).
struct pipeline_options {
  std::vector<double> stage_speed;              ///< size p: relative speed of each stage (> 0)
  std::vector<cost_t> stage_fixed_cost;         ///< size p: cost every stage pays (embedding, head, loss)
  std::vector<std::uint64_t> layer_memory;      ///< size n: memory of each layer on its stage
  std::vector<std::uint64_t> stage_memory_cap;  ///< size p: memory cap of each stage (needs layer_memory)
  stage_algorithm algorithm = stage_algorithm::automatic;
};

/// A contiguous partition of layers into pipeline stages (contract). Like every result type:
/// `lower_bound` (pipeline: a bottleneck, cost_t), `gap()`, `proven_optimal`, `stats()` over the
/// stage costs.
struct stage_partition {
  std::vector<std::size_t> boundaries;  ///< stages + 1 entries, front() == 0, back() == n
  cost_t bottleneck = 0;                ///< largest stage cost
  bool proven_optimal = false;          ///< bottleneck is the exact optimum
  std::vector<cost_t> stage_costs;      ///< cost of every stage (same formula as the bottleneck)
  /// No partition of these layers onto these stages has a smaller bottleneck: the optimum itself
  /// when proven_optimal, else max((work + sum fixed*speed) / sum speed, min_s fixed_s + largest
  /// layer / speed_s), capped at the bottleneck.
  cost_t lower_bound = 0;

  /// (bottleneck - lower_bound) / lower_bound: 0 when proven optimal.
  [[nodiscard]] double gap() const noexcept { return result_gap(bottleneck, lower_bound, proven_optimal); }
  /// max/mean and friends over the stage costs.
  [[nodiscard]] load_stats stats() const { return summarize_loads(std::span<const cost_t>(stage_costs)); }

  [[nodiscard]] std::size_t stages() const noexcept { return boundaries.empty() ? 0 : boundaries.size() - 1; }
  /// Number of layers on stage s.
  [[nodiscard]] std::size_t size(std::size_t s) const { return boundaries.at(s + 1) - boundaries.at(s); }
};

}  // namespace fulcrum
