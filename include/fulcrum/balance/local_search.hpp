// SPDX-License-Identifier: Apache-2.0
/// @file balance/local_search.hpp
/// Local search for k-way balancing: moves and swaps between the heaviest part and lighter parts
/// until the heaviest part cannot be improved.
///
/// What: repeat { H = heaviest part (ties: lower index); for partners P from the lightest up
/// (ties: lower index), take the best of (a) moving one item a from H to P and (b) swapping a in
/// H with b in P, where "best" minimises the new max(load H, load P) and is accepted only if that
/// max is below load H (by a relative 1e-12 margin); apply the first partner's best step } until
/// no partner helps H or `max_steps` steps were taken. Best move: the item closest to half the
/// gap (binary search in H's items sorted by cost); best swap: for every a in H, the b in P
/// closest to cost(a) - gap/2 (P's items sorted by cost: one binary search for H's most expensive
/// item, then a walk down P as a gets cheaper).
/// With `keep_counts`, moves are only allowed from a part holding one item more than its
/// partner, so item counts per part never change (equal_counts stays satisfied); swaps always are.
///
/// Complexity: O(n log n) setup; per step O(k) to find H and the lightest part, O(|H| + |P| + log |P|)
/// per partner tried (usually one; at most k - 1, then sorted in O(k log k)), O(|H| + |P|) to
/// apply. Memory O(n + k).
/// Guarantee: the makespan never increases; at a local optimum no single move or swap involving
/// the heaviest part lowers it. Starting from LPT (the default), the LPT bound 4/3 - 1/(3k) holds.
/// Deterministic: loads are recomputed from the parts' item sets in a fixed order after each
/// step (no drift), candidates are scanned in a fixed order (H's items from the most expensive
/// down, ties to the first found).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <ranges>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/balance/detail/bounds.hpp"
#include "fulcrum/balance/detail/order.hpp"
#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/balance/partition.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/detail/scratch.hpp"

namespace fulcrum {

struct local_search_options {
  /// Improving steps at most (deterministic budget; each step lowers max(load H, load P)).
  std::uint64_t max_steps = 1'000'000;
  /// Partners tried per step at most, lightest first (k - 1 = all).
  std::size_t max_partners = std::numeric_limits<std::size_t>::max();
  /// Keep each part's item count (only swaps, and moves from a part with one more item).
  bool keep_counts = false;
};

namespace detail {

template <class = void>
class basic_local_search_engine {
 public:
  /// `order`: all items by cost descending, ties by index (detail::radix_order_descending).
  /// `sums_exact`: sums_are_exact(costs) (detail/sums.hpp); a step then updates the two loads by
  /// the costs it moves instead of summing both parts again (the same bits: every sum is exact).
  basic_local_search_engine(std::span<const cost_t> costs, std::size_t k, std::span<const index_type> part_of,
                            std::span<const index_type> order, bool sums_exact = false)
      : parts_(k), loads_(k, 0.0), sums_exact_(sums_exact) {
    scratch_vector<std::size_t> counts(k, 0);
    for (index_type p : part_of) ++counts[p];
    // Each part sized first and filled through a cursor (no capacity check and size update per item).
    scratch_vector<item*> cursor(k);
    for (std::size_t p = 0; p < k; ++p) {
      parts_[p].reserve(counts[p] + 1);
      parts_[p].resize(counts[p]);
      cursor[p] = parts_[p].data();
    }
    // Reverse cost order: each part's items come out sorted by (cost asc, index desc).
    for (std::size_t j = order.size(); j-- > 0;) {
      if (j >= prefetch_distance) {  // scattered reads: fetched ahead (no effect on the result)
        FULCRUM_PREFETCH(&costs[order[j - prefetch_distance]]);
        FULCRUM_PREFETCH(&part_of[order[j - prefetch_distance]]);
      }
      const index_type i = order[j];
      *cursor[part_of[i]]++ = {costs[i], i, static_cast<std::uint32_t>(j)};
    }
    for (std::size_t p = 0; p < k; ++p) recompute(p);
  }
  basic_local_search_engine(std::span<const cost_t> costs, std::size_t k, std::span<const index_type> part_of)
      : basic_local_search_engine(costs, k, part_of, radix_order_descending(costs)) {}

