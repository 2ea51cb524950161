// SPDX-License-Identifier: Apache-2.0
/// @file testing/checkers.hpp
/// Independent checkers for results. They recompute everything from the raw input and share no
/// code with the algorithms: every item placed exactly once, no bin over capacity (in every
/// dimension), loads recomputed from scratch, value never below the reported lower bound.
/// Each returns a `check_result` that converts to bool and carries a message naming the problem.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/core/wide_int.hpp"

namespace fulcrum::testing {

struct check_result {
  bool ok = true;
  std::string message;
  explicit operator bool() const noexcept { return ok; }
  static check_result fail(const std::string& m) { return {false, m}; }
};

/// Every item 0..n-1 appears exactly once and no index is out of range; offsets are consistent.
[[nodiscard]] inline check_result check_exactly_once(const grouping& g, std::size_t n) {
  const auto offsets = g.offsets();
  if (offsets.size() != g.size() + 1 || offsets.front() != 0 || offsets.back() != g.indices().size())
    return check_result::fail("offsets inconsistent with indices");
  std::vector<std::uint8_t> seen(n, 0);
  for (std::size_t b = 0; b < g.size(); ++b)
    for (auto i : g[b]) {
      if (i >= n) return check_result::fail("group " + std::to_string(b) + " holds out-of-range item " + std::to_string(i));
      if (seen[i]++) return check_result::fail("item " + std::to_string(i) + " placed twice (again in group " + std::to_string(b) + ")");
    }
  for (std::size_t i = 0; i < n; ++i)
    if (!seen[i]) return check_result::fail("item " + std::to_string(i) + " never placed");
  return {};
}

/// Loads recomputed from scratch: load[g] = sum of costs of group g's items (index order within group).
template <class T>
[[nodiscard]] std::vector<double> recompute_loads(const grouping& g, std::span<const T> costs) {
  std::vector<double> loads(g.size(), 0.0);
  for (std::size_t b = 0; b < g.size(); ++b)
    for (auto i : g[b]) loads[b] += static_cast<double>(costs[i]);
  return loads;
}

/// Every group's total size is <= capacity.
template <class T>
[[nodiscard]] check_result check_capacity(const grouping& g, std::span<const T> sizes, std::uint64_t capacity) {
  for (std::size_t b = 0; b < g.size(); ++b) {
    uint128 total = 0;
    for (auto i : g[b]) total += static_cast<std::uint64_t>(sizes[i]);
    if (total > capacity)
      return check_result::fail("group " + std::to_string(b) + " holds " + std::to_string(static_cast<std::uint64_t>(total)) +
                                " > capacity " + std::to_string(capacity));
  }
  return {};
}

/// Multi-constraint: every group's total in every dimension d is <= capacity[d].
template <class T, std::size_t D>
[[nodiscard]] check_result check_capacity(const grouping& g, std::span<const std::array<T, D>> sizes,
                                          const std::array<std::uint64_t, D>& capacity) {
  for (std::size_t b = 0; b < g.size(); ++b)
    for (std::size_t d = 0; d < D; ++d) {
      uint128 total = 0;
      for (auto i : g[b]) total += static_cast<std::uint64_t>(sizes[i][d]);
      if (total > capacity[d])
        return check_result::fail("group " + std::to_string(b) + " dimension " + std::to_string(d) + " holds " +
                                  std::to_string(static_cast<std::uint64_t>(total)) + " > capacity " + std::to_string(capacity[d]));
    }
  return {};
}

/// Reported loads equal loads recomputed from scratch, within a relative tolerance.
template <class T, class L>
[[nodiscard]] check_result check_loads(const grouping& g, std::span<const T> costs, std::span<const L> reported,
                                       double rel_tol = 1e-9) {
  if (reported.size() != g.size())
    return check_result::fail("reported " + std::to_string(reported.size()) + " loads for " + std::to_string(g.size()) + " groups");
  const auto loads = recompute_loads(g, costs);
  for (std::size_t b = 0; b < loads.size(); ++b) {
    const double r = static_cast<double>(reported[b]);
    if (std::fabs(r - loads[b]) > rel_tol * std::max(1.0, std::fabs(loads[b]))) {
      std::ostringstream os;
      os.precision(17);
      os << "group " << b << " reported load " << r << " but recomputed " << loads[b];
      return check_result::fail(os.str());
    }
  }
  return {};
}

/// value >= bound (within a relative tolerance for floating-point sums).
[[nodiscard]] inline check_result check_bound(double value, double bound, double rel_tol = 1e-9) {
  if (value + rel_tol * std::max(1.0, std::fabs(bound)) < bound) {
    std::ostringstream os;
    os.precision(17);
    os << "value " << value << " is below its claimed lower bound " << bound;
    return check_result::fail(os.str());
  }
  return {};
}

/// Largest recomputed load (the makespan) of a grouping.
template <class T>
[[nodiscard]] double recompute_makespan(const grouping& g, std::span<const T> costs) {
  double m = 0;
  for (double l : recompute_loads(g, costs)) m = std::max(m, l);
  return m;
}

}  // namespace fulcrum::testing
