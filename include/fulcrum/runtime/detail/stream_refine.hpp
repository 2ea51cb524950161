// SPDX-License-Identifier: Apache-2.0
/// @file runtime/detail/stream_refine.hpp
/// The streaming batcher's step evening (runtime/streaming_batcher.hpp).
///
/// stream_deficit_fill: after a round's steps are balanced, with several dimensions each coarse one
/// is evened first (even_coarse: lone top bins lowered to the next level, then the others raised to
/// the top, by swapping an item for a pool item whose size differs in that dimension only, by at
/// most the gap, and whose fine size is at most coarse_window below; a coarse load stays within its
/// step's range and the fine load only drops). Then the micro-batches of each step are
/// brought to one load in the fine dimension (the largest cap: tokens) with items the round does not
/// emit (the pool). Per step, up to even_passes times: when fewer bins sit at the step's largest load
/// than below it, the top bins are first lowered toward the next level (swap an item for a pool item
/// with the same coarse sizes, smaller by at most the excess); then every bin below the top is raised
/// toward it (add a pool item no larger than the deficit whose coarse sizes are all zero, or swap an
/// item for a pool item with the same coarse sizes, larger by at most the deficit; with one
/// dimension, where no single move closes the deficit, two swaps whose changes add up to it). Each
/// move takes the largest change (ties: the first found), up to `max_moves` per bin. Only movable
/// items (not kept too often) leave a bin. The fine moves never change a coarse load; no load passes
/// the step's largest, so every cap holds. The pool is sorted once by (coarse sizes, fine size); used entries
/// are skipped with path-halving skip arrays in both directions. O(P log P + per deficit bin
/// max_moves m log P, plus m^2 pair_candidates log P for a pair swap) for P pool items and m items per
/// bin. Deterministic: no randomness, no floating point.
///
/// stream_even_steps: the re-deal of a flush's last steps (see the function).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/detail/rank_steps.hpp"

namespace fulcrum::detail {

template <std::size_t D>
class stream_deficit_fill {
 public:
  /// `pool`: indices into st.sizes not emitted this round; `fine`: the fine dimension.
  stream_deficit_fill(const rank_state<D>& st, std::size_t fine, std::span<const index_type> pool)
      : sizes_(st.sizes), fine_(fine), pool_(pool.begin(), pool.end()) {
    // Order: coarse sizes (dimension order), fine size, index -- a total order. Where the fields'
    // widths add up to 64 bits or less (sizes within the caps, e.g. W1: 4 + 14 + 15 bits), each
    // entry is one integer holding them all and the integers are sorted; otherwise records holding
    // the keys are. Both give the same sequence.
    const std::size_t n = pool_.size();
    keys_.resize(n);
    size_vector<D> top{};
    index_type top_index = 0;
    for (std::size_t q = 0; q < n; ++q) {
      keys_[q] = key_of(sizes_[pool_[q]]);
      for (std::size_t d = 0; d < D; ++d) top[d] = std::max(top[d], keys_[q][d]);
      top_index = std::max(top_index, pool_[q]);
    }
    std::array<int, D> width{};
    const int index_width = static_cast<int>(std::bit_width(static_cast<std::uint64_t>(top_index)));
    int total = index_width;
    for (std::size_t d = 0; d < D; ++d) total += width[d] = static_cast<int>(std::bit_width(top[d]));
    if (total <= 64) {
      // A field of width 0 holds only zeros; one of width 64 is the only field.
      auto append = [](std::uint64_t key, int bits, std::uint64_t v) {
        return bits == 0 ? key : bits >= 64 ? v : (key << bits) | v;
      };
      auto mask = [](int bits) { return bits == 0 ? std::uint64_t{0} : ~std::uint64_t{0} >> (64 - bits); };
      std::vector<std::uint64_t> packed(n);
      for (std::size_t q = 0; q < n; ++q) {
        std::uint64_t key = 0;
        for (std::size_t d = 0; d < D; ++d) key = append(key, width[d], keys_[q][d]);
        packed[q] = append(key, index_width, pool_[q]);
      }
      std::sort(packed.begin(), packed.end());
      for (std::size_t q = 0; q < n; ++q) {  // unpacked from the low field up
        std::uint64_t key = packed[q];
        pool_[q] = static_cast<index_type>(key & mask(index_width));
        key = index_width >= 64 ? 0 : key >> index_width;
        for (std::size_t d = D; d-- > 0;) {
          keys_[q][d] = key & mask(width[d]);
          key = width[d] >= 64 ? 0 : key >> width[d];
        }
      }
    } else {
      struct pool_key {
        size_vector<D> key;  // coarse sizes in dimension order, then the fine size
        index_type i;
      };
      std::vector<pool_key> keyed(n);
      for (std::size_t q = 0; q < n; ++q) keyed[q] = pool_key{keys_[q], pool_[q]};
      std::sort(keyed.begin(), keyed.end(), [](const pool_key& a, const pool_key& b) {
        for (std::size_t d = 0; d < D; ++d)
          if (a.key[d] != b.key[d]) return a.key[d] < b.key[d];
        return a.i < b.i;
      });
      for (std::size_t q = 0; q < n; ++q) {
        pool_[q] = keyed[q].i;
        keys_[q] = keyed[q].key;
      }
    }
    below_.resize(pool_.size() + 1);
    above_.resize(pool_.size() + 1);
    std::iota(below_.begin(), below_.end(), std::size_t{0});
    std::iota(above_.begin(), above_.end(), std::size_t{0});
  }

