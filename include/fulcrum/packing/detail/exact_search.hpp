// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/exact_search.hpp
/// Internals of `pack_exact`: Korf's bin completion over a multiset of item sizes, with
/// nondominated completions, Martello–Toth L2 on every subproblem, a waste budget, a root
/// reduction (MTRP-style bin fixing) and a best-fit-decreasing incumbent.
///
/// Sizes here are all in 1..C (the caller removes zero-size items and validates the rest).
/// Distinct sizes are kept in descending order with their multiplicities, so completions that
/// differ only by swapping equal-size items are generated once.
///
/// Dominance (Korf 2003; Martello & Toth 1990): a completion A of the bin holding the largest
/// remaining item x is pruned when a completion B exists that "dominates" it, detected by:
///   (1) an excluded item fits in A's free room (A is not maximal),
///   (2) an included item s can be swapped for an excluded item e with s < e <= s + free,
///   (3) two included items s1, s2 can be swapped for one excluded e with s1 + s2 <= e <= s1 + s2 + free.
/// Each rule yields B with (sum, -count) lexicographically larger, so repeatedly replacing the bin of
/// x in any optimal solution by its dominator ends (no cycles) at an undominated completion with no
/// more waste: some optimal solution uses an undominated completion, and pruning the rest is exact.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/core/detail/chrono.hpp"
#include "fulcrum/core/options.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/core/wide_int.hpp"

namespace fulcrum::detail::exact {

using u128 = uint128;

/// ceil(a / c) for a 128-bit numerator (c > 0).
template <class = void>
inline u128 ceil_div(u128 a, std::uint64_t c) { return a / c + (a % c != 0 ? 1 : 0); }

/// Martello–Toth L2 over a multiset: distinct sizes `size` strictly descending with counts `cnt`
/// (zero counts allowed, skipped). O(D). Returns 0 for an empty multiset.
template <class = void>
inline std::uint64_t l2_multiset(std::span<const std::uint64_t> size, std::span<const std::uint64_t> cnt,
                                 std::uint64_t capacity) {
  const std::size_t d_count = size.size();
  // Split: big = size > C/2 (indices [0, h)), small = size <= C/2 (indices [h, D)).
  std::size_t h = 0;
  while (h < d_count && 2 * static_cast<u128>(size[h]) > capacity) ++h;
  std::uint64_t n_big = 0;
  u128 vol_big = 0;
  for (std::size_t d = 0; d < h; ++d) n_big += cnt[d], vol_big += static_cast<u128>(size[d]) * cnt[d];
  u128 vol_small = 0;
  std::uint64_t n_small = 0;
  for (std::size_t d = h; d < d_count; ++d) n_small += cnt[d], vol_small += static_cast<u128>(size[d]) * cnt[d];
  if (n_big + n_small == 0) return 0;
  auto value = [&](std::uint64_t j1, std::uint64_t j2, u128 sum_j2, u128 sum_j3) -> std::uint64_t {
    const u128 room = static_cast<u128>(j2) * capacity - sum_j2;
    std::uint64_t extra = 0;
    if (sum_j3 > room) extra = static_cast<std::uint64_t>(ceil_div(sum_j3 - room, capacity));
    return j1 + j2 + extra;
  };
  // alpha = 0: J1 = {}, J2 = big, J3 = small.
  std::uint64_t best = value(0, n_big, vol_big, vol_small);
  // alpha runs over the small sizes in increasing order (index D-1 down to h); J3 = small sizes >= alpha,
  // J1 = big sizes > C - alpha (a prefix [0, p) of the big ones, growing as alpha grows).
  std::size_t p = 0;
  std::uint64_t j1 = 0;
  u128 vol_j1 = 0;
  u128 vol_j3 = vol_small;
  for (std::size_t j = d_count; j-- > h;) {
    if (cnt[j] == 0) continue;
    const std::uint64_t alpha = size[j];
    while (p < h && size[p] > capacity - alpha) j1 += cnt[p], vol_j1 += static_cast<u128>(size[p]) * cnt[p], ++p;
    best = std::max(best, value(j1, n_big - j1, vol_big - vol_j1, vol_j3));
    vol_j3 -= static_cast<u128>(size[j]) * cnt[j];
  }
  return best;
}

/// Best-fit decreasing on positive sizes <= C; O(n log n). Bins hold item indices (ascending within
/// a bin). Ties: the fullest bin that fits; among equally full bins the lowest index.
template <class = void>
inline std::vector<std::vector<index_type>> best_fit_decreasing(std::span<const std::uint64_t> sizes,
                                                                std::span<const index_type> items, std::uint64_t capacity) {
  std::vector<index_type> order(items.begin(), items.end());
  std::stable_sort(order.begin(), order.end(), [&](index_type a, index_type b) { return sizes[a] > sizes[b]; });
  std::vector<std::vector<index_type>> bins;
  std::set<std::pair<std::uint64_t, std::size_t>> room;  // (free room, bin)
  for (index_type i : order) {
    auto it = room.lower_bound({sizes[i], 0});
    if (it == room.end()) {
      bins.push_back({i});
      if (capacity - sizes[i] > 0) room.insert({capacity - sizes[i], bins.size() - 1});
    } else {
      const auto [free, b] = *it;
      room.erase(it);
      bins[b].push_back(i);
      if (free - sizes[i] > 0) room.insert({free - sizes[i], b});
    }
  }
  for (auto& b : bins) std::sort(b.begin(), b.end());
  return bins;
}

/// The bin-completion search over a fixed multiset of positive sizes.
template <class = void>
class basic_bin_completion {
 public:
  enum class outcome { found, exhausted, limit };

