// SPDX-License-Identifier: Apache-2.0
/// @file balance/lpt.hpp
/// Greedy LPT (longest processing time first) balancing of n items onto k parts.
///
/// What: sort items by cost, largest first (ties: lower index first); give each to the currently
/// lightest part (ties: lower part index).
/// Complexity: O(n log n + n log k) time, O(n + k) memory.
/// Guarantee: makespan <= (4/3 - 1/(3k)) * OPT (Graham 1969). Deterministic on every platform.
/// Implementation: the order comes from an O(n) radix sort on the cost bits
/// (detail/order.hpp), the lightest part from a tournament tree of (load, part) pairs
/// (detail::lightest_part_tree: one branch-free leaf-to-root replay per item), so the cost is
/// dominated by n * log2(k) comparisons. The equal-counts variant uses the same tree, with full
/// parts as +infinity leaves.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <limits>
#include <numeric>
#include <queue>
#include <ranges>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/balance/detail/order.hpp"
#include "fulcrum/balance/detail/sums.hpp"
#include "fulcrum/balance/partition.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/detail/scratch.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum {

namespace detail {
/// Item indices ordered by cost descending, ties by index ascending.
template <class = void>
inline std::vector<index_type> order_by_cost_descending(std::span<const cost_t> costs) {
  std::vector<index_type> order(costs.size());
  std::iota(order.begin(), order.end(), index_type{0});
  std::stable_sort(order.begin(), order.end(), [&](index_type a, index_type b) { return costs[a] > costs[b]; });
  return order;
}

/// 1 <= k <= max_parts, n within index_type (core/validate.hpp).
template <class = void>
inline void require_parts(std::string_view where, std::size_t k, std::size_t n) {
  validate_parts(where, "k", k, n);
}
}  // namespace detail

namespace detail {
/// A tournament tree over k (load, part) leaves, padded to a power of two with +infinity: the
/// root holds the lightest part (ties: lower part index). Nodes hold the winning (load, part)
/// pair itself, so replaying a leaf-to-root path is log2(k) branch-free comparisons with no
/// indirection.
template <class = void>
class basic_lightest_part_tree {
 public:
  explicit basic_lightest_part_tree(std::span<const cost_t> loads) : k_(loads.size()) {
    while (leaves_ < k_) leaves_ *= 2;
    node_.assign(2 * leaves_, {std::numeric_limits<cost_t>::infinity(), 0});
    for (std::size_t i = 0; i < leaves_; ++i)
      node_[leaves_ + i] = {i < k_ ? loads[i] : std::numeric_limits<cost_t>::infinity(), static_cast<index_type>(i)};
    rebuild();
  }
  /// The lightest part (ties: lower index).
  [[nodiscard]] index_type top() const { return node_[1].part; }
  /// Part p's current value.
  [[nodiscard]] cost_t value(std::size_t p) const { return node_[leaves_ + p].value; }
  /// Sets part p's value and replays its path.
  /// The winner climbing the path is kept in registers: each level reads only the sibling (no
  /// wait on the store of the level below) and picks the smaller value, ties to the lower part
  /// (the left subtree's parts are the lower ones, so this is `winner`'s choice).
  /// Returns the new top (the last winner computed, without reading the root back).
  index_type set(std::size_t p, cost_t v) {
    std::size_t i = leaves_ + p;
    node_[i].value = v;
    cost_t value = v;
    index_type part = node_[i].part;
    for (; i > 1; i /= 2) {
      const entry sibling = node_[i ^ 1];
      // Masks, not branches (the comparisons are coin flips to a predictor). On a tie the left
      // child wins (its parts are the lower ones): known from the position, so the choice waits
      // on the values only.
      const auto keep = static_cast<index_type>(static_cast<unsigned>(value < sibling.value) |
                                                (static_cast<unsigned>(value == sibling.value) &
                                                 static_cast<unsigned>((i & 1) == 0)));
      const index_type mask = index_type{0} - keep;
      part = (part & mask) | (sibling.part & ~mask);
      value = sibling.value < value ? sibling.value : value;  // the kept one's (equal on a tie)
      node_[i / 2] = {value, part};
    }
    return part;
  }
  /// Sets part p's value without replaying (call rebuild() after a batch).
  void set_only(std::size_t p, cost_t v) { node_[leaves_ + p].value = v; }
  void rebuild() {
    for (std::size_t i = leaves_; i-- > 1;) node_[i] = winner(node_[2 * i], node_[2 * i + 1]);
  }