  /// Evens the steps [0, steps) of `ranks` bins each in st.bins / st.loads; `movable[i]`: item i
  /// may go back to the buffer (it was not kept too often).
  void run(rank_state<D>& st, std::size_t steps, std::span<const char> movable, std::size_t max_moves) {
    if (pool_.empty()) return;
    const std::size_t k = st.ranks;
    // The pool only shrinks: a pair search that failed for a bin's load and target fails again.
    pair_failed_.assign(st.bins.size(), {none, none});
    for (std::size_t s = 0; s < steps; ++s) {
      if constexpr (D > 1)
        for (std::size_t c = 0; c < D; ++c)
          if (c != fine_) even_coarse(st, s * k, c, movable, max_moves);
      for (std::size_t pass = 0; pass < even_passes; ++pass) {
        std::uint64_t top = 0, low = std::numeric_limits<std::uint64_t>::max();
        std::size_t at_top = 0;
        for (std::size_t b = s * k; b < s * k + k; ++b) {
          const std::uint64_t l = st.loads[b][fine_];
          at_top = l > top ? 1 : at_top + (l == top ? 1 : 0);
          top = std::max(top, l);
          low = std::min(low, l);
        }
        if (low == top) break;
        // Fewer bins at the top than below it: lower the top bins to the next level first.
        if (at_top < k - at_top) {
          std::uint64_t next = 0;
          for (std::size_t b = s * k; b < s * k + k; ++b)
            if (st.loads[b][fine_] < top) next = std::max(next, st.loads[b][fine_]);
          for (std::size_t b = s * k; b < s * k + k; ++b)
            if (st.loads[b][fine_] == top) lower(st, b, next, movable, max_moves);
          top = 0;
          for (std::size_t b = s * k; b < s * k + k; ++b) top = std::max(top, st.loads[b][fine_]);
        }
        for (std::size_t b = s * k; b < s * k + k; ++b) raise(st, b, top, movable, max_moves);
      }
    }
  }

  /// Passes of lower-then-raise per step.
  static constexpr std::size_t even_passes = 3;

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  /// Several dimensions: evens coarse dimension c over the bins [first, first + ranks) as run()
  /// does the fine one (lone top bins lowered to the next level, then the others raised to the
  /// top), by swaps that change an item's size in c only, for a pool item whose fine size is at
  /// most coarse_window below the item's (the fine passes then mend the tokens). A step of
  /// text-only micro-batches holding one image has images DistRatio 7/8: one swap evens it.
  void even_coarse(rank_state<D>& st, std::size_t first, std::size_t c, std::span<const char> movable,
                   std::size_t max_moves) {
    const std::size_t k = st.ranks;
    std::uint64_t top = 0, low = std::numeric_limits<std::uint64_t>::max();
    std::size_t at_top = 0;
    for (std::size_t b = first; b < first + k; ++b) {
      const std::uint64_t l = st.loads[b][c];
      at_top = l > top ? 1 : at_top + (l == top ? 1 : 0);
      top = std::max(top, l);
      low = std::min(low, l);
    }
    if (low == top) return;
    if (at_top < k - at_top) {
      std::uint64_t next = 0;
      for (std::size_t b = first; b < first + k; ++b)
        if (st.loads[b][c] < top) next = std::max(next, st.loads[b][c]);
      for (std::size_t b = first; b < first + k; ++b)
        if (st.loads[b][c] == top) shift_coarse(st, b, c, next, movable, max_moves);
      top = 0;
      for (std::size_t b = first; b < first + k; ++b) top = std::max(top, st.loads[b][c]);
    }
    for (std::size_t b = first; b < first + k; ++b)
      if (st.loads[b][c] < top) shift_coarse(st, b, c, top, movable, max_moves);
  }