  /// `sizes[i]` for the items in `items` (all in 1..C).
  basic_bin_completion(std::span<const std::uint64_t> sizes, std::span<const index_type> items, std::uint64_t capacity,
                 const search_limits& limits, std::chrono::steady_clock::time_point start)
      : capacity_(capacity), node_limit_(limits.nodes) {
    if (limits.time != std::chrono::milliseconds::max()) {
      has_deadline_ = true;
      const auto max_left = std::chrono::steady_clock::time_point::max() - start;
      deadline_ = limits.time >= max_left ? std::chrono::steady_clock::time_point::max() : start + limits.time;
    }
    std::vector<index_type> order(items.begin(), items.end());
    std::stable_sort(order.begin(), order.end(), [&](index_type a, index_type b) { return sizes[a] > sizes[b]; });
    for (index_type i : order) {
      if (size_.empty() || size_.back() != sizes[i]) {
        size_.push_back(sizes[i]);
        cnt_.push_back(0);
        members_.emplace_back();
      }
      ++cnt_.back();
      members_.back().push_back(i);  // ascending index within a size (stable sort)
      total_ += sizes[i];
    }
    chosen_.assign(size_.size(), 0);
  }

  [[nodiscard]] std::uint64_t nodes() const noexcept { return nodes_; }
  [[nodiscard]] bool limit_hit() const noexcept { return stopped_; }

  /// L2 of the items not fixed by `reduce`.
  [[nodiscard]] std::uint64_t remaining_l2() const { return l2_multiset(size_, cnt_, capacity_); }
  /// Bins fixed by `reduce` (part of some optimal packing).
  [[nodiscard]] std::size_t fixed_bins() const noexcept { return fixed_.size(); }

  /// Root reduction: while the largest remaining item has exactly one undominated completion
  /// (found within `work` enumeration steps), that bin belongs to an optimal packing: fix it.
  void reduce(std::uint64_t work) {
    while (true) {
      const std::size_t first = first_remaining();
      if (first == size_.size()) return;
      --cnt_[first];
      std::vector<completion> found;
      enumeration_budget_ = work;
      enumerate(first, first, capacity_ - size_[first], 0, found, 2);
      const bool forced = enumeration_budget_ != 0 && !stopped_ && found.size() == 1;
      if (!forced) {
        ++cnt_[first];
        return;
      }
      apply(found.front(), -1);
      fixed_.push_back(found.front());
      fixed_.back().lead = first;
    }
  }

