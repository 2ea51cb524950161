// SPDX-License-Identifier: Apache-2.0
/// @file testing/packing_instances.hpp
/// Seeded generators of bin-packing instances with a known optimum, for exact solvers, and a small
/// brute-force oracle.
///
/// - `triplet_instance(bins, C, seed)`: Falkenauer-style "t" instances. Every bin is filled exactly by
///   three items, each strictly between C/4 and C/2, so no bin can hold more than three items and the
///   optimum is exactly `bins` (= sum / C). Shuffled. The hard family for bin-packing heuristics.
/// - `tuple_instance(bins, C, min_k, max_k, seed)`: every bin is cut at random into min_k..max_k
///   positive parts summing to C; optimum = `bins` = sum / C. Shuffled.
/// - `uniform_instance(n, C, lo, hi, seed)`: sizes uniform in [lo, hi]; optimum unknown.
/// - `brute_force_bins(sizes, C)`: exact optimum by the classic subset DP
///   (dp[mask] = lexicographically smallest (bins, load of the open bin)), O(2^n n); n <= 20.
/// All O(n) except the oracle; platform-independent (fulcrum::rng).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/rng.hpp"

namespace fulcrum::testing {

/// Sizes plus their known optimal number of bins.
struct known_instance {
  std::vector<std::uint64_t> sizes;
  std::uint64_t capacity = 0;
  std::uint64_t optimum = 0;
};

/// Falkenauer-style triplets: three items per bin in (C/4, C/2) summing to C (C >= 16).
[[nodiscard]] inline known_instance triplet_instance(std::size_t bins, std::uint64_t capacity, std::uint64_t seed) {
  if (capacity < 16)
    throw invalid_input(fulcrum::detail::describe("triplet_instance", "capacity", capacity, "must be >= 16"));
  rng gen(seed);
  known_instance inst{{}, capacity, bins};
  const std::uint64_t q = capacity / 4;  // items must be > C/4 and < C/2
  for (std::size_t b = 0; b < bins; ++b) {
    // a in (C/4, C/2), then b in (C/4, C - a - C/4) so that c = C - a - b is in (C/4, C/2).
    while (true) {
      const std::uint64_t lo = q + 1, hi = (capacity - 1) / 2;
      const std::uint64_t x = lo + gen.below(hi - lo + 1);
      const std::uint64_t rest = capacity - x;
      // y, z in (C/4, C/2) with y + z = rest
      const std::uint64_t ylo = std::max(lo, rest > hi ? rest - hi : lo);
      const std::uint64_t yhi = std::min(hi, rest - lo);
      if (ylo > yhi) continue;
      const std::uint64_t y = ylo + gen.below(yhi - ylo + 1);
      inst.sizes.push_back(x);
      inst.sizes.push_back(y);
      inst.sizes.push_back(rest - y);
      break;
    }
  }
  gen.shuffle(std::span<std::uint64_t>(inst.sizes));
  return inst;
}

/// Bins cut into min_k..max_k positive parts summing to C (1 <= min_k <= max_k <= C).
[[nodiscard]] inline known_instance tuple_instance(std::size_t bins, std::uint64_t capacity, std::size_t min_k,
                                                   std::size_t max_k, std::uint64_t seed) {
  if (min_k == 0 || min_k > max_k || max_k > capacity)
    throw invalid_input(
        fulcrum::detail::describe("tuple_instance", "max_k", max_k, "need 1 <= min_k <= max_k <= capacity"));
  rng gen(seed);
  known_instance inst{{}, capacity, bins};
  std::vector<std::uint64_t> cuts;
  for (std::size_t b = 0; b < bins; ++b) {
    const std::size_t k = min_k + static_cast<std::size_t>(gen.below(max_k - min_k + 1));
    // k-1 distinct cut points in [1, C-1].
    cuts.clear();
    while (cuts.size() + 1 < k) {
      const std::uint64_t c = 1 + gen.below(capacity - 1);
      if (std::find(cuts.begin(), cuts.end(), c) == cuts.end()) cuts.push_back(c);
    }
    std::sort(cuts.begin(), cuts.end());
    std::uint64_t prev = 0;
    for (std::uint64_t c : cuts) inst.sizes.push_back(c - prev), prev = c;
    inst.sizes.push_back(capacity - prev);
  }
  gen.shuffle(std::span<std::uint64_t>(inst.sizes));
  return inst;
}

/// n sizes uniform in [lo, hi] (optimum unknown; use brute_force_bins for small n).
[[nodiscard]] inline std::vector<std::uint64_t> uniform_instance(std::size_t n, std::uint64_t lo, std::uint64_t hi,
                                                                 std::uint64_t seed) {
  if (lo > hi) throw invalid_input(fulcrum::detail::describe("uniform_instance", "lo", lo, "must be <= hi"));
  rng gen(seed);
  std::vector<std::uint64_t> out(n);
  for (auto& s : out) s = lo + gen.below(hi - lo + 1);
  return out;
}

/// Exact optimum number of bins by subset DP, independent of any packing code. Every size must be
/// <= capacity; n <= 20. O(2^n n).
[[nodiscard]] inline std::uint64_t brute_force_bins(std::span<const std::uint64_t> sizes, std::uint64_t capacity) {
  const std::size_t n = sizes.size();
  if (n > 20) throw invalid_input(fulcrum::detail::describe("brute_force_bins", "n", n, "must be <= 20"));
  if (n == 0) return 0;
  for (std::size_t i = 0; i < n; ++i)
    if (sizes[i] > capacity)
      throw invalid_input(fulcrum::detail::describe("brute_force_bins", "sizes", i, sizes[i], "exceeds capacity"));
  using state = std::pair<std::uint64_t, std::uint64_t>;  // (bins opened, load of the last bin)
  const std::size_t full = (std::size_t{1} << n) - 1;
  std::vector<state> dp(full + 1, {~std::uint64_t{0}, 0});
  dp[0] = {1, 0};
  for (std::size_t mask = 0; mask <= full; ++mask) {
    const state cur = dp[mask];
    if (cur.first == ~std::uint64_t{0}) continue;
    for (std::size_t i = 0; i < n; ++i) {
      if (mask & (std::size_t{1} << i)) continue;
      const state next = cur.second + sizes[i] <= capacity ? state{cur.first, cur.second + sizes[i]}
                                                         : state{cur.first + 1, sizes[i]};
      auto& slot = dp[mask | (std::size_t{1} << i)];
      if (next < slot) slot = next;
    }
  }
  return dp[full].first;
}

}  // namespace fulcrum::testing
