// SPDX-License-Identifier: Apache-2.0
/// @file packing/packing.hpp
/// Packing vocabulary: `pack_algorithm`, `oversize`, `pack_options` and the `packing` result.
/// Contract (docs/design.md).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/core/executor.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/options.hpp"
#include "fulcrum/core/stats.hpp"

namespace fulcrum {

enum class pack_algorithm {
  automatic,             ///< histogram when sizes are integers <= capacity, else best_fit_decreasing
  next_fit,              ///< one open bin
  first_fit,             ///< lowest-index bin that fits
  best_fit,              ///< fullest bin that fits
  first_fit_decreasing,  ///< first fit on sizes sorted descending
  best_fit_decreasing,   ///< best fit on sizes sorted descending
  histogram,             ///< best-fit decreasing on the size histogram, O(n + C)
  exact,                 ///< branch and bound, anytime, proves optimality
};

/// What to do with an item larger than the capacity.
enum class oversize {
  error,     ///< throw `infeasible` naming the item (default)
  truncate,  ///< treat it as exactly `capacity` (the caller truncates the sequence)
  own_bin,   ///< put it alone in a bin of its own (that bin is over capacity by design)
};

/// Names of pack_algorithm in declaration order (core/enum_names.hpp: to_string, parse_enum).
[[nodiscard]] constexpr enum_names_table<pack_algorithm, 8> enum_table(pack_algorithm) noexcept {
  return {"pack_algorithm",
          {"automatic", "next_fit", "first_fit", "best_fit", "first_fit_decreasing", "best_fit_decreasing", "histogram",
           "exact"}};
}

/// Names of oversize in declaration order (core/enum_names.hpp: to_string, parse_enum).
[[nodiscard]] constexpr enum_names_table<oversize, 3> enum_table(oversize) noexcept {
  return {"oversize", {"error", "truncate", "own_bin"}};
}

struct pack_options {
  pack_algorithm algorithm = pack_algorithm::automatic;
  oversize oversize_policy = oversize::error;
  search_limits limits{};  ///< for pack_algorithm::exact
  /// Threads lent by the caller (core/executor.hpp) for the histogram path's O(n) passes (size
  /// histogram, CSR build) when n >= 2^16; the plan is the same with or without. Default: serial.
  executor_ref executor{};
  // No seed: every packing algorithm is deterministic without one (ties break by item index);
  // rank_pack_options::seed drives pack_for_ranks' shuffle.
};

/// Result of packing. `Load` is std::uint64_t (one dimension) or std::array<std::uint64_t, D>.
/// Like every result type: `lower_bound` (packing: a number of bins, std::uint64_t), `gap()`
/// (relative, via core/stats.hpp result_gap), `proven_optimal` and `stats()` over the loads.
template <class Load = std::uint64_t>
struct basic_packing {
  grouping bins;                           ///< item indices per bin
  std::vector<Load> loads;                 ///< total size per bin (per dimension)
  std::uint64_t lower_bound = 0;           ///< best known lower bound on the number of bins (L2 or better)
  bool proven_optimal = false;             ///< bins.size() == lower_bound, or proved by exhaustive search
  pack_algorithm algorithm = pack_algorithm::automatic;  ///< the algorithm that actually ran

  /// Number of bins used.
  [[nodiscard]] std::size_t bin_count() const noexcept { return bins.size(); }
  /// bins - lower_bound.
  [[nodiscard]] std::uint64_t excess_bins() const noexcept {
    return bins.size() > lower_bound ? bins.size() - lower_bound : 0;
  }
  /// (bins - lower_bound) / lower_bound: 0 when proven optimal.
  [[nodiscard]] double gap() const noexcept {
    return result_gap(static_cast<double>(bins.size()), static_cast<double>(lower_bound), proven_optimal);
  }
  /// max/mean and friends over the bin loads (one dimension).
  [[nodiscard]] load_stats stats() const requires std::is_arithmetic_v<Load> {
    return summarize_loads(std::span<const Load>(loads));
  }
  /// max/mean and friends over the bin loads in dimension d (multi-dimensional loads).
  [[nodiscard]] load_stats stats(std::size_t d) const requires(!std::is_arithmetic_v<Load>) {
    std::vector<std::uint64_t> column(loads.size());
    for (std::size_t b = 0; b < loads.size(); ++b) column[b] = loads[b].at(d);
    return summarize_loads(std::span<const std::uint64_t>(column));
  }
};

/// One-dimensional packing result.
using packing = basic_packing<std::uint64_t>;

}  // namespace fulcrum