  /// Searches for a packing of the remaining items into at most `target - fixed_bins()` more bins.
  outcome search(std::uint64_t target) {
    if (target < fixed_.size()) return outcome::exhausted;
    target_ = target - fixed_.size();
    u128 remaining = 0;
    for (std::size_t d = 0; d < size_.size(); ++d) remaining += static_cast<u128>(size_[d]) * cnt_[d];
    const u128 room = static_cast<u128>(target_) * capacity_;
    if (room < remaining) return outcome::exhausted;
    allowed_waste_ = room - remaining;
    enumeration_budget_ = std::numeric_limits<std::uint64_t>::max();
    path_.clear();
    nogoods_.clear();
    const int r = dfs(0, 0);
    if (r == 1) return outcome::found;
    return stopped_ ? outcome::limit : outcome::exhausted;
  }

  /// The packing found by the last successful `search` (fixed bins first), item indices ascending per bin.
  [[nodiscard]] std::vector<std::vector<index_type>> solution() const {
    std::vector<std::size_t> next(size_.size(), 0);
    std::vector<std::vector<index_type>> bins;
    auto emit = [&](const completion& c) {
      std::vector<index_type> bin;
      bin.push_back(members_[c.lead][next[c.lead]++]);
      for (const auto& [d, k] : c.parts)
        for (std::uint64_t t = 0; t < k; ++t) bin.push_back(members_[d][next[d]++]);
      std::sort(bin.begin(), bin.end());
      bins.push_back(std::move(bin));
    };
    for (const auto& c : fixed_) emit(c);
    for (const auto& c : path_) emit(c);
    return bins;
  }

 private:
  struct completion {
    std::size_t lead = 0;                                    ///< distinct-size index of the bin's largest item
    std::vector<std::pair<std::size_t, std::uint64_t>> parts;  ///< (distinct size, count) besides the lead
    std::uint64_t fill = 0;                                  ///< sum of parts (lead excluded)
  };

  std::size_t first_remaining() const {
    std::size_t d = 0;
    while (d < size_.size() && cnt_[d] == 0) ++d;
    return d;
  }

  void apply(const completion& c, int sign) {
    for (const auto& [d, k] : c.parts) cnt_[d] = sign < 0 ? cnt_[d] - k : cnt_[d] + k;
  }

  /// Counts one unit of work; false once a limit is hit.
  bool tick() {
    if (stopped_) return false;
    ++nodes_;
    if (nodes_ > node_limit_ || (has_deadline_ && (nodes_ & 1023) == 0 && std::chrono::steady_clock::now() >= deadline_))
      return stopped_ = true, false;
    return true;
  }

  /// Is the chosen set (chosen_, free room `free`) dominated under rules (1)-(3)?
  bool dominated(std::uint64_t free) const {
    const std::size_t dn = size_.size();
    auto excluded = [&](std::size_t d) { return cnt_[d] > chosen_[d]; };
    // (1) maximality: the smallest excluded size fits.
    for (std::size_t d = dn; d-- > 0;)
      if (excluded(d)) {
        if (size_[d] <= free) return true;
        break;
      }
    // Excluded sizes ascending-by-index view: for rule (2) and (3) we look for an excluded e in [lo, hi].
    auto excluded_in = [&](u128 lo, u128 hi) {
      // sizes are descending in d; scan is fine (D small), early exit when below lo.
      for (std::size_t d = 0; d < dn; ++d) {
        if (size_[d] > hi) continue;
        if (size_[d] < lo) return false;
        if (excluded(d)) return true;
      }
      return false;
    };
    for (std::size_t d = 0; d < dn; ++d) {
      if (chosen_[d] == 0) continue;
      // (2) swap one included item of size s for a larger excluded one that still fits.
      if (excluded_in(static_cast<u128>(size_[d]) + 1, static_cast<u128>(size_[d]) + free)) return true;
      // (3) swap two included items for one excluded item at least as large as both together.
      for (std::size_t d2 = d; d2 < dn; ++d2) {
        if (chosen_[d2] == 0 || (d2 == d && chosen_[d] < 2)) continue;
        const u128 pair = static_cast<u128>(size_[d]) + size_[d2];
        if (excluded_in(pair, pair + free)) return true;
      }
    }
    return false;
  }

