// SPDX-License-Identifier: Apache-2.0
/// @file packing/rank_packing_result.hpp
/// `rank_packing`, the result of pack_for_ranks (contract, docs/design.md), and OmniBal's metrics over
/// it (DistRatio, PadRatio).
///
/// What: `bins` is a `step_grid` (core/step_grid.hpp): bins(s, r) is rank r's micro-batch at step
/// s; every rank runs bins.steps() micro-batches; empty bins occur only in the last step. Per-bin
/// arrays (`loads`, `costs`) are indexed by the flat step-major bin index b = s * ranks() + r, the
/// index of bins.groups().
/// Complexity: the metrics are O(bins + items). Guarantee: the metrics read the grid through its
/// (step, rank) layout only; they never reinterpret a flat grouping.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/stats.hpp"
#include "fulcrum/core/step_grid.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

/// Result of pack_for_ranks (contract: bins, steps, ranks). bins(s, r) is rank r's micro-batch at
/// step s; empty bins occur only in the last step.
struct rank_packing {
  step_grid bins;                    ///< steps() x ranks() bins of item indices (increasing index order within a bin)
  std::size_t dims = 0;              ///< size dimensions D (1 for scalar sizes)
  std::vector<std::uint64_t> loads;  ///< bins * dims sizes: bin b = s * ranks() + r, dimension d at b * dims + d
  std::vector<cost_t> costs;         ///< per-bin cost (bin b = s * ranks() + r) when a cost model was given, else empty
  std::uint64_t lower_bound =
      0;  ///< lower bound on non-empty bins: max of L2 per dimension and the coupled bound (detail/rank_bound.hpp)
  std::size_t used_bins = 0;  ///< non-empty bins
  std::vector<double> dist;   ///< DistRatio per dimension (see dist_ratio_of_loads)
  double cost_dist = 0;       ///< DistRatio of the per-bin costs (0 without a cost model)
  std::vector<double> pad;    ///< PadRatio per dimension (see pad_ratio)
  bool proven_optimal = false;  ///< used_bins == lower_bound

  /// (used_bins - lower_bound) / lower_bound: 0 when proven optimal.
  [[nodiscard]] double gap() const noexcept {
    return result_gap(static_cast<double>(used_bins), static_cast<double>(lower_bound), proven_optimal);
  }

  /// The grid of bins (what dispatch() takes from a planner that returns a rank_packing).
  [[nodiscard]] const step_grid& grid() const noexcept { return bins; }
  /// Micro-batch steps (every rank runs this many).
  [[nodiscard]] std::size_t steps() const noexcept { return bins.steps(); }
  /// Data-parallel ranks.
  [[nodiscard]] std::size_t ranks() const noexcept { return bins.ranks(); }
  /// Load in dimension d of rank r's bin at step s.
  [[nodiscard]] std::uint64_t load(std::size_t s, std::size_t r, std::size_t d) const {
    return loads[(s * ranks() + r) * dims + d];
  }
  /// Lower bound on steps: ceil(lower_bound / ranks).
  [[nodiscard]] std::size_t step_lower_bound() const noexcept {
    return ranks() == 0 ? 0 : static_cast<std::size_t>((lower_bound + ranks() - 1) / ranks());
  }
};

/// OmniBal's DistRatio from per-bin values in step-major order (value b = step b / ranks, rank
/// b % ranks, as rank_packing::loads and ::costs): for every step, sum_r (X_max - X_r) /
/// (X_max * ranks) (0 for a step whose X_max is 0), averaged over the steps. 0 = every rank does
/// the same work at every step; 1 - 1/ranks = one rank does all of it.
[[nodiscard]] inline double dist_ratio_of_loads(std::span<const double> bin_values, std::size_t steps,
                                                std::size_t ranks) {
  if (steps == 0 || ranks == 0) return 0;
  double total = 0;
  for (std::size_t s = 0; s < steps; ++s) {
    double mx = 0;
    for (std::size_t r = 0; r < ranks; ++r) mx = std::max(mx, bin_values[s * ranks + r]);
    if (mx <= 0) continue;
    double step = 0;
    for (std::size_t r = 0; r < ranks; ++r) step += (mx - bin_values[s * ranks + r]) / mx;
    total += step / static_cast<double>(ranks);
  }
  return total / static_cast<double>(steps);
}

/// DistRatio of the item values `values` (e.g. vision tiles or LLM tokens per item) over the bins
/// of a grid; see dist_ratio_of_loads. Loads are recomputed from `values`.
template <class T>
[[nodiscard]] double dist_ratio(const step_grid& bins, std::span<const T> values) {
  std::vector<double> loads(bins.steps() * bins.ranks(), 0.0);
  for (std::size_t s = 0; s < bins.steps(); ++s)
    for (std::size_t r = 0; r < bins.ranks(); ++r)
      for (const auto i : bins(s, r)) loads[s * bins.ranks() + r] += static_cast<double>(values[i]);
  return dist_ratio_of_loads(loads, bins.steps(), bins.ranks());
}

/// PadRatio, fulcrum's definition: the share of the bins' capacity left unused when every bin
/// (micro-batch) is padded to `capacity`: 1 - sum(values) / (bins * capacity). Empty bins count.
/// (OmniBal pads each device batch to its longest pack, sum_b (t_max - t_b) / (t_max * B); with one
/// pack per micro-batch that is 0 by construction, so fulcrum reports padding to the capacity,
/// which is also what a static-shape (CUDA graph / XLA) trainer pays.)
template <class T>
[[nodiscard]] double pad_ratio(const grouping& bins, std::span<const T> values, std::uint64_t capacity) {
  if (bins.size() == 0 || capacity == 0) return 0;
  long double used = 0;
  for (const auto i : bins.indices()) used += static_cast<long double>(values[i]);
  return static_cast<double>(1.0L -
                             used / (static_cast<long double>(bins.size()) * static_cast<long double>(capacity)));
}
/// PadRatio over the bins of a grid (see the grouping overload).
template <class T>
[[nodiscard]] double pad_ratio(const step_grid& bins, std::span<const T> values, std::uint64_t capacity) {
  return pad_ratio(bins.groups(), values, capacity);
}

}  // namespace fulcrum
