// SPDX-License-Identifier: Apache-2.0
/// @file balance/detail/complete_search.hpp
/// Internals of `complete_balance` (balance/complete.hpp): the branch-and-bound engine.
///
/// Items are sorted by cost descending (ties: lower index first) and assigned one at a time by an
/// iterative depth-first search (no recursion, so n is bounded by memory, not by the stack).
/// At each depth the candidate parts are tried in increasing (load, count) order, so the first
/// leaf is the LPT plan; parts with the same (load, count) as one already tried at that depth are
/// skipped (they lead to symmetric sub-trees; without exact sums only parts of load 0 are).
/// Pruning, with `limit` the largest load a strictly better plan may have (best - 1 for integral
/// costs, the next double below best otherwise, capped by the part capacity, and grown by the
/// rounding margin of detail/sums.hpp unless sums are exact); a leaf is accepted only if its
/// index-order makespan is within the (ungrown) target:
///  - a part whose load + item exceeds `limit` is skipped, and so are all heavier ones;
///  - wasted space: a part whose slack (limit - load) is below the smallest remaining item, or that
///    is full (equal_counts), can never receive another item; if the slack of the other parts
///    cannot hold the remaining sum, or no part can hold the next item, the node is cut.
/// The search stops as soon as a plan reaches the lower bound, when the tree is exhausted
/// (the incumbent is optimal) or when the node/time limit hits (anytime: the incumbent is returned).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "fulcrum/balance/detail/sums.hpp"
#include "fulcrum/core/detail/chrono.hpp"
#include "fulcrum/core/options.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum::detail {

/// The search's view of the instance. Every decision follows the arithmetic rule of
/// detail/sums.hpp: a plan is accepted (as feasible, as better than the incumbent, as meeting the
/// bound) only on its loads summed in item index order (`index_makespan`). The search itself sums
/// in placement (cost-descending) order; when sums are not exact it prunes against limits grown
/// by the rounding margin, so it never cuts a plan that the rule accepts.
struct complete_problem {
  std::vector<cost_t> cost;       ///< sorted descending
  std::vector<index_type> item;   ///< item[i] = input index of the i-th sorted item
  std::span<const cost_t> input;  ///< costs in input order
  std::size_t k = 1;
  bool integral = false;
  bool exact = false;  ///< every sum exact (detail::sums_are_exact): orders agree
  bool equal_counts = false;
  std::size_t count_floor = 0;  ///< every part holds at least this many items (equal_counts)
  std::size_t count_ceil = 0;   ///< and at most this many
  std::size_t ceil_parts = 0;   ///< exactly this many parts hold count_ceil items (when ceil > floor)
  cost_t capacity = std::numeric_limits<cost_t>::infinity();
  cost_t lower_bound = 0;  ///< stop as soon as a plan reaches it
  search_limits limits{};

  /// Makespan of a plan (part of each sorted item) under the rule: loads summed in input index
  /// order. O(n + k).
  [[nodiscard]] cost_t index_makespan(const std::vector<index_type>& part_of_sorted) const {
    std::vector<index_type> part_of(part_of_sorted.size());
    for (std::size_t i = 0; i < part_of.size(); ++i) part_of[item[i]] = part_of_sorted[i];
    std::vector<cost_t> loads(k, 0.0);
    part_loads(input, part_of, loads);
    return max_load(loads);
  }
  /// Largest makespan allowed for a plan strictly better than `best` (infinity: none yet) and
  /// within the capacity, under the rule.
  [[nodiscard]] cost_t target_below(cost_t best) const {
    cost_t lim = capacity;
    if (best < std::numeric_limits<cost_t>::infinity())
      lim = std::min(lim, integral ? best - 1 : std::nextafter(best, cost_t{0}));
    return lim;
  }
  /// The pruning limit for a target: the target itself when sums are exact, else grown by the
  /// rounding margin.
  [[nodiscard]] cost_t prune_limit(cost_t target) const {
    return exact ? target : grow_for_rounding(target, cost.size());
  }
};

struct complete_outcome {
  std::vector<index_type> part_of_sorted;  ///< part of the i-th item in sorted order; empty if none found
  cost_t makespan = std::numeric_limits<cost_t>::infinity();
  bool exhausted = false;      ///< the whole tree was searched: the incumbent is optimal (or none exists)
  bool reached_bound = false;  ///< stopped because the incumbent meets the lower bound
  std::uint64_t nodes = 0;
  cost_t proven_lower_bound = 0;  ///< a lower bound proved by the search (0: none beyond the static one)
};

template <class = void>
class basic_complete_search {
 public:
  explicit basic_complete_search(const complete_problem& p) : p_(p) {}