  /// Does the bin (lead unit + chosen_) contain an active nogood as a sub-multiset of sizes?
  bool contains_nogood(std::size_t lead) const {
    for (const auto& ng : nogoods_) {
      bool all = true;
      for (const auto& [d, k] : ng)
        if (chosen_[d] + (d == lead ? 1 : 0) < k) {
          all = false;
          break;
        }
      if (all) return true;
    }
    return false;
  }

  /// Enumerates undominated completions of a bin whose lead item (distinct size `lead`) was removed
  /// from cnt_, with free room `free`, filling at least `min_fill`, using items of distinct-size index
  /// >= `from` (the lead's own index for largest-first branching, 0 otherwise). Appends to `out`;
  /// stops at `max_out` results or when the enumeration budget or a search limit runs out.
  void enumerate(std::size_t lead, std::size_t from, std::uint64_t free, std::uint64_t min_fill,
                 std::vector<completion>& out, std::size_t max_out) {
    suffix_.assign(size_.size() + 1, 0);
    for (std::size_t d = size_.size(); d-- > from;) suffix_[d] = suffix_[d + 1] + static_cast<u128>(size_[d]) * cnt_[d];
    smallest_ = 0;
    for (std::size_t d = size_.size(); d-- > 0;)
      if (cnt_[d] > 0) {
        smallest_ = size_[d];
        break;
      }
    std::fill(chosen_.begin(), chosen_.end(), 0);
    current_.clear();
    enumerate_rec(lead, from, free, 0, min_fill, out, max_out);
  }

  /// Subsets by "next included distinct size": the current set is a candidate, then each larger set
  /// that adds k >= 1 items of a size after the last one added.
  void enumerate_rec(std::size_t lead, std::size_t from, std::uint64_t free, std::uint64_t fill, std::uint64_t min_fill,
                     std::vector<completion>& out, std::size_t max_out) {
    if (out.size() >= max_out || enumeration_budget_ == 0) return;
    --enumeration_budget_;
    if (!tick()) return;
    if (fill >= min_fill && !dominated(free) && !contains_nogood(lead)) {
      completion c;
      c.lead = lead;
      c.parts = current_;
      c.fill = fill;
      out.push_back(std::move(c));
      if (out.size() >= max_out) return;
    }
    if (free == 0) return;
    // slack: room we may leave empty. An item that leaves more than `slack` free must be followed by
    // another item, so it must leave room for the smallest remaining one.
    const std::uint64_t need = min_fill > fill ? min_fill - fill : 0;
    const std::uint64_t slack = free - std::min(free, need);
    // First distinct size that fits (sizes are descending).
    std::size_t d = static_cast<std::size_t>(
        std::partition_point(size_.begin() + static_cast<std::ptrdiff_t>(from), size_.end(),
                             [&](std::uint64_t s) { return s > free; }) - size_.begin());
    for (; d < size_.size(); ++d) {
      if (static_cast<u128>(fill) + suffix_[d] < min_fill) return;  // even all the rest cannot reach min_fill
      if (cnt_[d] == 0) continue;
      const std::uint64_t s = size_[d];
      if (free - s > slack && (smallest_ == 0 || s + smallest_ > free)) continue;  // cannot finish, cannot continue
      const std::uint64_t most = std::min<std::uint64_t>(cnt_[d], free / s);
      for (std::uint64_t k = most; k >= 1; --k) {
        chosen_[d] = k;
        current_.emplace_back(d, k);
        enumerate_rec(lead, d + 1, free - k * s, fill + k * s, min_fill, out, max_out);
        current_.pop_back();
        chosen_[d] = 0;
        if (out.size() >= max_out || stopped_ || enumeration_budget_ == 0) return;
      }
    }
  }

