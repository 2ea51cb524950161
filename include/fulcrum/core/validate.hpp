// SPDX-License-Identifier: Apache-2.0
/// @file core/validate.hpp
/// The one input validation shared by every balancing and rank-packing front door (balance(),
/// lpt/karmarkar_karp/multifit/local_search/complete_balance, post_balance, balance_two_level,
/// balance_phases, pack_for_ranks). It runs before anything is allocated for the output, so a bad
/// input costs O(n) time and no memory.
///
///  - Parts (k, ranks, ranks * micro_batches): 1 <= k <= `max_parts` = 2^24 (16,777,216). Every
///    algorithm keeps O(k) state per part; beyond 2^24 parts a plan is not a load-balancing question
///    any more and a mistyped count (2^31, SIZE_MAX) would otherwise allocate gigabytes and die.
///  - Items: n <= 2^32 - 1 (index_type).
///  - Costs: every cost finite and >= 0 (-0.0 counts as 0), and their sum, taken in index order,
///    finite (a sum that overflows a double makes every load, bound and metric meaningless).
/// Violations throw `invalid_input` naming the field, index and value.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string_view>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

/// Largest number of parts (ranks, micro-batches, ranks x micro-batches) any front door accepts.
inline constexpr std::size_t max_parts = std::size_t{1} << 24;

namespace detail {

/// Throws invalid_input unless 1 <= k <= max_parts and n fits index_type. `field` names k as the
/// caller calls it ("k", "ranks", ...).
inline void validate_parts(std::string_view where, std::string_view field, std::size_t k, std::size_t n) {
  if (k == 0) throw invalid_input(describe(where, field, k, "need at least one part"));
  if (k > max_parts)
    throw invalid_input(describe(where, field, k, "exceeds the limit of 16777216 (2^24) parts (fulcrum::max_parts)"));
  if (n > std::numeric_limits<index_type>::max())
    throw invalid_input(describe(where, "items", n, "more items than index_type can address (2^32 - 1)"));
}

/// Throws invalid_input naming the first cost that is NaN, infinite or negative, or the item
/// count when the costs' sum (index order) overflows a double. Returns that sum.
inline cost_t validate_costs(std::string_view where, std::span<const cost_t> costs) {
  cost_t total = 0;
  for (std::size_t i = 0; i < costs.size(); ++i) {
    const cost_t c = costs[i];
    if (!(c >= 0) || std::isinf(c)) {
      if (std::isnan(c)) throw invalid_input(describe(where, "cost", i, c, "is NaN"));
      if (std::isinf(c)) throw invalid_input(describe(where, "cost", i, c, "is infinite"));
      throw invalid_input(describe(where, "cost", i, c, "is negative"));
    }
    total += c;
  }
  if (!std::isfinite(total))
    throw invalid_input(describe(where, "costs", costs.size(), "their sum overflows a double: rescale the cost model"));
  return total;
}

}  // namespace detail
}  // namespace fulcrum