  /// Runs the search; returns the number of improving steps taken.
  std::uint64_t run(const local_search_options& opts) {
    const std::size_t k = parts_.size();
    std::uint64_t steps = 0;
    scratch_vector<index_type> partners;
    while (steps < opts.max_steps && k > 1) {
      std::size_t h = 0, light = 0;
      for (std::size_t p = 1; p < k; ++p) {
        if (loads_[p] > loads_[h]) h = p;
        if (loads_[p] < loads_[light]) light = p;
      }
      const cost_t top = loads_[h];
      if (!(loads_[light] < top)) break;
      bool improved = try_pair(h, light, opts.keep_counts);
      if (!improved && opts.max_partners > 1) {
        partners.clear();
        for (std::size_t p = 0; p < k; ++p)
          if (p != h && p != light && loads_[p] < top) partners.push_back(static_cast<index_type>(p));
        std::sort(partners.begin(), partners.end(),
                  [&](index_type a, index_type b) { return loads_[a] < loads_[b] || (loads_[a] == loads_[b] && a < b); });
        const std::size_t limit = std::min(partners.size(), opts.max_partners - 1);
        for (std::size_t j = 0; j < limit && !improved; ++j) improved = try_pair(h, partners[j], opts.keep_counts);
      }
      if (!improved) break;
      ++steps;
    }
    return steps;
  }

  /// Hands over every part's items by (cost desc, index asc), rank ascending; the engine is
  /// left empty.
  [[nodiscard]] scratch_vector<scratch_vector<ranked_item>> release_parts_by_cost() {
    for (auto& part : parts_) std::reverse(part.begin(), part.end());
    return std::move(parts_);
  }

  /// The largest part load (each summed in the part's cost order; when sums are exact, the
  /// index-order loads' bits).
  [[nodiscard]] cost_t makespan() const { return max_load(loads_); }

  /// Writes the current assignment.
  void assignment(std::span<index_type> part_of) const {
    for (std::size_t p = 0; p < parts_.size(); ++p)
      for (const item& it : parts_[p]) part_of[it.index] = static_cast<index_type>(p);
  }

 private:
  using item = ranked_item;  // rank: position in the engine's `order`
  // Items inside a part: cost ascending, ties by index descending (the reverse of the global order).
  static bool cheaper(const item& a, const item& b) { return a.cost < b.cost || (a.cost == b.cost && a.index > b.index); }

  // A part's load as a function of its item set: summed in the part's (cost, index) order.
  void recompute(std::size_t p) {
    cost_t sum = 0;
    for (const item& it : parts_[p]) sum += it.cost;
    loads_[p] = sum;
  }

  // Position of the first item in `part` whose cost is >= value.
  static std::size_t lower(const scratch_vector<item>& part, cost_t value) {
    return static_cast<std::size_t>(
        std::lower_bound(part.begin(), part.end(), value, [](const item& it, cost_t v) { return it.cost < v; }) - part.begin());
  }

  // Best move or swap between heaviest h and partner p; applies it and returns true if it lowers
  // max(load h, load p) below load h.
  bool try_pair(std::size_t h, std::size_t p, bool keep_counts) {
    const cost_t top = loads_[h];
    const cost_t gap = top - loads_[p];
    if (!(gap > 0)) return false;
    const cost_t limit = top - detail::mul(1e-12, top);  // a step must beat this new pair max (mul: never contracted)
    const cost_t half = gap / 2;
    const auto& hs = parts_[h];
    const auto& ps = parts_[p];
    cost_t best = limit;
    std::size_t best_a = hs.size(), best_b = ps.size();  // best_b == ps.size(): a move
    const auto consider = [&](std::size_t ia, std::size_t ib, cost_t delta) {
      if (!(delta > 0) || !(delta < gap)) return;
      const cost_t pair_max = std::max(top - delta, loads_[p] + delta);
      if (pair_max < best) best = pair_max, best_a = ia, best_b = ib;
    };
    const bool can_move = !keep_counts || hs.size() == ps.size() + 1;
    if (can_move && !hs.empty()) {
      const std::size_t at = lower(hs, half);
      if (at < hs.size()) consider(at, ps.size(), hs[at].cost);
      if (at > 0) consider(at - 1, ps.size(), hs[at - 1].cost);
    }
    if (!ps.empty()) {
      const cost_t cheapest = ps.front().cost;
      // lower(ps, ca - half) only falls as ca falls: one binary search, then a walk down.
      std::size_t at = ps.size();
      bool searched = false;
      for (std::size_t ia = hs.size(); ia-- > 0;) {
        const cost_t ca = hs[ia].cost;
        if (ca <= cheapest) break;  // no b is cheaper than this a (nor than any cheaper a)
        const cost_t target = ca - half;
        if (!searched) {
          at = lower(ps, target);
          searched = true;
        } else {
          while (at > 0 && !(ps[at - 1].cost < target)) --at;
        }
        if (at < ps.size()) consider(ia, at, ca - ps[at].cost);
        if (at > 0) consider(ia, at - 1, ca - ps[at - 1].cost);
      }
    }
    if (best_a == hs.size()) return false;
    const item a = hs[best_a];
    // The cost that leaves h for p (the move's or the swap's difference, as `consider` saw it).
    cost_t delta = a.cost;
    if (best_b == ps.size()) {
      erase_at(h, best_a);
      insert(p, a);
    } else {
      const item b = ps[best_b];
      delta = a.cost - b.cost;
      erase_at(h, best_a);
      erase_at(p, best_b);
      insert(h, b);
      insert(p, a);
    }
    if (sums_exact_) {  // exact: the same bits as summing the parts again
      loads_[h] -= delta;
      loads_[p] += delta;
    } else {
      recompute(h);
      recompute(p);
    }
    return true;
  }

