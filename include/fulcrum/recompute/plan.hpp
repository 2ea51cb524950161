// SPDX-License-Identifier: Apache-2.0
/// @file recompute/plan.hpp
/// Vocabulary of memory-budgeted activation recomputation (contract): per layer a list of
/// `recompute_option`s {memory kept, time added} (e.g. keep all activations / selective recompute
/// of the attention core / full recompute keeping only the layer input); a `recompute_plan`
/// picks one option per layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fulcrum/core/detail/chrono.hpp"
#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/core/options.hpp"
#include "fulcrum/core/stats.hpp"

namespace fulcrum {

/// One way to run a layer: the activation memory it keeps for the backward pass and the time it
/// adds (recomputation in the backward pass). Contract.
struct recompute_option {
  std::uint64_t memory = 0;  ///< memory kept (bytes, MiB, ... any integer unit)
  double time = 0;           ///< time added
};

/// One option per layer. Contract: choice, memory, time, proven_optimal. Like every result type:
/// `lower_bound` (recompute: an added time, double), `gap()`, `proven_optimal`.
struct recompute_plan {
  std::vector<std::size_t> choice;  ///< choice[l] = index of the option taken for layer l
  std::uint64_t memory = 0;         ///< total memory kept (<= budget)
  double time = 0;                  ///< total time added (summed in layer order)
  bool proven_optimal = false;      ///< time is the minimum over all plans within the budget
  double lower_bound = 0;           ///< no plan within the budget adds less time than this

  /// (time - lower_bound) / lower_bound (core/stats.hpp result_gap: 0 when proven optimal or both
  /// are 0, 1 when only the bound is 0).
  [[nodiscard]] double gap() const noexcept { return result_gap(time, lower_bound, proven_optimal); }
};

enum class recompute_algorithm {
  automatic,            ///< dynamic_programming, falling back to branch_and_bound past the node limit
  dynamic_programming,  ///< exact: Pareto-frontier DP over (memory, time)
  branch_and_bound,     ///< exact, anytime: depth-first with the LP (convex hull) bound
  greedy,               ///< convex-hull greedy by added time per unit of memory saved
};

/// Default node budget of recompute_options (see limits).
inline constexpr std::uint64_t default_recompute_nodes = 100'000;

/// Names of recompute_algorithm in declaration order (core/enum_names.hpp: to_string, parse_enum).
[[nodiscard]] constexpr enum_names_table<recompute_algorithm, 4> enum_table(recompute_algorithm) noexcept {
  return {"recompute_algorithm", {"automatic", "dynamic_programming", "branch_and_bound", "greedy"}};
}

struct recompute_options {
  recompute_algorithm algorithm = recompute_algorithm::automatic;
  /// DP: the most frontier states kept in total; B&B: the most nodes. Past it, automatic switches
  /// to branch and bound, and branch and bound returns its best plan (proven_optimal = false,
  /// lower_bound = the LP bound). The default (100'000, no time limit) bounds the work of
  /// select_recompute by O(N K log(N K) + 100'000 (H + K)) for N layers, K options per layer and
  /// H <= N K convex-hull steps: about 1 s for 2000 layers x 3 options (tested), deterministic.
  search_limits limits{std::chrono::milliseconds::max(), default_recompute_nodes};
};

}  // namespace fulcrum
