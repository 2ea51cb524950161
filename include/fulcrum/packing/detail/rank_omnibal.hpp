// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/rank_omnibal.hpp
/// OmniBal's balanced dynamic mini-batch ("iterative sampling and filtering", ISF; docs/workloads.md,
/// "Peer sources"), re-implemented as the in-run baseline of pack_for_ranks' benchmark and tests.
///
/// Round 0 shuffles all items (seed) and packs them by next fit under every capacity; every later
/// round keeps the packs that are "full" in some dimension (load_d >= full_at[d]; OmniBal uses
/// Q'_v = Q_v tiles and Q'_t = Q_t - 128 tokens), returns the other packs' items to the pool and
/// re-packs the pool shuffled with seed + round. After `rounds` rounds the remaining packs are
/// appended as they are. The packs are then shuffled (one per-epoch permutation) and dealt to the
/// ranks step by step (pack s * ranks + r = rank r at step s); unlike OmniBal's sampler, which drops
/// the last P mod ranks packs, the remainder forms a last partial step, so nothing is dropped.
/// O(rounds * n). Oversize items are `infeasible` (OmniBal drops them silently).
#pragma once

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/packing/detail/multi_impl.hpp"
#include "fulcrum/packing/detail/rank_bound.hpp"
#include "fulcrum/packing/detail/rank_packing_impl.hpp"
#include "fulcrum/packing/multi.hpp"
#include "fulcrum/packing/rank_packing.hpp"

namespace fulcrum::detail {

template <std::size_t D>
[[nodiscard]] rank_packing omnibal_baseline(std::span<const size_vector<D>> sizes, const size_vector<D>& capacity,
                                            const size_vector<D>& full_at, std::size_t ranks, std::size_t rounds = 50,
                                            std::uint64_t seed = default_seed) {
  constexpr const char* where = "omnibal_baseline";
  if (ranks == 0) throw invalid_input(describe(where, "ranks", ranks, "must be positive"));
  if (rounds == 0) throw invalid_input(describe(where, "rounds", rounds, "must be positive"));
  validate_multi<D>(where, sizes, capacity);
  std::vector<index_type> pool(sizes.size());
  std::iota(pool.begin(), pool.end(), index_type{0});
  std::vector<std::vector<index_type>> out, packs;
  auto next_fit = [&](std::uint64_t round_seed) {
    rng gen(round_seed);
    gen.shuffle(std::span<index_type>(pool));
    packs.clear();
    size_vector<D> load{};
    for (const index_type i : pool) {
      bool fits = !packs.empty();
      for (std::size_t d = 0; d < D && fits; ++d) fits = sizes[i][d] <= capacity[d] - load[d];
      if (!fits) {
        packs.emplace_back();
        load = size_vector<D>{};
      }
      packs.back().push_back(i);
      for (std::size_t d = 0; d < D; ++d) load[d] += sizes[i][d];
    }
  };
  next_fit(seed);
  for (std::size_t round = 1; round < rounds; ++round) {
    pool.clear();
    for (auto& p : packs) {
      bool full = false;
      size_vector<D> load{};
      for (const index_type i : p)
        for (std::size_t d = 0; d < D; ++d) load[d] += sizes[i][d];
      for (std::size_t d = 0; d < D; ++d) full = full || load[d] >= full_at[d];
      if (full) out.push_back(std::move(p));
      else pool.insert(pool.end(), p.begin(), p.end());
    }
    if (pool.empty()) {
      packs.clear();
      break;
    }
    next_fit(seed + round);
  }
  for (auto& p : packs) out.push_back(std::move(p));
  // One per-epoch permutation of the packs, dealt step by step.
  std::vector<std::size_t> order(out.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  rng gen(seed ^ 0x5bd1e995ULL);
  gen.shuffle(std::span<std::size_t>(order));
  const std::size_t steps = (out.size() + ranks - 1) / ranks;
  std::vector<std::vector<index_type>> bins(steps * ranks);
  for (std::size_t k = 0; k < order.size(); ++k) bins[k] = std::move(out[order[k]]);
  const std::uint64_t lb = std::max(multi_lower_bound<D>(sizes, capacity), coupled_lower_bound<D>(sizes, capacity));
  return make_rank_packing<D>(bins, steps, ranks, sizes, capacity, {}, lb);
}

}  // namespace fulcrum::detail