  /// Runs the search from an incumbent (may be empty = none) with the given makespan.
  complete_outcome run(std::vector<index_type> incumbent, cost_t incumbent_makespan) {
    const std::size_t n = p_.cost.size(), k = p_.k;
    complete_outcome out;
    out.part_of_sorted = std::move(incumbent);
    out.makespan = out.part_of_sorted.empty() ? std::numeric_limits<cost_t>::infinity() : incumbent_makespan;
    if (meets_bound(out.makespan)) {
      out.reached_bound = true;
      return out;
    }
    suffix_.assign(n + 1, 0);
    for (std::size_t i = n; i-- > 0;) suffix_[i] = suffix_[i + 1] + p_.cost[i];
    load_.assign(k, 0);
    count_.assign(k, 0);
    ceil_used_ = 0;
    std::vector<index_type> chosen(n, none);
    std::vector<cost_t> saved_load(n, 0);
    limit_ = limit_below(out.makespan);
    const auto start = std::chrono::steady_clock::now();
    const bool timed = p_.limits.time != std::chrono::milliseconds::max();

    std::size_t d = 0;
    // At depth d (< n) chosen[d] is the part item d currently sits on, or `none` when d has just
    // been entered. Backtracking restores the saved load exactly (no floating-point drift).
    while (true) {
      if (d == n) {
        const cost_t mk = p_.index_makespan(chosen);
        if (mk <= target_) {
          out.makespan = mk;
          out.part_of_sorted.assign(chosen.begin(), chosen.end());
          limit_ = limit_below(mk);
          if (meets_bound(mk)) {
            out.reached_bound = true;
            break;
          }
        }
        if (n == 0) {
          out.exhausted = true;
          break;
        }
        d = n - 1;
        continue;  // resume at the last item with its next candidate
      }
      const cost_t c = p_.cost[d];
      // Key of the part tried last at this depth (undo it first).
      bool has_prev = false;
      cost_t prev_load = 0;
      std::size_t prev_count = 0, prev_tie = 0;
      if (chosen[d] != none) {
        const index_type q = chosen[d];
        load_[q] = saved_load[d];
        uncount(q);
        has_prev = true;
        prev_load = load_[q];
        prev_count = count_key(q);
        prev_tie = tie_key(q);
      }
      // Next candidate: the smallest (load, count, tie) with (load, count, tie) > prev, that fits.
      // With exact sums parts of equal (load, count) are interchangeable (tie = 0 for all); else
      // only parts of load 0 are (their sums restart exactly), others are told apart by index.
      index_type next = none;
      std::size_t next_tie = 0;
      for (std::size_t j = 0; j < k; ++j) {
        if (!can_take(j)) continue;
        const cost_t l = load_[j];
        const std::size_t cnt = count_key(j);
        const std::size_t tie = tie_key(j);
        if (has_prev &&
            (l < prev_load || (l == prev_load && (cnt < prev_count || (cnt == prev_count && tie <= prev_tie)))))
          continue;
        if (next == none || l < load_[next] ||
            (l == load_[next] && (cnt < count_key(next) || (cnt == count_key(next) && tie < next_tie)))) {
          next = static_cast<index_type>(j);
          next_tie = tie;
        }
      }
      if (next != none && !(load_[next] + c <= limit_)) next = none;  // heavier parts do not fit either
      if (next == none) {
        chosen[d] = none;
        if (d == 0) {
          out.exhausted = true;
          break;
        }
        --d;
        continue;
      }
      chosen[d] = next;
      saved_load[d] = load_[next];
      load_[next] += c;
      place(next);
      ++out.nodes;
      if (out.nodes >= p_.limits.nodes) break;
      if (timed && (out.nodes & 1023u) == 0 && std::chrono::steady_clock::now() - start >= p_.limits.time) break;
      if (d + 1 < n && !promising(d + 1)) continue;  // try the next candidate at this depth
      ++d;
      if (d < n) chosen[d] = none;
    }
    return out;
  }

 private:
  static constexpr index_type none = std::numeric_limits<index_type>::max();

  [[nodiscard]] bool meets_bound(cost_t mk) const {
    return mk < std::numeric_limits<cost_t>::infinity() && mk <= p_.lower_bound;
  }
  /// Sets the target (largest makespan of a plan strictly better than `best`, within capacity)
  /// and returns the pruning limit for it.
  cost_t limit_below(cost_t best) {
    target_ = p_.target_below(best);
    return p_.prune_limit(target_);
  }
  [[nodiscard]] std::size_t tie_key(std::size_t j) const {
    if (p_.exact || load_[j] == 0) return 0;
    return j + 1;
  }
  [[nodiscard]] std::size_t count_key(std::size_t j) const { return p_.equal_counts ? count_[j] : 0; }
  [[nodiscard]] bool can_take(std::size_t j) const {
    if (!p_.equal_counts) return true;
    if (count_[j] < p_.count_floor) return true;
    if (count_[j] >= p_.count_ceil) return false;
    return ceil_used_ < p_.ceil_parts;  // going from floor to ceil uses one of the ceil slots
  }
  void place(std::size_t j) {
    ++count_[j];
    if (p_.equal_counts && p_.count_ceil > p_.count_floor && count_[j] == p_.count_ceil) ++ceil_used_;
  }
  void uncount(std::size_t j) {
    if (p_.equal_counts && p_.count_ceil > p_.count_floor && count_[j] == p_.count_ceil) --ceil_used_;
    --count_[j];
  }
  /// Wasted-space bound for the items d..n-1 still to place.
  [[nodiscard]] bool promising(std::size_t d) const {
    const cost_t smallest = p_.cost.back();
    const cost_t next = p_.cost[d];
    cost_t live = 0;
    bool next_fits = false;
    for (std::size_t j = 0; j < p_.k; ++j) {
      if (!can_take(j)) continue;
      const cost_t slack = limit_ - load_[j];
      if (slack < smallest) continue;
      live += slack;
      if (slack >= next) next_fits = true;
    }
    if (!next_fits) return false;
    const cost_t need = suffix_[d];
    if (p_.exact) return live >= need;
    // Sums in placement order differ from the rule's by rounding: prune only with a margin
    // (relative to everything summed) that never cuts a feasible branch.
    const cost_t margin = 4 * rounding_margin(p_.cost.size()) * (static_cast<cost_t>(p_.k) * limit_ + need);
    return live + margin >= need;
  }

  const complete_problem& p_;
  std::vector<cost_t> suffix_, load_;
  std::vector<std::size_t> count_;
  std::size_t ceil_used_ = 0;
  cost_t limit_ = 0;   ///< pruning limit (target_ grown by the rounding margin)
  cost_t target_ = 0;  ///< largest index-order makespan accepted
};
using complete_search = basic_complete_search<>;

}  // namespace fulcrum::detail