  /// Moves bin b's load in coarse dimension c toward `level` (not past it): each move swaps a
  /// movable item x for the free pool item with x's other sizes, a size in c nearer the level by
  /// the most (at most the gap) and the largest fine size in [fine(x) - coarse_window, fine(x)].
  /// The fine load only drops and c stays within [min, max] of the step: every cap holds.
  void shift_coarse(rank_state<D>& st, std::size_t b, std::size_t c, std::uint64_t level, std::span<const char> movable,
                    std::size_t max_moves) {
    auto& bin = st.bins[b];
    for (std::size_t move = 0; move < max_moves && st.loads[b][c] != level; ++move) {
      const bool up = st.loads[b][c] < level;
      const std::uint64_t gap = up ? level - st.loads[b][c] : st.loads[b][c] - level;
      std::uint64_t best_step = 0, best_fine = 0;
      std::size_t best_pos = npos, best_slot = npos;
      for (std::size_t q = 0; q < bin.size(); ++q) {
        const index_type x = bin[q];
        if (movable[x] == 0) continue;
        const std::uint64_t sx = sizes_[x][fine_];
        const std::uint64_t most = up ? gap : std::min(gap, sizes_[x][c]);
        for (std::uint64_t step = most; step > best_step || (step == best_step && step > 0); --step) {
          size_vector<D> key = sizes_[x];
          key[c] = up ? key[c] + step : key[c] - step;
          const std::size_t p = find_largest(key, sx > coarse_window ? sx - coarse_window : 0, sx);
          if (p != npos) {
            const std::uint64_t f = sizes_[pool_[p]][fine_];
            if (step > best_step || f > best_fine) {
              best_step = step;
              best_fine = f;
              best_pos = p;
              best_slot = q;
            }
            break;
          }
        }
      }
      if (best_pos == npos) return;
      const index_type x = bin[best_slot], y = pool_[best_pos];
      use(best_pos);
      bin[best_slot] = y;
      st.loads[b][c] = up ? st.loads[b][c] + best_step : st.loads[b][c] - best_step;
      st.loads[b][fine_] -= sizes_[x][fine_] - sizes_[y][fine_];
    }
  }
  /// A coarse swap may lower the fine size of its micro-batch by at most this much.
  static constexpr std::uint64_t coarse_window = 64;

  void use(std::size_t p) noexcept {
    below_[p + 1] = p;  // skip to the free position below
    above_[p] = p + 1;  // skip to the free position above
  }

  /// Raises bin b toward `top`: adds or swaps in larger pool items.
  void raise(rank_state<D>& st, std::size_t b, std::uint64_t top, std::span<const char> movable,
             std::size_t max_moves) {
    auto& bin = st.bins[b];
    for (std::size_t move = 0; move < max_moves && st.loads[b][fine_] < top; ++move) {
      const std::uint64_t deficit = top - st.loads[b][fine_];
      std::uint64_t best_gain = 0;
      std::size_t best_pos = npos;
      std::size_t best_slot = npos;  // position in the bin to replace; npos: add
      const size_vector<D> zero{};
      const std::size_t add = find_largest(zero, 1, deficit);
      if (add != npos) {
        best_gain = sizes_[pool_[add]][fine_];
        best_pos = add;
      }
      for (std::size_t q = 0; q < bin.size() && best_gain < deficit; ++q) {
        const index_type x = bin[q];
        if (movable[x] == 0) continue;
        const std::uint64_t sx = sizes_[x][fine_];
        const std::size_t p = find_largest(sizes_[x], sx + 1, sx + deficit);
        if (p == npos) continue;
        const std::uint64_t gain = sizes_[pool_[p]][fine_] - sx;
        if (gain > best_gain) {
          best_gain = gain;
          best_pos = p;
          best_slot = q;
        }
      }
      if (best_pos == npos) {
        // One dimension only: with coarse sizes the pool splits by them, pairs rarely exist and
        // the search tripled the batcher's time on W1.
        if constexpr (D == 1) {
          const std::pair<std::uint64_t, std::uint64_t> key{st.loads[b][fine_], top};
          if (pair_failed_[b] != key && !pair_swap(st, b, deficit, movable)) pair_failed_[b] = key;
        }
        return;
      }
      const index_type y = pool_[best_pos];
      use(best_pos);
      if (best_slot == npos) {
        bin.push_back(y);
      } else {
        bin[best_slot] = y;
      }
      st.loads[b][fine_] += best_gain;
    }
  }

