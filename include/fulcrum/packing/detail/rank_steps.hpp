// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/rank_steps.hpp
/// Rank-aware packing internals: dealing bins into steps and the in-step local search that evens
/// the bins of a step out. (The result type and the metrics: packing/rank_packing_result.hpp.)
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/multi.hpp"

namespace fulcrum {

namespace detail {

/// Bins in steps: items per bin plus their loads, with the balance values per bin.
template <std::size_t D>
struct rank_state {
  std::span<const size_vector<D>> sizes;
  size_vector<D> capacity{};
  std::span<const cost_t> costs;  ///< empty: balance the D dimensions; else balance cost only
  std::size_t ranks = 0;
  std::vector<std::vector<index_type>> bins;
  std::vector<size_vector<D>> loads;
  std::vector<double> cost_loads;
  std::vector<double> norm;  ///< per balance dimension: value divisor

  [[nodiscard]] std::size_t balance_dims() const noexcept { return costs.empty() ? D : 1; }
  [[nodiscard]] double item_value(index_type i, std::size_t e) const noexcept {
    return costs.empty() ? static_cast<double>(sizes[i][e]) : costs[i];
  }
  [[nodiscard]] double bin_value(std::size_t b, std::size_t e) const noexcept {
    return costs.empty() ? static_cast<double>(loads[b][e]) : cost_loads[b];
  }
};

template <std::size_t D>
void rank_recompute(rank_state<D>& st) {
  st.loads.assign(st.bins.size(), size_vector<D>{});
  st.cost_loads.assign(st.bins.size(), 0.0);
  for (std::size_t b = 0; b < st.bins.size(); ++b)
    for (const index_type i : st.bins[b]) {
      for (std::size_t d = 0; d < D; ++d) st.loads[b][d] += st.sizes[i][d];
      if (!st.costs.empty()) st.cost_loads[b] += st.costs[i];
    }
}

/// Orders bins so consecutive groups of `ranks` bins are alike: descending by their loads,
/// coarsest dimension (smallest capacity) first, then finer ones; by cost when balancing a cost;
/// ties by the lowest item index. Empty bins go last.
template <std::size_t D>
void rank_order_bins(rank_state<D>& st) {
  std::array<std::size_t, D> dims{};
  std::iota(dims.begin(), dims.end(), std::size_t{0});
  std::stable_sort(dims.begin(), dims.end(), [&](std::size_t a, std::size_t b) { return st.capacity[a] < st.capacity[b]; });
  // Order: non-empty first, then cost, loads (smallest capacity first) descending, then first item
  // and bin number ascending -- a total order, so sorting records that hold the keys (no lookup per
  // comparison) gives the same sequence.
  struct bin_key {
    size_vector<D> load;  // in `dims` order
    double cost;
    index_type first;
    bool empty;
    std::size_t bin;
  };
  const bool by_cost = !st.costs.empty();
  const std::size_t nb = st.bins.size();
  std::vector<std::vector<index_type>> bins(nb);
  // Without costs, where every load is within its capacity and the fields' widths add up to 64
  // bits or less: one integer per bin, (empty, capacity - load per dimension in `dims` order,
  // first item or, for an empty bin, the bin number), sorted ascending -- the same order.
  if (!by_cost) {
    int total = 1;
    std::array<int, D> width{};
    for (std::size_t e = 0; e < D; ++e) total += width[e] = static_cast<int>(std::bit_width(st.capacity[dims[e]]));
    std::vector<index_type> firsts(nb);
    std::uint64_t top_last = nb;
    bool within = true;
    for (std::size_t b = 0; b < nb; ++b) {
      index_type first = static_cast<index_type>(-1);
      for (const index_type i : st.bins[b]) first = std::min(first, i);
      firsts[b] = first;
      if (!st.bins[b].empty()) top_last = std::max<std::uint64_t>(top_last, first);
      for (std::size_t d = 0; d < D; ++d) within = within && st.loads[b][d] <= st.capacity[d];
    }
    const int last_width = static_cast<int>(std::bit_width(top_last));
    if (within && total + last_width <= 64) {
      struct packed_key {
        std::uint64_t key;
        std::size_t bin;
      };
      std::vector<packed_key> keyed(nb);
      for (std::size_t b = 0; b < nb; ++b) {
        const bool empty = st.bins[b].empty();
        std::uint64_t key = empty ? 1 : 0;
        for (std::size_t e = 0; e < D; ++e)
          if (width[e] > 0) key = (key << width[e]) | (st.capacity[dims[e]] - st.loads[b][dims[e]]);
        key = (key << last_width) | (empty ? b : firsts[b]);  // last_width >= 1: nb >= 1 here
        keyed[b] = packed_key{key, b};
      }
      std::sort(keyed.begin(), keyed.end(), [](const packed_key& a, const packed_key& b) {
        return a.key != b.key ? a.key < b.key : a.bin < b.bin;
      });
      // The loads move with their bins (the keys were read from them: they are current).
      std::vector<size_vector<D>> loads(nb);
      for (std::size_t k = 0; k < nb; ++k) {
        bins[k] = std::move(st.bins[keyed[k].bin]);
        loads[k] = st.loads[keyed[k].bin];
      }
      st.bins = std::move(bins);
      st.loads = std::move(loads);
      st.cost_loads.assign(nb, 0.0);
      return;
    }
  }
  std::vector<bin_key> keyed(nb);
  for (std::size_t b = 0; b < nb; ++b) {
    bin_key& key = keyed[b];
    for (std::size_t e = 0; e < D; ++e) key.load[e] = st.loads[b][dims[e]];
    key.cost = by_cost ? st.cost_loads[b] : 0.0;
    key.first = static_cast<index_type>(-1);
    for (const index_type i : st.bins[b]) key.first = std::min(key.first, i);
    key.empty = st.bins[b].empty();
    key.bin = b;
  }
  std::sort(keyed.begin(), keyed.end(), [by_cost](const bin_key& a, const bin_key& b) {
    if (a.empty != b.empty) return b.empty;
    if (by_cost && a.cost != b.cost) return a.cost > b.cost;
    for (std::size_t e = 0; e < D; ++e)
      if (a.load[e] != b.load[e]) return a.load[e] > b.load[e];
    if (a.first != b.first) return a.first < b.first;
    return a.bin < b.bin;
  });
  for (std::size_t k = 0; k < keyed.size(); ++k) bins[k] = std::move(st.bins[keyed[k].bin]);
  st.bins = std::move(bins);
  rank_recompute(st);
}

/// Whether `load + add <= capacity`, decided without the sum (it can pass 2^64 when the
/// capacity is near it).
[[nodiscard]] constexpr bool fits_on_top(std::uint64_t load, std::uint64_t add, std::uint64_t capacity) noexcept {
  return load <= capacity && add <= capacity - load;
}

/// Local search inside one step (bins [first, first + ranks)): item moves and swaps between two
/// bins of the step, each accepted only if every capacity holds and it lowers the step's sum of
/// squared normalised deviations sum_e sum_r ((X_re - mean_e) / norm_e)^2 (the mean is fixed inside a
/// step, so a change between bins a and b by vector s costs sum_e 2 s_e (s_e + X_be - X_ae) / norm_e^2).
/// A bin never gives away its last item (non-empty bins stay non-empty). Per pair the best move is
/// taken; passes repeat until none improves or `passes` is reached.
/// Steps of up to this many ranks examine every pair of bins in the local search.
inline constexpr std::size_t rank_all_pairs = 16;
/// Beyond rank_all_pairs: half-width of the window of partners around a bin's mirror position.
inline constexpr std::size_t rank_pair_window = 4;
/// Swaps between bins a and b: every pair of items when |A| * |B| <= rank_full_swap_scan (all
/// bins of ordinary packings: a few to a few dozen items each). Beyond, a sorted search: with
/// d_e = (X_ae - X_be) / norm_e^2 and key(x) = sum_e v_xe d_e, the swap (i, j) changes the score by
/// 2 sum_e s_e^2 / norm_e^2 - 2 (key(i) - key(j)) (s = v_i - v_j), which in one dimension is
/// smallest for key(j) nearest key(i) - t, t = sum_e (X_ae - X_be)^2 / (2 norm_e^2); so B is sorted
/// by key once and each item of A examines the rank_swap_window items of B on either side of that
/// target (exact deltas and capacity checks on those). O(m log m + m w D) per bin pair instead
/// of O(m^2 D), m = items per bin, w = rank_swap_window.
inline constexpr std::size_t rank_full_swap_scan = std::size_t{1} << 14;
/// Sorted swap search: candidates of B examined on either side of an item's target key.
inline constexpr std::size_t rank_swap_window = 4;

/// Scratch of rank_balance_step, kept by a reusable workspace (no allocation once grown), and its
/// memo of bin pairs already examined without finding an improving move. The best move between
/// two bins depends only on their items (in order) and loads, so every bin carries a stamp that
/// changes whenever it changes; a pair whose two stamps are those of an earlier fruitless
/// examination is skipped (it would find nothing again). Stamps come from one clock that never
/// repeats, so entries left from other steps or calls can never match. The plan is exactly the
/// one without the memo.
struct rank_step_scratch {
  std::vector<double> inv2, mean, score, dir_e;
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  std::vector<std::size_t> order;
  std::vector<std::pair<double, std::size_t>> keyed;
  std::vector<std::uint64_t> rows;   ///< pair bitset, row x = bins paired with x (up to rank_pair_bitset ranks)
  std::vector<std::uint64_t> stamp;  ///< per bin of the step
  std::vector<std::array<std::uint64_t, 2>> memo;            ///< (stamp x, stamp y) of fruitless pairs, hashed
  std::array<std::vector<std::uint64_t>, 2> gathered_sizes;  ///< full scan: sizes of the two bins' items
  std::array<std::vector<double>, 2> gathered_values;        ///< full scan: their balance values
  std::uint64_t clock = 0;
};

/// Most entries of the fruitless-pair memo (1 MiB); beyond, colliding pairs are simply re-examined.
inline constexpr std::size_t rank_memo_max_slots = std::size_t{1} << 16;

/// Steps of up to this many ranks build the windowed pair list through a bitset (rows of ranks
/// bits) instead of sorting it.
inline constexpr std::size_t rank_pair_bitset = 256;

template <std::size_t D>
void rank_balance_step(rank_state<D>& st, std::size_t first, std::size_t passes, rank_step_scratch& sc) {
  const std::size_t E = st.balance_dims();
  std::vector<double>& inv2 = sc.inv2;
  inv2.assign(E, 0.0);
  for (std::size_t e = 0; e < E; ++e) inv2[e] = st.norm[e] > 0 ? 1.0 / (st.norm[e] * st.norm[e]) : 0.0;
  const std::size_t k = st.ranks;
  auto fits_add = [&](std::size_t b, index_type add, index_type remove, bool has_remove) {
    for (std::size_t d = 0; d < D; ++d) {
      std::uint64_t l = st.loads[b][d];
      if (has_remove) l -= st.sizes[remove][d];  // `remove` is in bin b: no wrap
      if (!fits_on_top(l, st.sizes[add][d], st.capacity[d])) return false;
    }
    return true;
  };
  auto delta = [&](std::size_t a, std::size_t b, index_type i, index_type j, bool has_j) {
    double total = 0;
    for (std::size_t e = 0; e < E; ++e) {
      const double s = st.item_value(i, e) - (has_j ? st.item_value(j, e) : 0.0);
      total += 2.0 * s * (s + st.bin_value(b, e) - st.bin_value(a, e)) * inv2[e];
    }
    return total;
  };
  auto apply = [&](std::size_t a, std::size_t b, std::size_t pi, std::size_t pj, bool has_j) {
    sc.stamp[a - first] = ++sc.clock;
    sc.stamp[b - first] = ++sc.clock;
    const index_type i = st.bins[a][pi];
    for (std::size_t d = 0; d < D; ++d) {
      st.loads[a][d] -= st.sizes[i][d];
      st.loads[b][d] += st.sizes[i][d];
    }
    if (!st.costs.empty()) {
      st.cost_loads[a] -= st.costs[i];
      st.cost_loads[b] += st.costs[i];
    }
    if (has_j) {
      const index_type j = st.bins[b][pj];
      for (std::size_t d = 0; d < D; ++d) {
        st.loads[b][d] -= st.sizes[j][d];
        st.loads[a][d] += st.sizes[j][d];
      }
      if (!st.costs.empty()) {
        st.cost_loads[b] -= st.costs[j];
        st.cost_loads[a] += st.costs[j];
      }
      st.bins[a][pi] = j;
      st.bins[b][pj] = i;
    } else {
      st.bins[a].erase(st.bins[a].begin() + static_cast<std::ptrdiff_t>(pi));
      st.bins[b].push_back(i);
    }
  };
  constexpr double eps = 1e-12;
  // Pairs examined per pass: all of them up to rank_all_pairs ranks; beyond, with the step's bins
  // ordered by their summed normalised deviation from the step mean, each bin pairs with the
  // 2 * rank_pair_window + 1 bins around its mirror position (heavy with light), O(ranks) pairs.
  std::vector<std::pair<std::size_t, std::size_t>>& pairs = sc.pairs;
  std::vector<std::size_t>& order = sc.order;
  order.resize(k);
  const std::size_t words = (k + 63) / 64;
  auto make_pairs = [&] {
    pairs.clear();
    if (k <= rank_all_pairs) {
      for (std::size_t x = first; x < first + k; ++x)
        for (std::size_t y = x + 1; y < first + k; ++y) pairs.emplace_back(x, y);
      return;
    }
    std::vector<double>& mean = sc.mean;
    std::vector<double>& score = sc.score;
    mean.assign(E, 0.0);
    score.assign(k, 0.0);
    for (std::size_t e = 0; e < E; ++e) {
      for (std::size_t r = 0; r < k; ++r) mean[e] += st.bin_value(first + r, e);
      mean[e] /= static_cast<double>(k);
      for (std::size_t r = 0; r < k; ++r)
        score[r] += (st.bin_value(first + r, e) - mean[e]) * (st.norm[e] > 0 ? 1.0 / st.norm[e] : 0.0);
    }
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return score[a] != score[b] ? score[a] > score[b] : a < b;
    });
    if (k <= rank_pair_bitset) {
      // The same sorted, duplicate-free list through a bitset: row x holds the partners y > x.
      sc.rows.assign(k * words, 0);
      for (std::size_t p = 0; p < k; ++p) {
        const std::size_t mirror = k - 1 - p;
        const std::size_t lo = mirror >= rank_pair_window ? mirror - rank_pair_window : 0;
        const std::size_t hi = std::min(k - 1, mirror + rank_pair_window);
        for (std::size_t q = lo; q <= hi; ++q) {
          if (q == p) continue;
          const std::size_t x = std::min(order[p], order[q]), y = std::max(order[p], order[q]);
          sc.rows[x * words + y / 64] |= std::uint64_t{1} << (y % 64);
        }
      }
      for (std::size_t x = 0; x < k; ++x)
        for (std::size_t w = 0; w < words; ++w)
          for (std::uint64_t bits = sc.rows[x * words + w]; bits != 0; bits &= bits - 1)
            pairs.emplace_back(first + x, first + w * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
      return;
    }
    for (std::size_t p = 0; p < k; ++p) {
      const std::size_t mirror = k - 1 - p;
      const std::size_t lo = mirror >= rank_pair_window ? mirror - rank_pair_window : 0;
      const std::size_t hi = std::min(k - 1, mirror + rank_pair_window);
      for (std::size_t q = lo; q <= hi; ++q)
        if (q != p) pairs.emplace_back(first + std::min(order[p], order[q]), first + std::max(order[p], order[q]));
    }
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  };
  // Memo of fruitless pairs (see rank_step_scratch): a power of two above twice the pairs of a pass.
  sc.stamp.resize(k);
  for (std::size_t r = 0; r < k; ++r) sc.stamp[r] = ++sc.clock;
  {
    const std::size_t per_pass = k <= rank_all_pairs ? k * (k - 1) / 2 : k * (2 * rank_pair_window + 1);
    std::size_t slots = 64;
    while (slots < 2 * per_pass && slots < rank_memo_max_slots) slots *= 2;  // a cache: collisions only lose skips
    if (sc.memo.size() != slots) sc.memo.assign(slots, {0, 0});
  }
  const std::uint64_t memo_mask = sc.memo.size() - 1;
  auto memo_slot = [&](std::uint64_t sx, std::uint64_t sy) -> std::array<std::uint64_t, 2>& {
    const std::uint64_t h = (sx * 0x9E3779B97F4A7C15ull) ^ (sy * 0xC2B2AE3D27D4EB4Full);
    return sc.memo[static_cast<std::size_t>((h ^ (h >> 29)) & memo_mask)];
  };
  std::vector<std::pair<double, std::size_t>>& keyed = sc.keyed;  // sorted swap search: (key, position in B)
  std::vector<double>& dir_e = sc.dir_e;
  dir_e.assign(E, 0.0);
  for (std::size_t pass = 0; pass < passes; ++pass) {
    bool improved = false;
    make_pairs();
    for (const auto& [x, y] : pairs) {
      const std::uint64_t sx = sc.stamp[x - first], sy = sc.stamp[y - first];
      auto& memo = memo_slot(sx, sy);
      if (memo[0] == sx && memo[1] == sy) continue;  // examined in this state: nothing to find
      // Best change between x and y in either direction.
      const bool full_scan = st.bins[x].size() * st.bins[y].size() <= rank_full_swap_scan;
      double target = 0;
      if (!full_scan) {
        for (std::size_t e = 0; e < E; ++e) {
          const double diff = st.bin_value(x, e) - st.bin_value(y, e);
          dir_e[e] = diff * inv2[e];
          target += mul(mul(diff, diff), inv2[e]) / 2.0;
        }
        keyed.clear();
        for (std::size_t pj = 0; pj < st.bins[y].size(); ++pj) {
          double key = 0;
          for (std::size_t e = 0; e < E; ++e) key += mul(st.item_value(st.bins[y][pj], e), dir_e[e]);
          keyed.emplace_back(key, pj);
        }
        std::sort(keyed.begin(), keyed.end());
      }
      double best = -eps;
      std::size_t ba = 0, bb = 0, bpi = 0, bpj = 0;
      bool bswap = false, found = false;
      if (full_scan) {
        // The full scan on the items' sizes and balance values gathered into contiguous arrays:
        // the same arithmetic in the same order as fits_add and delta, so the same choice.
        auto gather = [&](std::size_t bin, std::size_t side) {
          const auto& items = st.bins[bin];
          sc.gathered_sizes[side].resize(items.size() * D);
          sc.gathered_values[side].resize(items.size() * E);
          for (std::size_t p = 0; p < items.size(); ++p) {
            for (std::size_t d = 0; d < D; ++d) sc.gathered_sizes[side][p * D + d] = st.sizes[items[p]][d];
            for (std::size_t e = 0; e < E; ++e) sc.gathered_values[side][p * E + e] = st.item_value(items[p], e);
          }
        };
        gather(x, 0);
        gather(y, 1);
        for (std::size_t dir = 0; dir < 2; ++dir) {
          const std::size_t a = dir == 0 ? x : y, b = dir == 0 ? y : x;
          const std::uint64_t* as = sc.gathered_sizes[dir].data();
          const double* av = sc.gathered_values[dir].data();
          const std::uint64_t* bs = sc.gathered_sizes[1 - dir].data();
          const double* bv = sc.gathered_values[1 - dir].data();
          const std::size_t na = st.bins[a].size(), nb = st.bins[b].size();
          const size_vector<D> la = st.loads[a], lb = st.loads[b];
          std::array<double, D> va{}, vb{};
          for (std::size_t e = 0; e < E; ++e) va[e] = st.bin_value(a, e), vb[e] = st.bin_value(b, e);
          for (std::size_t pi = 0; pi < na; ++pi) {
            const std::uint64_t* si = as + pi * D;
            const double* vi = av + pi * E;
            if (na > 1) {
              bool fits = true;
              for (std::size_t d = 0; d < D && fits; ++d)
                fits = fits_on_top(lb[d], si[d], st.capacity[d]);
              if (fits) {
                double g = 0;
                for (std::size_t e = 0; e < E; ++e) {
                  const double sd = vi[e] - 0.0;
                  g += 2.0 * sd * (sd + vb[e] - va[e]) * inv2[e];
                }
                if (g < best) best = g, ba = a, bb = b, bpi = pi, bswap = false, found = true;
              }
            }
            if (dir == 1) continue;  // swaps are symmetric: examine them once
            for (std::size_t pj = 0; pj < nb; ++pj) {
              const std::uint64_t* sj = bs + pj * D;
              bool fits = true;
              for (std::size_t d = 0; d < D && fits; ++d) {
                // b - sj + si and a - si + sj within the capacity
                const std::uint64_t b_rest = lb[d] - sj[d], a_rest = la[d] - si[d];
                fits = fits_on_top(b_rest, si[d], st.capacity[d]) && fits_on_top(a_rest, sj[d], st.capacity[d]);
              }
              if (!fits) continue;
              const double* vj = bv + pj * E;
              double g = 0;
              for (std::size_t e = 0; e < E; ++e) {
                const double sd = vi[e] - vj[e];
                g += 2.0 * sd * (sd + vb[e] - va[e]) * inv2[e];
              }
              if (g < best) best = g, ba = a, bb = b, bpi = pi, bpj = pj, bswap = true, found = true;
            }
          }
        }
      }
      for (int dir = 0; dir < 2 && !full_scan; ++dir) {
        const std::size_t a = dir == 0 ? x : y, b = dir == 0 ? y : x;
        const auto& A = st.bins[a];
        const auto& B = st.bins[b];
        for (std::size_t pi = 0; pi < A.size(); ++pi) {
          const index_type i = A[pi];
          if (A.size() > 1 && fits_add(b, i, i, false)) {
            const double g = delta(a, b, i, i, false);
            if (g < best) {
              best = g, ba = a, bb = b, bpi = pi, bswap = false, found = true;
            }
          }
          if (dir == 1) continue;  // swaps are symmetric: examine them once
          const auto try_swap = [&](std::size_t pj) {
            const index_type j = B[pj];
            if (!fits_add(b, i, j, true) || !fits_add(a, j, i, true)) return;
            const double g = delta(a, b, i, j, true);
            if (g < best) {
              best = g, ba = a, bb = b, bpi = pi, bpj = pj, bswap = true, found = true;
            }
          };
          double key_i = 0;
          for (std::size_t e = 0; e < E; ++e) key_i += mul(st.item_value(i, e), dir_e[e]);
          const auto at = static_cast<std::size_t>(
              std::lower_bound(keyed.begin(), keyed.end(), std::pair<double, std::size_t>{key_i - target, 0}) -
              keyed.begin());
          const std::size_t lo = at >= rank_swap_window ? at - rank_swap_window : 0;
          const std::size_t hi = std::min(keyed.size(), at + rank_swap_window);
          for (std::size_t q = lo; q < hi; ++q) try_swap(keyed[q].second);
        }
      }
      if (found) {
        apply(ba, bb, bpi, bpj, bswap);
        improved = true;
      } else {
        memo = {sx, sy};
      }
    }
    if (!improved) break;
  }
}

template <std::size_t D>
void rank_balance_step(rank_state<D>& st, std::size_t first, std::size_t passes) {
  rank_step_scratch sc;
  rank_balance_step(st, first, passes, sc);
}

}  // namespace detail
}  // namespace fulcrum