  /// 1 = found, 0 = no packing below this node (or limit hit; see stopped_).
  ///
  /// Branching item: with waste left, the largest remaining item (Korf), completed with items no
  /// larger than it. With no waste left (every remaining bin must be exactly full) the item with the
  /// fewest exact completions (fail first; 0 prunes the node), completed with any items. Both are
  /// exact: the dominance argument holds for the bin of any item.
  int dfs(std::uint64_t bins_done, u128 waste_used) {
    const std::size_t first = first_remaining();
    if (first == size_.size()) return 1;
    if (!tick()) return 0;
    if (bins_done + l2_multiset(size_, cnt_, capacity_) > target_) return 0;
    const u128 budget = allowed_waste_ - waste_used;
    std::size_t lead = first;
    std::vector<completion> options;
    if (budget == 0) {
      std::size_t best_count = std::numeric_limits<std::size_t>::max();
      std::vector<completion> trial;
      const std::uint64_t mrv_start = nodes_;
      const std::uint64_t mrv_cap = mrv_work_per_size * static_cast<std::uint64_t>(size_.size() - first);
      for (std::size_t d = first; d < size_.size() && best_count > 1 && nodes_ - mrv_start <= mrv_cap; ++d) {
        if (cnt_[d] == 0) continue;
        --cnt_[d];
        trial.clear();
        const std::uint64_t free = capacity_ - size_[d];
        enumerate(d, 0, free, free, trial, best_count);  // stops at best_count: then not better
        ++cnt_[d];
        if (stopped_) return 0;
        if (trial.size() < best_count) {
          best_count = trial.size();
          lead = d;
          options.swap(trial);
          if (best_count == 0) return 0;  // this item cannot be in any exactly full bin
        }
      }
      --cnt_[lead];
    } else {
      --cnt_[lead];
      const std::uint64_t free = capacity_ - size_[lead];
      const std::uint64_t min_fill = budget >= free ? 0 : free - static_cast<std::uint64_t>(budget);
      enumerate(lead, lead, free, min_fill, options, std::numeric_limits<std::size_t>::max());
    }
    const std::uint64_t free = capacity_ - size_[lead];
    // Fullest bins first; generation order (larger items first) breaks ties.
    std::stable_sort(options.begin(), options.end(), [](const completion& a, const completion& b) { return a.fill > b.fill; });
    // Nogoods (Korf): once the bin {x} + S has failed, no later sibling's subtree may hold a bin that
    // contains all of S. Such a bin Y = S + R could swap S for the x-bin's T (sum T <= sum S, as
    // siblings are tried fullest first), giving a packing whose x-bin is {x} + S: already refuted.
    const std::size_t nogood_mark = nogoods_.size();
    int result = 0;
    for (const auto& c : options) {
      if (stopped_) break;
      apply(c, -1);
      path_.push_back(c);
      result = dfs(bins_done + 1, waste_used + (free - c.fill));
      if (result == 1) break;  // keep the path; counts stay applied
      path_.pop_back();
      apply(c, +1);
      if (!c.parts.empty()) nogoods_.push_back(c.parts);
    }
    nogoods_.resize(nogood_mark);
    if (result != 1) ++cnt_[lead];
    return result;
  }

  /// Work cap of the fail-first item choice, per remaining distinct size.
  static constexpr std::uint64_t mrv_work_per_size = 64;

  std::uint64_t capacity_;
  std::uint64_t node_limit_;
  bool has_deadline_ = false;
  std::chrono::steady_clock::time_point deadline_{};
  std::uint64_t nodes_ = 0;
  bool stopped_ = false;  ///< a limit was hit
  std::uint64_t enumeration_budget_ = 0;

  std::vector<std::uint64_t> size_;                 ///< distinct sizes, descending
  std::vector<std::uint64_t> cnt_;                  ///< remaining count per distinct size
  std::vector<std::vector<index_type>> members_;    ///< item indices per distinct size
  u128 total_ = 0;
  std::vector<std::uint64_t> chosen_;
  std::vector<std::pair<std::size_t, std::uint64_t>> current_;
  std::vector<u128> suffix_;
  std::uint64_t smallest_ = 0;
  std::vector<completion> fixed_;
  std::vector<completion> path_;
  std::vector<std::vector<std::pair<std::size_t, std::uint64_t>>> nogoods_;
  std::uint64_t target_ = 0;
  u128 allowed_waste_ = 0;
};
using bin_completion = basic_bin_completion<>;

}  // namespace fulcrum::detail::exact