  /// Two swaps in bin b whose size changes add up to exactly +`change` (one may shrink): for each
  /// movable item x1, the free pool items of its coarse sizes within pair_window of it (smallest
  /// first, pair_candidates at most), each completed by an exact partner for another movable item.
  bool pair_swap(rank_state<D>& st, std::size_t b, std::uint64_t change, std::span<const char> movable) {
    auto& bin = st.bins[b];
    const auto target = static_cast<std::int64_t>(change);
    for (std::size_t q1 = 0; q1 < bin.size(); ++q1) {
      const index_type x1 = bin[q1];
      if (movable[x1] == 0) continue;
      const std::uint64_t s1 = sizes_[x1][fine_];
      const std::uint64_t lo = s1 > pair_window ? s1 - pair_window : 0;
      std::size_t p1 = skip(above_, position(sizes_[x1], lo, false));
      for (std::size_t tried = 0;
           tried < pair_candidates && p1 < pool_.size() && matches(p1, sizes_[x1], lo, s1 + pair_window);
           ++tried, p1 = skip(above_, p1 + 1)) {
        const auto g1 = static_cast<std::int64_t>(sizes_[pool_[p1]][fine_]) - static_cast<std::int64_t>(s1);
        for (std::size_t q2 = 0; q2 < bin.size(); ++q2) {
          const index_type x2 = bin[q2];
          if (q2 == q1 || movable[x2] == 0) continue;
          const std::int64_t need = static_cast<std::int64_t>(sizes_[x2][fine_]) + target - g1;
          if (need < 0) continue;
          const auto v = static_cast<std::uint64_t>(need);
          const std::size_t p2 = find_largest(sizes_[x2], v, v);
          if (p2 == npos || p2 == p1) continue;
          use(p1);
          use(p2);
          const index_type y1 = pool_[p1], y2 = pool_[p2];
          bin[q1] = y1;
          bin[q2] = y2;
          st.loads[b][fine_] += change;
          return true;
        }
      }
    }
    return false;
  }
  /// Pair swaps look this far (fine size) around an item, at this many pool items.
  static constexpr std::uint64_t pair_window = 256;
  static constexpr std::size_t pair_candidates = 32;

  /// Lowers bin b toward `level` (not below): swaps in smaller pool items.
  void lower(rank_state<D>& st, std::size_t b, std::uint64_t level, std::span<const char> movable,
             std::size_t max_moves) {
    auto& bin = st.bins[b];
    for (std::size_t move = 0; move < max_moves && st.loads[b][fine_] > level; ++move) {
      const std::uint64_t excess = st.loads[b][fine_] - level;
      std::uint64_t best_cut = 0;
      std::size_t best_pos = npos, best_slot = npos;
      for (std::size_t q = 0; q < bin.size() && best_cut < excess; ++q) {
        const index_type x = bin[q];
        const std::uint64_t sx = sizes_[x][fine_];
        if (movable[x] == 0 || sx == 0) continue;
        const std::size_t p = find_smallest(sizes_[x], sx > excess ? sx - excess : 0, sx - 1);
        if (p == npos) continue;
        const std::uint64_t cut = sx - sizes_[pool_[p]][fine_];
        if (cut > best_cut) {
          best_cut = cut;
          best_pos = p;
          best_slot = q;
        }
      }
      if (best_pos == npos) return;
      use(best_pos);
      bin[best_slot] = pool_[best_pos];
      st.loads[b][fine_] -= best_cut;
    }
  }

