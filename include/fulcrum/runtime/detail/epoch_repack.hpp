// SPDX-License-Identifier: Apache-2.0
/// @file runtime/detail/epoch_repack.hpp
/// The epoch planner's bin filling (runtime/epoch_plan.hpp): the rank-aware fill of pack_for_ranks
/// (packing/detail/rank_fill.hpp) over the items in a seeded order, then a seeded repack of the
/// bins that are not full, in the manner of OmniBal's iterative sampling and filtering: the items
/// of every bin that is not within `slack` of a capacity in some dimension go to a pool; each round
/// shuffles the pool (fulcrum::rng), packs it by first fit over the last `open` bins, keeps the new
/// bins that are full and returns the others' items to the pool; after the rounds the rank-aware
/// fill packs what is left. The repacked result replaces the first fill only when it has fewer
/// bins. A first fill that meets the lower bound is kept as it is, and the rounds stop after
/// `patience` rounds in a row that keep no new bin. O(n K log C) for the fill plus
/// O(rounds * pool * open * D) for the repack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/detail/rank_fill.hpp"
#include "fulcrum/packing/multi.hpp"

namespace fulcrum::detail {

using epoch_bins = std::vector<std::vector<index_type>>;

/// Bins of `items` (indices into `sizes`, all within `capacity`) by the rank-aware fill, or by
/// multi_best_fit_decreasing where its size classes do not apply. Items are taken in the order
/// given: ties between equal sizes go to the earlier position.
template <std::size_t D>
[[nodiscard]] epoch_bins epoch_fill(std::span<const size_vector<D>> sizes, std::span<const index_type> items,
                                    const size_vector<D>& capacity) {
  std::vector<size_vector<D>> compact;
  compact.reserve(items.size());
  for (const index_type i : items) compact.push_back(sizes[i]);
  epoch_bins bins;
  const rank_fill_layout<D> layout = rank_fill_plan<D>(capacity);
  if (layout.applies) {
    bins = rank_fill<D>(std::span<const size_vector<D>>(compact), capacity, layout);
  } else {
    const multi_packing<D> p = multi_best_fit_decreasing<D>(std::span<const size_vector<D>>(compact), capacity);
    for (std::size_t b = 0; b < p.bins.size(); ++b) bins.emplace_back(p.bins[b].begin(), p.bins[b].end());
  }
  for (auto& b : bins)
    for (auto& i : b) i = items[i];
  return bins;
}

struct epoch_repack_options {
  std::size_t rounds = 50;        ///< repack rounds (0: keep the first fill)
  double slack = 0.022;           ///< a bin is full when within slack * capacity_d of capacity_d in some dimension d
  std::size_t open = 4;           ///< bins open at once during a round's first fit
  std::uint64_t lower_bound = 0;  ///< a first fill with this many bins is kept as it is (optimal)
  std::size_t patience = 4;       ///< stop after this many rounds in a row that keep no new bin
};

/// See the file docs. `bins` is the first fill; returns the bins to use.
template <std::size_t D>
[[nodiscard]] epoch_bins epoch_repack(std::span<const size_vector<D>> sizes, const size_vector<D>& capacity,
                                      epoch_bins bins, std::uint64_t seed, const epoch_repack_options& opts) {
  if (opts.rounds == 0 || bins.empty() || bins.size() <= opts.lower_bound) return bins;
  size_vector<D> slack{};
  for (std::size_t d = 0; d < D; ++d)
    slack[d] = static_cast<std::uint64_t>(mul(static_cast<double>(capacity[d]), opts.slack));
  const auto full = [&](const std::vector<index_type>& b) {
    size_vector<D> load{};
    for (const index_type i : b)
      for (std::size_t d = 0; d < D; ++d) load[d] += sizes[i][d];
    for (std::size_t d = 0; d < D; ++d)
      if (load[d] + slack[d] >= capacity[d]) return true;
    return false;
  };
  epoch_bins kept;
  std::vector<index_type> pool;
  const auto sift = [&](epoch_bins& from) {
    for (auto& b : from) {
      if (full(b))
        kept.push_back(std::move(b));
      else
        pool.insert(pool.end(), b.begin(), b.end());
    }
  };
  epoch_bins first = bins;
  sift(first);
  if (pool.empty()) return bins;
  rng gen(seed);
  const std::size_t open_max = opts.open == 0 ? 1 : opts.open;
  epoch_bins open, fresh;
  std::vector<size_vector<D>> open_load;
  std::size_t idle = 0;
  for (std::size_t round = 0; round < opts.rounds && !pool.empty() && idle < opts.patience; ++round) {
    const std::size_t kept_before = kept.size();
    gen.shuffle(std::span<index_type>(pool));
    open.clear();
    open_load.clear();
    fresh.clear();
    for (const index_type i : pool) {
      std::size_t at = open.size();
      for (std::size_t k = 0; k < open.size() && at == open.size(); ++k) {
        bool fits = true;
        for (std::size_t d = 0; d < D && fits; ++d) fits = sizes[i][d] <= capacity[d] - open_load[k][d];
        if (fits) at = k;
      }
      if (at == open.size()) {
        if (open.size() == open_max) {  // close the oldest open bin
          fresh.push_back(std::move(open.front()));
          open.erase(open.begin());
          open_load.erase(open_load.begin());
        }
        open.emplace_back();
        open_load.push_back(size_vector<D>{});
        at = open.size() - 1;
      }
      open[at].push_back(i);
      for (std::size_t d = 0; d < D; ++d) open_load[at][d] += sizes[i][d];
    }
    for (auto& b : open) fresh.push_back(std::move(b));
    pool.clear();
    sift(fresh);
    idle = kept.size() == kept_before ? idle + 1 : 0;
  }
  epoch_bins rest = epoch_fill<D>(sizes, std::span<const index_type>(pool), capacity);
  if (kept.size() + rest.size() >= bins.size()) return bins;
  for (auto& b : rest) kept.push_back(std::move(b));
  return kept;
}

}  // namespace fulcrum::detail
