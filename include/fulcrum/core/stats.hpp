// SPDX-License-Identifier: Apache-2.0
/// @file core/stats.hpp
/// Statistics every result reports: per-group loads summarised (max, min, mean, imbalance
/// max/mean), packing efficiency and the relative gap of a value to its lower bound. O(groups).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "fulcrum/core/types.hpp"

namespace fulcrum {

struct load_stats {
  std::size_t groups = 0;
  double sum = 0;        ///< total load
  double max = 0;        ///< heaviest group
  double min = 0;        ///< lightest group
  double mean = 0;       ///< sum / groups
  double imbalance = 1;  ///< max / mean (1 = perfect); 1 when all loads are 0
};

/// Summarises group loads (summed in group order).
template <class T>
[[nodiscard]] load_stats summarize_loads(std::span<const T> loads) {
  load_stats s;
  s.groups = loads.size();
  if (loads.empty()) return s;
  s.max = s.min = static_cast<double>(loads[0]);
  for (const T& l : loads) {
    const double v = static_cast<double>(l);
    s.sum += v;
    s.max = std::max(s.max, v);
    s.min = std::min(s.min, v);
  }
  s.mean = s.sum / static_cast<double>(loads.size());
  s.imbalance = s.mean > 0 ? s.max / s.mean : 1.0;
  return s;
}

/// Relative gap of `value` over its lower bound: (value - bound) / bound; 0 if bound == 0 and value == 0.
[[nodiscard]] inline double relative_gap(double value, double bound) noexcept {
  if (bound <= 0) return value <= 0 ? 0.0 : 1.0;
  return (value - bound) / bound;
}

/// The `gap()` of every result type: 0 when proven optimal, else relative_gap(value, bound)
/// clamped at 0 (a value below its bound can only come from rounding).
[[nodiscard]] inline double result_gap(double value, double bound, bool proven_optimal) noexcept {
  if (proven_optimal) return 0.0;
  const double g = relative_gap(value, bound);
  return g > 0 ? g : 0.0;
}

/// Packing efficiency: total size / (bins * capacity); 1 = no padding.
[[nodiscard]] inline double packing_efficiency(std::uint64_t total_size, std::size_t bins, std::uint64_t capacity) noexcept {
  if (bins == 0 || capacity == 0) return 1.0;
  return static_cast<double>(total_size) / (static_cast<double>(bins) * static_cast<double>(capacity));
}

}  // namespace fulcrum
