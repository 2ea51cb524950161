// SPDX-License-Identifier: Apache-2.0
/// @file runtime/detail/epoch_perturb.hpp
/// The epoch planner's perturbation (runtime/epoch_plan.hpp): changes the contents of the bins
/// without changing their number, so that two epochs share few micro-batches even where the fill
/// would rebuild the same bins (items of unique sizes). Each round pairs the bins at random
/// (fulcrum::rng) and, in every pair (A, B), applies the feasible change that moves the loads
/// least: a swap of one item of A with one of B, or a move of one item to the other bin (never
/// emptying a bin); distortion = sum_d |change of A's load in d| / capacity_d, ties to the first
/// found in a seeded item order. A pair where nothing is feasible stays. O(rounds * sum over pairs
/// of |A| |B| D).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/multi.hpp"

namespace fulcrum::detail {

template <std::size_t D>
void epoch_perturb(std::span<const size_vector<D>> sizes, const size_vector<D>& capacity,
                   std::vector<std::vector<index_type>>& bins, std::uint64_t seed, std::size_t rounds) {
  if (bins.size() < 2) return;
  std::vector<size_vector<D>> load(bins.size(), size_vector<D>{});
  for (std::size_t b = 0; b < bins.size(); ++b)
    for (const index_type i : bins[b])
      for (std::size_t d = 0; d < D; ++d) load[b][d] += sizes[i][d];
  std::array<double, D> inv{};
  for (std::size_t d = 0; d < D; ++d) inv[d] = 1.0 / static_cast<double>(capacity[d]);
  // Feasible: A gives `out` and takes `in` (either may be absent: none).
  constexpr index_type none = std::numeric_limits<index_type>::max();
  const auto delta = [&](index_type in, index_type out, std::size_t d) {
    const std::uint64_t add = in == none ? 0 : sizes[in][d], sub = out == none ? 0 : sizes[out][d];
    return static_cast<double>(add) - static_cast<double>(sub);
  };
  const auto fits = [&](std::size_t bin, index_type in, index_type out) {
    for (std::size_t d = 0; d < D; ++d) {
      const std::uint64_t add = in == none ? 0 : sizes[in][d], sub = out == none ? 0 : sizes[out][d];
      if (load[bin][d] - sub + add > capacity[d]) return false;
    }
    return true;
  };
  rng gen(seed);
  std::vector<std::size_t> order(bins.size());
  for (std::size_t round = 0; round < rounds; ++round) {
    std::iota(order.begin(), order.end(), std::size_t{0});
    gen.shuffle(std::span<std::size_t>(order));
    for (std::size_t p = 0; p + 1 < order.size(); p += 2) {
      const std::size_t a = order[p], b = order[p + 1];
      auto& A = bins[a];
      auto& B = bins[b];
      gen.shuffle(std::span<index_type>(A));
      gen.shuffle(std::span<index_type>(B));
      double best = std::numeric_limits<double>::infinity();
      std::size_t best_x = 0, best_y = 0;  // positions; A.size() / B.size() = none
      // Candidates: (x in A or none) <-> (y in B or none), not both none; A's change is y - x.
      for (std::size_t x = 0; x <= A.size(); ++x) {
        const index_type ia = x < A.size() ? A[x] : none;
        for (std::size_t y = 0; y <= B.size(); ++y) {
          const index_type ib = y < B.size() ? B[y] : none;
          if (ia == none && ib == none) continue;
          if (ib == none && A.size() < 2) continue;  // never empty a bin
          if (ia == none && B.size() < 2) continue;
          if (!fits(a, ib, ia) || !fits(b, ia, ib)) continue;
          double dist = 0;
          for (std::size_t d = 0; d < D; ++d) {
            const double c = delta(ib, ia, d);
            dist += mul(c < 0 ? -c : c, inv[d]);  // never fused: the same choice everywhere
          }
          if (dist < best) {
            best = dist;
            best_x = x;
            best_y = y;
          }
        }
      }
      if (best == std::numeric_limits<double>::infinity()) continue;
      const index_type ia = best_x < A.size() ? A[best_x] : none, ib = best_y < B.size() ? B[best_y] : none;
      for (std::size_t d = 0; d < D; ++d) {
        const std::uint64_t sa = ia == none ? 0 : sizes[ia][d], sb = ib == none ? 0 : sizes[ib][d];
        load[a][d] = load[a][d] - sa + sb;
        load[b][d] = load[b][d] - sb + sa;
      }
      if (ia != none) A.erase(A.begin() + static_cast<std::ptrdiff_t>(best_x));
      if (ib != none) B.erase(B.begin() + static_cast<std::ptrdiff_t>(best_y));
      if (ib != none) A.push_back(ib);
      if (ia != none) B.push_back(ia);
    }
  }
}

}  // namespace fulcrum::detail