  void erase_at(std::size_t p, std::size_t at) { parts_[p].erase(parts_[p].begin() + static_cast<std::ptrdiff_t>(at)); }
  void insert(std::size_t p, const item& it) {
    auto& part = parts_[p];
    part.insert(std::upper_bound(part.begin(), part.end(), it, cheaper), it);
  }

  scratch_vector<scratch_vector<item>> parts_;
  scratch_vector<cost_t> loads_;
  bool sums_exact_ = false;
};
using local_search_engine = basic_local_search_engine<>;

}  // namespace detail

/// Improves an assignment in place (part_of[i] < k for every item). Returns the number of
/// improving steps. Throws invalid_input on k = 0, bad costs or an out-of-range part.
template <class = void>
inline std::uint64_t local_search_improve(std::span<const cost_t> costs, std::size_t k, std::span<index_type> part_of,
                                          const local_search_options& opts = {}) {
  detail::require_parts("local_search", k, costs.size());
  detail::require_costs("local_search", costs);
  if (part_of.size() != costs.size())
    throw invalid_input(detail::describe("local_search", "part_of.size()", part_of.size(), "must equal the number of costs"));
  for (std::size_t i = 0; i < part_of.size(); ++i)
    if (part_of[i] >= k) throw invalid_input(detail::describe("local_search", "part_of", i, part_of[i], "is not below k"));
  detail::local_search_engine engine(costs, k, part_of);
  const auto steps = engine.run(opts);
  engine.assignment(part_of);
  return steps;
}

/// LPT followed by local search, on precomputed costs.
template <class = void>
[[nodiscard]] inline partition local_search(std::span<const cost_t> costs, std::size_t k, const local_search_options& opts = {}) {
  auto part_of = lpt_assign(costs, k);
  local_search_improve(costs, k, part_of, opts);
  return detail::make_partition(part_of, costs, k, detail::balance_lower_bound(costs, k, false));
}

/// LPT followed by local search, on any random-access range priced by `cost(proj(item))`.
template <std::ranges::random_access_range R, class Cost = identity_cost, class Proj = std::identity>
  requires cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] partition local_search(R&& items, std::size_t k, Cost cost = {}, Proj proj = {}, const local_search_options& opts = {}) {
  detail::require_parts("local_search", k, static_cast<std::size_t>(std::ranges::size(items)));
  const auto costs = evaluate_costs(items, cost, proj, "local_search");
  return local_search(std::span<const cost_t>(costs), k, opts);
}

/// The same in the library's argument order (items, k, options, cost, proj), as balance().
template <std::ranges::random_access_range R, class Cost = identity_cost, class Proj = std::identity>
  requires cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] partition local_search(R&& items, std::size_t k, const local_search_options& opts, Cost cost = {},
                                     Proj proj = {}) {
  return local_search(std::forward<R>(items), k, std::move(cost), std::move(proj), opts);
}

}  // namespace fulcrum
