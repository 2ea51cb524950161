// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/exact_primal.hpp
/// Internals of `pack_exact`: primal heuristics that run before the branch and bound, so that a
/// packing meeting the lower bound is usually found in milliseconds.
///
/// - first_fit_decreasing: O(n log n + n·bins).
/// - minimum_bin_slack (MBS', Fleszar & Hindi 2002): bin by bin, the largest remaining item plus the
///   subset of the remaining items that leaves the least slack (depth-first over sizes descending,
///   equal sizes deduplicated, capped work per bin).
/// - pool_search: reaching a target of t bins. Keeps t - 1 bins and a pool of the other items;
///   succeeds when the pool fits in one bin. A move refills one bin optimally from its own items plus
///   the pool (subset-sum by bitset DP over the capacity, O(k·C/64) for k candidate items), accepted
///   when the bin gets fuller, or equally full with fewer items (its items get larger, the pool's
///   smaller): each accepted move decreases (pool volume, -pool count), so the descent ends. When no
///   bin improves, a seeded perturbation re-optimises two random bins with the pool or kicks random
///   items into it (the SAWMBS-style perturbation idea). Deterministic: a fixed seed and a work budget
///   counted in DP words; optionally also a wall-clock deadline.
/// Guarantee: every returned packing holds every item exactly once within capacity (the caller
/// checks only the bin count against the bound; nothing here claims optimality).
/// Used only when C <= 2^22 (the DP over the capacity); above that pool_search returns nothing.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/core/detail/chrono.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum::detail::exact {

using bin_list = std::vector<std::vector<index_type>>;

/// Work budget of the primal heuristics (units: DP words / search steps).
struct primal_budget {
  std::uint64_t work = 0;
  bool has_deadline = false;
  std::chrono::steady_clock::time_point deadline{};
  [[nodiscard]] bool spend(std::uint64_t units) {
    if (units >= work) {
      work = 0;
      return false;
    }
    work -= units;
    return true;
  }
  [[nodiscard]] bool time_up() const { return has_deadline && std::chrono::steady_clock::now() >= deadline; }
};

template <class = void>
inline std::vector<index_type> sorted_desc(std::span<const std::uint64_t> sizes, std::span<const index_type> items) {
  std::vector<index_type> order(items.begin(), items.end());
  std::stable_sort(order.begin(), order.end(), [&](index_type a, index_type b) { return sizes[a] > sizes[b]; });
  return order;
}

/// First-fit decreasing on positive sizes <= C.
template <class = void>
inline bin_list first_fit_decreasing(std::span<const std::uint64_t> sizes, std::span<const index_type> items,
                                     std::uint64_t capacity) {
  bin_list bins;
  std::vector<std::uint64_t> load;
  for (index_type i : sorted_desc(sizes, items)) {
    std::size_t b = 0;
    while (b < bins.size() && sizes[i] > capacity - load[b]) ++b;
    if (b == bins.size()) bins.emplace_back(), load.push_back(0);
    bins[b].push_back(i);
    load[b] += sizes[i];
  }
  return bins;
}

/// MBS' (see file docs). `work_per_bin` caps the subset search of each bin.
template <class = void>
inline bin_list minimum_bin_slack(std::span<const std::uint64_t> sizes, std::span<const index_type> items,
                                  std::uint64_t capacity, std::uint64_t work_per_bin) {
  std::vector<index_type> rest = sorted_desc(sizes, items);
  bin_list bins;
  std::vector<std::size_t> chosen, best;
  while (!rest.empty()) {
    const std::uint64_t free = capacity - sizes[rest[0]];
    std::uint64_t best_slack = free;
    best.clear();
    chosen.clear();
    std::uint64_t steps = 0;
    // Depth-first over positions 1.. of `rest` (sizes descending), equal sizes taken in order.
    auto dfs = [&](auto&& self, std::size_t from, std::uint64_t room) -> void {
      if (room < best_slack) best_slack = room, best = chosen;
      if (best_slack == 0 || ++steps > work_per_bin) return;
      for (std::size_t j = from; j < rest.size(); ++j) {
        const std::uint64_t s = sizes[rest[j]];
        if (s > room) continue;
        if (j > from && s == sizes[rest[j - 1]]) continue;
        chosen.push_back(j);
        self(self, j + 1, room - s);
        chosen.pop_back();
        if (best_slack == 0 || steps > work_per_bin) return;
      }
    };
    dfs(dfs, 1, free);
    std::vector<index_type> bin{rest[0]};
    std::vector<std::uint8_t> take(rest.size(), 0);
    take[0] = 1;
    for (std::size_t j : best) bin.push_back(rest[j]), take[j] = 1;
    bins.push_back(std::move(bin));
    std::size_t k = 0;
    for (std::size_t j = 0; j < rest.size(); ++j)
      if (!take[j]) rest[k++] = rest[j];
    rest.resize(k);
  }
  return bins;
}

