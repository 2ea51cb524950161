// SPDX-License-Identifier: Apache-2.0
/// @file balance/options.hpp
/// Balancing options: `balance_algorithm` and `balance_options`. Contract (docs/design.md).
#pragma once

#include <cstdint>
#include <limits>

#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/core/executor.hpp"
#include "fulcrum/core/options.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

enum class balance_algorithm {
  automatic,       ///< best quality within the fast path's budget (see balance.hpp)
  greedy,          ///< LPT
  karmarkar_karp,  ///< k-way largest differencing
  multifit,        ///< bisection on capacity with first-fit decreasing
  complete,        ///< anytime exact search (proves optimality)
  local_search,    ///< LPT followed by moves and swaps between heaviest and lightest parts
};

/// Names of balance_algorithm in declaration order (core/enum_names.hpp: to_string, parse_enum).
[[nodiscard]] constexpr enum_names_table<balance_algorithm, 6> enum_table(balance_algorithm) noexcept {
  return {"balance_algorithm", {"automatic", "greedy", "karmarkar_karp", "multifit", "complete", "local_search"}};
}

struct balance_options {
  balance_algorithm algorithm = balance_algorithm::automatic;
  /// Every part gets floor(n/k) or ceil(n/k) items.
  bool equal_counts = false;
  /// Maximum cost per part (e.g. max tokens per micro-batch); infinity = none.
  cost_t part_capacity = std::numeric_limits<cost_t>::infinity();
  /// Bounds `complete` (search nodes = items placed) and the improvement phase of `automatic`
  /// (nodes = local-search steps over all its phases; time checked every 1024 steps); also the
  /// complete search that decides part_capacity. `nodes = 0` makes `automatic` plain LPT.
  search_limits limits{};
  /// Threads lent by the caller (core/executor.hpp) to evaluate the costs (n >= 2^16): the cost
  /// model is then called from several threads. The plan is the same. Default: serial.
  executor_ref executor{};
  // No seed: every balancing algorithm is deterministic without one (ties break by item index).
};

}  // namespace fulcrum