 private:
  struct entry {
    cost_t value;
    index_type part;
  };
  // a is the left subtree (lower parts), so ties go to a.
  static entry winner(const entry& a, const entry& b) { return b.value < a.value ? b : a; }
  std::size_t k_, leaves_ = 1;
  scratch_vector<entry> node_;
};
using lightest_part_tree = basic_lightest_part_tree<>;

/// LPT over items taken in `order`, into parts with the given starting loads. Writes part_of for
/// the items in `order` and updates `loads`. The lightest part comes from a tournament tree over
/// (load, part) pairs (lightest_part_tree; ties to the lower part index): replacing the winner
/// replays one leaf-to-root path of log2(k) branch-free comparisons. O(|order| log k).
template <class = void>
inline void lpt_into(std::span<const cost_t> costs, std::span<const index_type> order, std::span<cost_t> loads,
                     std::span<index_type> part_of) {
  lightest_part_tree tree(loads);
  const std::size_t n = order.size();
  index_type top = tree.top();
  for (std::size_t j = 0; j < n; ++j) {
    if (j + prefetch_distance < n) {  // as in lpt_equal_counts_into
      FULCRUM_PREFETCH(&costs[order[j + prefetch_distance]]);
      FULCRUM_PREFETCH(&part_of[order[j + prefetch_distance]]);
    }
    const index_type item = order[j];
    const index_type part = top;
    part_of[item] = part;
    top = tree.set(part, tree.value(part) + costs[item]);
  }
  for (std::size_t p = 0; p < loads.size(); ++p) loads[p] = tree.value(p);
}

/// LPT restricted to parts with room: every part ends with floor(n/k) or ceil(n/k) items
/// (n = |order|). A part is open while it holds fewer than floor(n/k) items, or exactly that many
/// and fewer than n mod k parts already hold the extra item. Each item goes to the lightest open
/// part (ties: lower index), found with the tournament tree of lpt_into; a part that fills up
/// leaves it as a +infinity leaf (loads are finite), and when the last extra item is placed the
/// parts at floor(n/k) leave together (one O(k) rebuild). O(|order| log k + k).
template <class = void>
inline void lpt_equal_counts_into(std::span<const cost_t> costs, std::span<const index_type> order,
                                  std::span<cost_t> loads, std::span<index_type> part_of) {
  const std::size_t k = loads.size(), n = order.size();
  const std::size_t f = n / k, r = n % k;
  constexpr cost_t closed = std::numeric_limits<cost_t>::infinity();
  if (f == 0 && r == 0) return;  // no items
  lightest_part_tree tree(loads);
  scratch_vector<std::size_t> count(k, 0);
  std::size_t ceil_used = 0;
  index_type top = tree.top();
  for (std::size_t j = 0; j < n; ++j) {
    // The costs and assignments of items in cost order are scattered over memory: fetch a few
    // items ahead (the tree's chain leaves the loop too few instructions to find them itself).
    if (j + prefetch_distance < n) {
      FULCRUM_PREFETCH(&costs[order[j + prefetch_distance]]);
      FULCRUM_PREFETCH(&part_of[order[j + prefetch_distance]]);
    }
    const index_type item = order[j];
    const index_type part = top;
    part_of[item] = part;
    loads[part] += costs[item];
    const std::size_t c = ++count[part];
    if (c > f) ++ceil_used;
    if (c > f && ceil_used == r && r > 0) {  // the last extra item: parts at floor(n/k) close
      tree.set_only(part, closed);
      for (std::size_t p = 0; p < k; ++p)
        if (count[p] == f) tree.set_only(p, closed);
      tree.rebuild();
      top = tree.top();
      continue;
    }
    top = tree.set(part, (c > f || (c == f && ceil_used >= r)) ? closed : loads[part]);
  }
}

}  // namespace detail

/// LPT assignment on precomputed costs: result[i] = part of item i.
template <class = void>
[[nodiscard]] inline std::vector<index_type> lpt_assign(std::span<const cost_t> costs, std::size_t k) {
  detail::require_parts("lpt", k, costs.size());
  detail::require_costs("lpt", costs);
  std::vector<index_type> part_of(costs.size());
  std::vector<cost_t> loads(k, 0.0);
  const auto order = detail::radix_order_descending(costs);
  detail::lpt_into(costs, order, loads, part_of);
  return part_of;
}

/// LPT with equal item counts (floor(n/k) or ceil(n/k) items per part): result[i] = part of item i.
/// Largest item first to the lightest part that still has room. Same complexity as lpt_assign.
template <class = void>
[[nodiscard]] inline std::vector<index_type> lpt_assign_equal_counts(std::span<const cost_t> costs, std::size_t k) {
  detail::require_parts("lpt", k, costs.size());
  detail::require_costs("lpt", costs);
  std::vector<index_type> part_of(costs.size());
  std::vector<cost_t> loads(k, 0.0);
  const auto order = detail::radix_order_descending(costs);
  detail::lpt_equal_counts_into(costs, order, loads, part_of);
  return part_of;
}

/// LPT on precomputed costs, with loads, makespan and lower bound
/// (detail::sound_makespan_lower_bound: never above the optimum under the arithmetic rule of
/// docs/balance.md, so gap() >= 0, also for non-integer costs).
template <class = void>
[[nodiscard]] inline partition lpt(std::span<const cost_t> costs, std::size_t k) {
  const auto part_of = lpt_assign(costs, k);
  return detail::make_partition(part_of, costs, k, detail::sound_makespan_lower_bound(costs, k));
}

/// LPT on any random-access range of items, priced by `cost(proj(item))`.
template <std::ranges::random_access_range R, class Cost = identity_cost, class Proj = std::identity>
requires cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] partition lpt(R&& items, std::size_t k, Cost cost = {}, Proj proj = {}) {
  detail::require_parts("lpt", k, static_cast<std::size_t>(std::ranges::size(items)));
  const auto costs = evaluate_costs(items, cost, proj, "lpt");
  return lpt(std::span<const cost_t>(costs), k);
}

}  // namespace fulcrum