/// The pool search (see file docs).
template <class = void>
class basic_pool_search {
 public:
  basic_pool_search(std::span<const std::uint64_t> sizes, std::uint64_t capacity, std::uint64_t seed)
      : sizes_(sizes), capacity_(capacity), gen_(seed) {}

  /// Tries to turn `start` (a valid packing) into one with `target` bins. Returns the packing, or
  /// an empty list when the budget ran out first.
  bin_list run(const bin_list& start, std::size_t target, primal_budget& budget) {
    if (target == 0 || capacity_ > (std::uint64_t{1} << 22)) return {};
    if (start.size() <= target) return start;
    // Keep the fullest target - 1 bins.
    std::vector<std::pair<std::uint64_t, std::size_t>> by_load;
    for (std::size_t b = 0; b < start.size(); ++b) by_load.emplace_back(load_of(start[b]), b);
    std::stable_sort(by_load.begin(), by_load.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    bins_.clear();
    load_.clear();
    pool_.clear();
    pool_sum_ = 0;
    for (std::size_t k = 0; k < by_load.size(); ++k) {
      const auto& bin = start[by_load[k].second];
      if (k + 1 < target) {
        bins_.push_back(bin);
        load_.push_back(by_load[k].first);
      } else {
        for (index_type i : bin) pool_.push_back(i), pool_sum_ += sizes_[i];
      }
    }
    std::uint64_t rounds = 0;
    while (pool_sum_ > capacity_) {
      if (budget.work == 0 || ((++rounds & 7) == 0 && budget.time_up())) return {};
      bool improved = false;
      for (std::size_t b = 0; b < bins_.size() && pool_sum_ > capacity_; ++b) {
        if (!refill(b, false, budget)) return {};
        improved |= last_improved_;
      }
      if (improved) continue;
      // Plateau pass: candidates in random order, equal-load equal-count refills accepted.
      sideways_ = true;
      for (std::size_t b = 0; b < bins_.size() && pool_sum_ > capacity_; ++b)
        if (!refill(b, false, budget)) return {};
      sideways_ = false;
      if (!perturb(budget)) return {};
    }
    bin_list out;
    for (auto& bin : bins_)
      if (!bin.empty()) out.push_back(bin);
    if (!pool_.empty()) out.push_back(pool_);
    return out;
  }

 private:
  std::uint64_t load_of(const std::vector<index_type>& bin) const {
    std::uint64_t l = 0;
    for (index_type i : bin) l += sizes_[i];
    return l;
  }

  /// Best fill of bin b from its items plus the pool. Applies it when it is better (fuller, or as
  /// full with fewer items) or when `force`. False once the budget is spent.
  bool refill(std::size_t b, bool force, primal_budget& budget) {
    last_improved_ = false;
    cand_.clear();
    cand_.insert(cand_.end(), bins_[b].begin(), bins_[b].end());
    cand_.insert(cand_.end(), pool_.begin(), pool_.end());
    // Ascending sizes for the DP; reconstruction from the largest prefers large items in the bin.
    if (sideways_)
      gen_.shuffle(std::span<index_type>(cand_));
    else
      std::sort(cand_.begin(), cand_.end(),
                [&](index_type x, index_type y) { return sizes_[x] != sizes_[y] ? sizes_[x] < sizes_[y] : x < y; });
    const std::size_t k = cand_.size();
    const std::size_t words = static_cast<std::size_t>(capacity_ / 64 + 1);
    std::vector<index_type>& bin = bin_buf_;
    std::vector<index_type>& rest = rest_buf_;
    bin.clear();
    rest.clear();
    std::uint64_t best = 0;
    if (k <= 20 && (std::uint64_t{1} << k) < static_cast<std::uint64_t>(k) * words) {
      // Few candidates, large capacity: enumerate the subsets in Gray-code order (one item in or
      // out per step); the fullest fill, then the one with fewer items, then the first found.
      if (!budget.spend((std::uint64_t{1} << k) / 4 + 1)) return false;
      std::uint64_t sum = 0, best_mask = 0, mask = 0;
      std::size_t count = 0, best_count = 0;
      for (std::uint64_t g = 1; g < (std::uint64_t{1} << k); ++g) {
        const auto j = static_cast<std::size_t>(std::countr_zero(g));
        const std::uint64_t bit = std::uint64_t{1} << j;
        mask ^= bit;
        if (mask & bit)
          sum += sizes_[cand_[j]], ++count;
        else
          sum -= sizes_[cand_[j]], --count;
        if (sum <= capacity_ && (sum > best || (sum == best && count < best_count)))
          best = sum, best_mask = mask, best_count = count;
      }
      for (std::size_t j = k; j-- > 0;) ((best_mask >> j) & 1U ? bin : rest).push_back(cand_[j]);
    } else {
      if (!budget.spend(static_cast<std::uint64_t>(k) * words + 1)) return false;
      reach_.assign((k + 1) * words, 0);
      reach_[0] = 1;  // sum 0 reachable
      for (std::size_t j = 0; j < k; ++j) {
        const std::uint64_t* prev = reach_.data() + j * words;
        std::uint64_t* next = reach_.data() + (j + 1) * words;
        const std::size_t s = static_cast<std::size_t>(sizes_[cand_[j]]);
        const std::size_t shift_words = s / 64, shift_bits = s % 64;
        // next = prev | (prev << s), word by word (no separate copy: small capacities are mostly
        // per-item overhead).
        for (std::size_t w = 0; w < shift_words && w < words; ++w) next[w] = prev[w];
        for (std::size_t w = shift_words; w < words; ++w) {
          std::uint64_t v = prev[w - shift_words] << shift_bits;
          if (shift_bits != 0 && w - shift_words >= 1) v |= prev[w - shift_words - 1] >> (64 - shift_bits);
          next[w] = prev[w] | v;
        }
      }
      // Largest reachable sum <= C.
      const std::uint64_t* last = reach_.data() + k * words;
      std::size_t top = static_cast<std::size_t>(capacity_);
      while (!((last[top / 64] >> (top % 64)) & 1U)) --top;
      best = top;
      // Reconstruct preferring large items.
      std::size_t c = top;
      for (std::size_t j = k; j-- > 0;) {
        const std::size_t s = static_cast<std::size_t>(sizes_[cand_[j]]);
        const std::uint64_t* prev = reach_.data() + j * words;
        if (s <= c && ((prev[(c - s) / 64] >> ((c - s) % 64)) & 1U))
          bin.push_back(cand_[j]), c -= s;
        else
          rest.push_back(cand_[j]);
      }
    }
    const std::uint64_t new_load = best;
    const bool better = new_load > load_[b] || (new_load == load_[b] && bin.size() < bins_[b].size());
    const bool sideways = sideways_ && new_load == load_[b] && bin.size() == bins_[b].size();
    if (!better && !force && !sideways) return true;
    last_improved_ = better;
    bins_[b].swap(bin);
    load_[b] = new_load;
    pool_.swap(rest);
    pool_sum_ = load_of(pool_);
    return true;
  }

  /// Diversification: re-optimise two random bins together with the pool, or kick items to the pool.
  bool perturb(primal_budget& budget) {
    const std::size_t nb = bins_.size();
    if (nb == 0) return false;
    if (nb >= 2 && gen_.below(2) == 0) {
      const std::size_t a = static_cast<std::size_t>(gen_.below(nb));
      std::size_t b = static_cast<std::size_t>(gen_.below(nb - 1));
      if (b >= a) ++b;
      // Bin b's items join the pool; bin a is refilled from a + pool; then b from the pool.
      for (index_type i : bins_[b]) pool_.push_back(i);
      bins_[b].clear();
      load_[b] = 0;
      if (!refill(a, true, budget)) return false;
      return refill(b, true, budget);
    }
    // Kick: a random bin gives up a random item (bins with one item are left alone).
    const std::size_t a = static_cast<std::size_t>(gen_.below(nb));
    if (bins_[a].size() < 2) return budget.spend(1);
    const std::size_t pos = static_cast<std::size_t>(gen_.below(bins_[a].size()));
    const index_type item = bins_[a][pos];
    bins_[a].erase(bins_[a].begin() + static_cast<std::ptrdiff_t>(pos));
    load_[a] -= sizes_[item];
    pool_.push_back(item);
    pool_sum_ += sizes_[item];
    return budget.spend(1);
  }

  std::span<const std::uint64_t> sizes_;
  std::uint64_t capacity_;
  rng gen_;
  bin_list bins_;
  std::vector<std::uint64_t> load_;
  std::vector<index_type> pool_;
  std::uint64_t pool_sum_ = 0;
  std::vector<index_type> cand_, bin_buf_, rest_buf_;
  std::vector<std::uint64_t> reach_;
  bool last_improved_ = false;
  bool sideways_ = false;
};
using pool_search = basic_pool_search<>;

}  // namespace fulcrum::detail::exact