  /// Path-halving find over a skip array: the free position reached from t.
  [[nodiscard]] static std::size_t skip(std::vector<std::size_t>& next, std::size_t t) noexcept {
    while (next[t] != t) {
      next[t] = next[next[t]];
      t = next[t];
    }
    return t;
  }

  /// Sizes as the pool's sort key: the coarse sizes in dimension order, then the fine size.
  [[nodiscard]] size_vector<D> key_of(const size_vector<D>& s) const noexcept {
    size_vector<D> key{};
    std::size_t at = 0;
    for (std::size_t d = 0; d < D; ++d)
      if (d != fine_) key[at++] = s[d];
    key[D - 1] = s[fine_];
    return key;
  }

  /// First position whose (coarse sizes, fine size) is past (key, v) (or at it, `inclusive` false).
  /// Searches keys_ (the pool's sizes in key layout, in pool order: no lookup per probe).
  [[nodiscard]] std::size_t position(const size_vector<D>& key, std::uint64_t v, bool after) const {
    const size_vector<D> c = key_of(key);
    const auto it = std::partition_point(keys_.begin(), keys_.end(), [&](const size_vector<D>& s) {
      for (std::size_t d = 0; d + 1 < D; ++d)
        if (s[d] != c[d]) return s[d] < c[d];
      return after ? s[D - 1] <= v : s[D - 1] < v;
    });
    return static_cast<std::size_t>(it - keys_.begin());
  }

  [[nodiscard]] bool matches(std::size_t p, const size_vector<D>& key, std::uint64_t lo, std::uint64_t hi) const {
    const size_vector<D>& s = keys_[p];
    for (std::size_t d = 0, at = 0; d < D; ++d)
      if (d != fine_ && s[at++] != key[d]) return false;
    return s[D - 1] >= lo && s[D - 1] <= hi;
  }

  /// The free pool entry with the coarse sizes of `key` and the largest fine size in [lo, hi].
  [[nodiscard]] std::size_t find_largest(const size_vector<D>& key, std::uint64_t lo, std::uint64_t hi) {
    const std::size_t shifted = skip(below_, position(key, hi, true));
    if (shifted == 0 || !matches(shifted - 1, key, lo, hi)) return npos;
    return shifted - 1;
  }

  /// The free pool entry with the coarse sizes of `key` and the smallest fine size in [lo, hi].
  [[nodiscard]] std::size_t find_smallest(const size_vector<D>& key, std::uint64_t lo, std::uint64_t hi) {
    const std::size_t p = skip(above_, position(key, lo, false));
    if (p == pool_.size() || !matches(p, key, lo, hi)) return npos;
    return p;
  }

