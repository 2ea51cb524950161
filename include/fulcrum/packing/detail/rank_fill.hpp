// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/rank_fill.hpp
/// Bin filling for rank-aware packing: a vector bin packer that closes one bin at a time.
///
/// Items are bucketed by their sizes in the coarse dimensions (all but the one with the largest
/// capacity, the "fine" dimension; e.g. the image count beside tokens) into classes, and inside a
/// class by their fine size (a successor bitmap over C_f - s_f, so "largest fine size <= room" is one
/// `next()` query; a second bitmap over s_f answers "smallest fine size >= x"). A bin is opened with
/// the remaining item of largest dominant normalised size (max_d s_d / C_d) and filled so that its
/// fill fractions load_d / target_d move in step: the targets are the binding dimension's capacity
/// and, for the others, their average load over the bins still needed (remaining_d / max_e
/// (remaining_e / C_e)); coarse dimensions whose target is below 90 % of their capacity are not
/// tracked, only fitted. Each class that fits offers the items whose fine size is closest (below and
/// above) to the amount that brings the fine fraction to the class's coarse fraction (the room, i.e.
/// best fit, when nothing is tracked); the offer with the least deviation between the fractions
/// wins, ties to the larger item. The bin closes when no item fits. Greedy "largest item that fits"
/// spends the long-text items early and leaves bins full in tokens but short of images; keeping the
/// fractions in step avoids that (W1 at (8, 8192): 2 % over L2 instead of 9 %).
/// O(n K log_64 C_f) for K classes (K <= 4096, K (C_f + 1) <= 2^25); where the classes do not apply
/// the caller falls back to multi_best_fit_decreasing.
/// Deterministic: ties go to the lower class key, inside a bucket to the lower item index.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/detail/successor_bitmap.hpp"
#include "fulcrum/packing/multi.hpp"

