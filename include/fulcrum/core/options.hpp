// SPDX-License-Identifier: Apache-2.0
/// @file core/options.hpp
/// Options shared by the search algorithms.
#pragma once

#include <cstdint>
#include <limits>

#include "fulcrum/core/detail/chrono.hpp"

namespace fulcrum {

/// Limits of an anytime (exact) search. The search stops at whichever limit is hit first and
/// returns the best plan found so far with its proven lower bound (proven_optimal = false).
/// The node limit is deterministic (same plan on every machine); the time limit is not, so
/// leave `time` at max() when plans must agree across ranks.
struct search_limits {
  std::chrono::milliseconds time{std::chrono::milliseconds::max()};  ///< wall-clock budget
  std::uint64_t nodes = 50'000'000;                                   ///< search-node budget
};

}  // namespace fulcrum