  std::span<const size_vector<D>> sizes_;
  std::size_t fine_;
  static constexpr std::uint64_t none = std::numeric_limits<std::uint64_t>::max();
  std::vector<std::pair<std::uint64_t, std::uint64_t>> pair_failed_;  ///< per bin: (load, top) of a failed pair search
  std::vector<index_type> pool_;
  std::vector<size_vector<D>> keys_;  ///< per pool position: key_of(its sizes)
  std::vector<std::size_t> below_;  ///< skips used positions downward, over positions + 1 (0: none)
  std::vector<std::size_t> above_;  ///< skips used positions upward (pool size: none)
};

/// Re-deals the items of the steps st.bins[first, first + steps * ranks) over all their bins, so
/// the bins come out near equal and each step is balanced. Two deals, largest balance value first
/// (cost, else the largest size over st.norm), every cap held: LPT (each item to the bin whose value
/// stays smallest) and a target fit (each item to the fullest bin it keeps within the mean load,
/// rounded up, in every balance dimension; else as LPT), which avoids LPT's overshoot when the last
/// large items meet near-full bins. The deal with the smallest summed spread of the steps (max - min
/// over a step's bins, over st.norm, summed over the balance dimensions) replaces the steps if it
/// beats theirs and widens no dimension. Used on the last steps of a flush: the last one holds the
/// least full bins, and a lone step of few items cannot be evened. O(m log m + m B D) for m items in
/// B bins.
template <std::size_t D>
void stream_even_steps(rank_state<D>& st, std::size_t first, std::size_t steps) {
  const std::size_t k = st.ranks * steps;
  const std::size_t dims = st.balance_dims();
  struct deal {
    std::vector<std::vector<index_type>> bins;
    std::vector<size_vector<D>> loads;
    std::vector<double> cost_loads;
  };
  auto value_of = [&](const deal& x, std::size_t b, std::size_t e) {
    return st.costs.empty() ? static_cast<double>(x.loads[b][e]) : x.cost_loads[b];
  };
  auto spread = [&](auto&& value) {  // per balance dimension, summed over the steps
    std::vector<double> total(dims, 0.0);
    for (std::size_t s = 0; s < steps; ++s)
      for (std::size_t e = 0; e < dims; ++e) {
        double hi = 0, lo = std::numeric_limits<double>::max();
        for (std::size_t b = s * st.ranks; b < (s + 1) * st.ranks; ++b) {
          hi = std::max(hi, value(b, e));
          lo = std::min(lo, value(b, e));
        }
        total[e] += (hi - lo) / st.norm[e];
      }
    return total;
  };
  // A deal replaces the steps only if it widens no dimension and narrows their sum.
  auto better = [](const std::vector<double>& a, const std::vector<double>& b) {
    double sa = 0, sb = 0;
    for (std::size_t e = 0; e < a.size(); ++e) {
      if (a[e] > b[e]) return false;
      sa += a[e];
      sb += b[e];
    }
    return sa < sb;
  };
  std::vector<index_type> items;
  for (std::size_t b = first; b < first + k; ++b) items.insert(items.end(), st.bins[b].begin(), st.bins[b].end());
  std::vector<double> keys(items.size());
  std::vector<std::size_t> order(items.size());
  std::vector<double> target(dims, 0.0);
  for (std::size_t q = 0; q < items.size(); ++q) {
    for (std::size_t e = 0; e < dims; ++e) {
      keys[q] = std::max(keys[q], st.item_value(items[q], e) / st.norm[e]);
      target[e] += st.item_value(items[q], e);
    }
  }
  for (double& t : target) t = std::ceil(t / static_cast<double>(k));
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (keys[a] != keys[b]) return keys[a] > keys[b];
    return items[a] < items[b];
  });
  auto run_deal = [&](bool fit_target, deal& x) {
    x.bins.assign(k, {});
    x.loads.assign(k, size_vector<D>{});
    x.cost_loads.assign(k, 0.0);
    for (const std::size_t q : order) {
      const index_type i = items[q];
      std::size_t least = k, fullest = k;
      double least_value = 0, fullest_value = 0;
      for (std::size_t b = 0; b < k; ++b) {
        bool fits = true;
        for (std::size_t d = 0; d < D; ++d) fits = fits && x.loads[b][d] + st.sizes[i][d] <= st.capacity[d];
        if (!fits) continue;
        double v = 0, now = 0;
        bool within = true;
        for (std::size_t e = 0; e < dims; ++e) {
          const double after = value_of(x, b, e) + st.item_value(i, e);
          v = std::max(v, after / st.norm[e]);
          now = std::max(now, value_of(x, b, e) / st.norm[e]);
          within = within && after <= target[e];
        }
        if (least == k || v < least_value) {
          least = b;
          least_value = v;
        }
        if (fit_target && within && (fullest == k || now > fullest_value)) {
          fullest = b;
          fullest_value = now;
        }
      }
      const std::size_t to = fullest != k ? fullest : least;
      if (to == k) return false;  // nothing fits the caps: this deal fails
      x.bins[to].push_back(i);
      for (std::size_t d = 0; d < D; ++d) x.loads[to][d] += st.sizes[i][d];
      if (!st.costs.empty()) x.cost_loads[to] += st.costs[i];
    }
    return true;
  };
  std::vector<double> best = spread([&](std::size_t b, std::size_t e) { return st.bin_value(first + b, e); });
  deal chosen, trial;
  bool found = false;
  for (const bool fit_target : {false, true}) {
    if (!run_deal(fit_target, trial)) continue;
    auto w = spread([&](std::size_t b, std::size_t e) { return value_of(trial, b, e); });
    if (better(w, best)) {
      best = w;
      std::swap(chosen, trial);
      found = true;
    }
  }
  if (!found) return;
  for (std::size_t b = 0; b < k; ++b) {
    st.bins[first + b] = std::move(chosen.bins[b]);
    st.loads[first + b] = chosen.loads[b];
    st.cost_loads[first + b] = chosen.cost_loads[b];
  }
}

}  // namespace fulcrum::detail