namespace fulcrum::detail {

template <std::size_t D>
struct rank_fill_layout {
  std::size_t fine = 0;                 ///< dimension with the largest capacity
  std::array<std::uint64_t, D> stride{};  ///< class key stride per coarse dimension (0 for fine)
  std::size_t classes = 1;
  bool applies = false;
};

template <std::size_t D>
[[nodiscard]] rank_fill_layout<D> rank_fill_plan(const size_vector<D>& capacity) {
  rank_fill_layout<D> l;
  for (std::size_t d = 1; d < D; ++d)
    if (capacity[d] > capacity[l.fine]) l.fine = d;
  std::uint64_t classes = 1;
  for (std::size_t d = 0; d < D; ++d) {
    if (d == l.fine) continue;
    if (capacity[d] >= 4096) return l;
    l.stride[d] = classes;
    classes *= capacity[d] + 1;
    if (classes > 4096) return l;
  }
  if (capacity[l.fine] >= (std::uint64_t{1} << 24) || classes * (capacity[l.fine] + 1) > (std::uint64_t{1} << 25))
    return l;
  l.classes = static_cast<std::size_t>(classes);
  l.applies = true;
  return l;
}

/// Fills bins one at a time (see file docs). `sizes` must all fit `capacity`. Returns the item
/// lists of the bins in closing order (items in placement order).
/// Coarse dimensions whose average load per bin is at least this share of their capacity are
/// tracked (kept in step with the fine dimension); the others only have to fit.
inline constexpr double tracked_tightness = 0.9;

/// Scratch of rank_fill (kept by a reusable workspace: no allocation once it has grown).
template <std::size_t D>
struct rank_fill_scratch {
  std::vector<size_vector<D>> class_size;
  std::vector<index_type> head;
  std::vector<index_type> below;
  std::vector<successor_bitmap> present;
  std::vector<successor_bitmap> ascending;
  std::vector<std::size_t> class_count;
  std::vector<double> coarse_size;  ///< per class, this bin's sum of tracked coarse sizes / capacity
  std::vector<double> fraction;     ///< per tracked coarse dimension d, v / target_d for v in [0, C_d]
};

/// Whether x / t == x * (1 / t) for every double x of the filler's range (|x| < 2^66): t is a power
/// of two whose reciprocal and quotients stay normal (scaling by a power of two is exact).
[[nodiscard]] inline bool exact_reciprocal(double t) noexcept {
  int e = 0;
  return t > 0 && std::frexp(t, &e) == 0.5 && e > -900 && e < 900;
}

/// rank_fill into `bins` (see rank_fill): bins[0, returned count) receive the bins in closing order;
/// entries of `bins` beyond the count are left as they are (their storage stays for a later call).
template <std::size_t D>
std::size_t rank_fill_into(std::span<const size_vector<D>> sizes, const size_vector<D>& capacity,
                           const rank_fill_layout<D>& layout, rank_fill_scratch<D>& sc,
                           std::vector<std::vector<index_type>>& bins) {
  const std::size_t n = sizes.size();
  const std::size_t f = layout.fine;
  const std::uint64_t cf = capacity[f];
  const std::size_t width = static_cast<std::size_t>(cf) + 1;
  const std::size_t K = layout.classes;
  std::array<double, D> inv{};
  for (std::size_t d = 0; d < D; ++d) inv[d] = 1.0 / static_cast<double>(capacity[d]);
  auto key_of = [&](const size_vector<D>& s) {
    std::size_t k = 0;
    for (std::size_t d = 0; d < D; ++d)
      if (d != f) k += static_cast<std::size_t>(s[d] * layout.stride[d]);
    return k;
  };
  // Class sizes in the coarse dimensions.
  std::vector<size_vector<D>>& class_size = sc.class_size;
  class_size.assign(K, size_vector<D>{});
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t d = 0; d < D; ++d)
      if (d != f) class_size[k][d] = (k / layout.stride[d]) % (capacity[d] + 1);
  // Buckets: (class, C_f - s_f) -> stack of items, lowest index on top.
  std::vector<index_type>& head = sc.head;
  head.assign(K * width, static_cast<index_type>(-1));
  std::vector<index_type>& below = sc.below;
  below.resize(n);
  std::vector<successor_bitmap>& present = sc.present;      // by C_f - s_f
  std::vector<successor_bitmap>& ascending = sc.ascending;  // by s_f
  if (present.size() < K) present.resize(K);
  if (ascending.size() < K) ascending.resize(K);
  for (std::size_t k = 0; k < K; ++k) {
    present[k].assign(width);
    ascending[k].assign(width);
  }
  std::vector<std::size_t>& class_count = sc.class_count;
  class_count.assign(K, 0);
  // Sizes left per dimension. Their sums are integers below 2^56 (n < 2^32 items, sizes < 2^24), so
  // an integer holds the same values as a long double of 64 or more digits, without x87 arithmetic
  // per item; where long double is narrower its (rounded) sums are kept.
  using remaining_t =
      std::conditional_t<(std::numeric_limits<long double>::digits >= 64), std::uint64_t, long double>;
  std::array<remaining_t, D> remaining{};
  for (std::size_t i = n; i-- > 0;) {
    const std::size_t k = key_of(sizes[i]);
    const std::size_t u = static_cast<std::size_t>(cf - sizes[i][f]);
    const std::size_t slot = k * width + u;
    below[i] = head[slot];
    if (head[slot] == static_cast<index_type>(-1)) {
      present[k].insert(u);
      ascending[k].insert(static_cast<std::size_t>(sizes[i][f]));
    }
    head[slot] = static_cast<index_type>(i);
    ++class_count[k];
    for (std::size_t d = 0; d < D; ++d) remaining[d] += static_cast<remaining_t>(sizes[i][d]);
  }
  auto take = [&](std::size_t k, std::size_t u) {
    const std::size_t slot = k * width + u;
    const index_type i = head[slot];
    head[slot] = below[i];
    if (head[slot] == static_cast<index_type>(-1)) {
      present[k].erase(u);
      ascending[k].erase(static_cast<std::size_t>(cf - u));
    }
    --class_count[k];
    for (std::size_t d = 0; d < D; ++d) remaining[d] -= static_cast<remaining_t>(sizes[i][d]);
    return i;
  };
  std::size_t count = 0;
  std::size_t left = n;
  while (left > 0) {
    // Seed: the item of largest dominant normalised size (then largest sum, then lowest class).
    std::size_t best_k = K, best_u = 0;
    double best_dom = -1, best_sum = -1;
    for (std::size_t k = 0; k < K; ++k) {
      if (class_count[k] == 0) continue;
      const std::size_t u = present[k].next(0);
      double dom = static_cast<double>(cf - u) * inv[f];
      double sum = dom;
      for (std::size_t d = 0; d < D; ++d) {
        if (d == f) continue;
        const double x = fulcrum::detail::mul(static_cast<double>(class_size[k][d]), inv[d]);  // summed: never contracted
        dom = std::max(dom, x);
        sum += x;
      }
      if (dom > best_dom || (dom == best_dom && sum > best_sum)) {
        best_k = k;
        best_u = u;
        best_dom = dom;
        best_sum = sum;
      }
    }
    if (count == bins.size()) bins.emplace_back();
    std::vector<index_type>& bin = bins[count++];
    bin.clear();
    // A new bin's storage: room for twice the previous bin's items (one allocation, not a doubling
    // per placement; reused bins keep theirs).
    if (bin.capacity() == 0) bin.reserve(std::max<std::size_t>(8, count > 1 ? 2 * bins[count - 2].size() : 0));
    size_vector<D> room = capacity;
    // Targets: the binding dimensions full, the others at their average over the bins still needed.
    std::array<double, D> target{};
    {
      long double need = 0;
      for (std::size_t d = 0; d < D; ++d)
        need = std::max(need, static_cast<long double>(remaining[d]) * static_cast<long double>(inv[d]));
      for (std::size_t d = 0; d < D; ++d)
        target[d] = need > 0 ? std::min(static_cast<double>(capacity[d]),
                                        static_cast<double>(static_cast<long double>(remaining[d]) / need))
                             : 0.0;
      // A coarse dimension well below its capacity on average (tightness < tracked_tightness) only has
      // to fit; tracking it would cost fill in the binding dimension.
      for (std::size_t d = 0; d < D; ++d)
        if (d != f && target[d] < tracked_tightness * static_cast<double>(capacity[d])) target[d] = 0;
    }
    // Per bin: each class's tracked coarse size, each tracked coarse fraction v / target_d (the same
    // quotients as computed per candidate, each once per bin), and whether the fine fraction's division
    // is an exact multiplication (target_f a power of two, e.g. a full cap of 8192 tokens).
    std::array<bool, D> tracked{};
    std::array<std::size_t, D> frac_at{};
    std::size_t frac_len = 0;
    bool any_tracked = false;
    for (std::size_t d = 0; d < D; ++d) {
      tracked[d] = d != f && target[d] > 0;
      if (!tracked[d]) continue;
      any_tracked = true;
      frac_at[d] = frac_len;
      frac_len += static_cast<std::size_t>(capacity[d]) + 1;
    }
    std::vector<double>& fraction = sc.fraction;
    std::vector<double>& coarse_sizes = sc.coarse_size;
    fraction.assign(frac_len, -1.0);  // filled on first use (a fraction is never negative)
    coarse_sizes.resize(K);
    for (std::size_t k = 0; k < K; ++k) {
      double cs = 0;
      for (std::size_t d = 0; d < D; ++d)
        if (tracked[d]) cs += fulcrum::detail::mul(static_cast<double>(class_size[k][d]), inv[d]);  // never contracted
      coarse_sizes[k] = cs;
    }
    const bool fine_target = target[f] > 0;
    const bool fine_exact = exact_reciprocal(target[f]);
    const double fine_inv = fine_target ? 1.0 / target[f] : 0.0;
    size_vector<D> load{};
    for (;;) {
      const index_type i = take(best_k, best_u);
      bin.push_back(i);
      --left;
      for (std::size_t d = 0; d < D; ++d) room[d] -= sizes[i][d];
      if (left == 0) break;
      for (std::size_t d = 0; d < D; ++d) load[d] += sizes[i][d];
      // Best candidate among the classes that fit: keep the fill fractions load_d / target_d of all
      // dimensions together (see file docs).
      best_k = K;
      double best_dev = 0, best_size = 0;
      for (std::size_t k = 0; k < K; ++k) {
        if (class_count[k] == 0) continue;
        bool ok = true;
        for (std::size_t d = 0; d < D && ok; ++d) ok = d == f || class_size[k][d] <= room[d];
        if (!ok) continue;
        // Fill fraction of the coarse dimensions after adding this class: (load_d + size_d) /
        // target_d, from the bin's table (load_d + size_d <= C_d: the class fits).
        double lo = 2, hi = -1;
        if (any_tracked)
          for (std::size_t d = 0; d < D; ++d) {
            if (!tracked[d]) continue;
            const std::uint64_t v = load[d] + class_size[k][d];
            double& x = fraction[frac_at[d] + static_cast<std::size_t>(v)];
            if (x < 0) x = static_cast<double>(v) / target[d];
            lo = std::min(lo, x);
            hi = std::max(hi, x);
          }
        const double coarse_size = coarse_sizes[k];
        // Wanted fine size: the one that brings the fine fraction to the coarse fraction (fill the
        // bin when there is no coarse dimension).
        std::uint64_t want = room[f];
        if (hi >= 0 && fine_target) {
          const double w = fulcrum::detail::mul(hi, target[f]) - static_cast<double>(load[f]);
          want = w <= 0 ? 0 : std::min<std::uint64_t>(room[f], static_cast<std::uint64_t>(w));
        }
        std::size_t cand[2] = {successor_bitmap::none, successor_bitmap::none};
        const std::size_t below_u = present[k].next(static_cast<std::size_t>(cf - want));  // largest s_f <= want
        if (below_u != successor_bitmap::none) cand[0] = static_cast<std::size_t>(cf) - below_u;
        // Smallest s_f >= want, within the room. Not looked up when it can only repeat cand[0] (which
        // found want itself, or want is the room): the same size, so it would not change the best.
        if (cand[0] != want && want < room[f]) {
          const std::size_t above = ascending[k].next(static_cast<std::size_t>(want));
          if (above != successor_bitmap::none && above <= room[f]) cand[1] = above;
        }
        for (const std::size_t s_f : cand) {
          if (s_f == successor_bitmap::none) continue;
          double dev = hi >= 0 ? hi - lo : 0.0;
          if (fine_target && hi >= 0) {
            const double x = static_cast<double>(load[f] + s_f);
            const double y = fulcrum::detail::mul(x, fine_inv);  // x / target_f, exact when fine_exact
            if (!fine_exact) {
              // y is within a few ulps of the quotient: a candidate whose deviation is clearly
              // above the best one's cannot win and skips the division (the margin is over 2^10
              // times the error of either side, the rounding of the sum included; the result is the
              // same as with the division).
              const double margin = 0x1p-40 * (4.0 + y + hi + best_dev);
              if (best_k != K && dev + std::abs(y - hi) > best_dev + margin) continue;
              dev += std::abs(x / target[f] - hi);
            } else {
              dev += std::abs(y - hi);
            }
          }
          const double size = coarse_size + static_cast<double>(s_f) * inv[f];
          if (best_k == K || dev < best_dev || (dev == best_dev && size > best_size)) {
            best_k = k;
            best_u = static_cast<std::size_t>(cf - s_f);
            best_dev = dev;
            best_size = size;
          }
        }
      }
      if (best_k == K) break;
    }
  }
  return count;
}

template <std::size_t D>
[[nodiscard]] std::vector<std::vector<index_type>> rank_fill(std::span<const size_vector<D>> sizes,
                                                             const size_vector<D>& capacity,
                                                             const rank_fill_layout<D>& layout) {
  rank_fill_scratch<D> sc;
  std::vector<std::vector<index_type>> bins;
  bins.resize(rank_fill_into<D>(sizes, capacity, layout, sc, bins));
  return bins;
}

}  // namespace fulcrum::detail
