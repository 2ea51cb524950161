// SPDX-License-Identifier: Apache-2.0
/// @file balance/detail/pair_resplit.hpp
/// Pairwise re-split: the last phase of balance()'s `automatic`. The heaviest part and one partner
/// (lightest first) pool their items and split them again with two-way largest differencing
/// (Karmarkar-Karp on two sets; under equal counts the pool is first paired, largest with next
/// largest, so each side keeps its count); the new split is kept when both new loads are below the
/// heaviest load. Single-item moves and swaps stop where no one item fits the gap; re-splitting
/// the whole pair reaches much closer (W1 65536 items onto 64 parts under 24576 L + L^2: from
/// 3.6e-7 above the bound to about 1e-9).
/// Each accepted step lowers the sorted vector of part loads, so the phase ends; it is bounded by
/// a step budget (O(log k) to find the pair, O(m log m) to re-split it). Loads are index-order sums (detail/sums.hpp)
/// throughout, so every decision is the one make_partition's loads confirm. When every sum of the
/// costs is exact (`sums_are_exact`: whole numbers below 2^53, ...) the order of summation does not
/// matter: the parts are then kept in cost order only and summed in that order, the same bits.
/// O(m log m) per try for m items in the pair.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/balance/detail/order.hpp"
#include "fulcrum/core/detail/scratch.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum::detail {

/// Merges the sorted ranges a[0, na) and b[0, nb) (ascending by `less`, no two elements equal
/// under it): the first ceil(m/2) elements of the merged order go to front(x) in order, the rest to
/// back(x) from the last backwards (m = na + nb). The two ends run interleaved in one loop: two
/// independent chains of load, compare and step, where one merge is a single chain (each step's
/// loads wait for the previous comparison). Branch-free while both ends have both inputs.
template <class T, class Less, class Front, class Back>
inline void merge_from_both_ends(const T* a, std::size_t na, const T* b, std::size_t nb, Less less, Front front,
                                 Back back) {
  const std::size_t m = na + nb, front_steps = (m + 1) / 2, back_steps = m / 2;
  std::size_t i = 0, j = 0, ia = na, jb = nb, s = 0;
  for (; s < back_steps; ++s) {
    if (i == na || j == nb || ia == 0 || jb == 0) break;
    const bool take_b = less(b[j], a[i]);
    front(*select_pointer(take_b, b + j, a + i));
    j += static_cast<std::size_t>(take_b);
    i += 1 - static_cast<std::size_t>(take_b);
    const bool take_a = less(b[jb - 1], a[ia - 1]);  // the back takes the larger
    back(*select_pointer(take_a, a + ia - 1, b + jb - 1));
    ia -= static_cast<std::size_t>(take_a);
    jb -= 1 - static_cast<std::size_t>(take_a);
  }
  for (std::size_t t = s; t < front_steps; ++t) {
    if (i == na || (j < nb && less(b[j], a[i])))
      front(b[j++]);
    else
      front(a[i++]);
  }
  for (std::size_t t = s; t < back_steps; ++t) {
    if (jb == 0 || (ia > 0 && less(b[jb - 1], a[ia - 1])))
      back(a[--ia]);
    else
      back(b[--jb]);
  }
}

// A template only so that parsing the header compiles nothing (header-only mode; `pair_resplit`).
template <class = void>
class basic_pair_resplit {
 public:
  /// `order`: the items by cost descending, ties by index (detail/order.hpp).
  basic_pair_resplit(std::span<const cost_t> costs, std::span<const index_type> order, std::size_t k,
                     std::span<index_type> part_of, bool equal_counts, bool sums_exact)
      : basic_pair_resplit(costs, k, part_of, parts_by_cost(costs, order, k, part_of), equal_counts, sums_exact) {}

  /// The same with each part's items already in cost order (rank ascending; as
  /// local_search_engine::release_parts_by_cost hands them over for the assignment `part_of`).
  /// `sums_exact`: sums_are_exact(costs) (detail/sums.hpp), so no index order needs keeping.
  basic_pair_resplit(std::span<const cost_t> costs, std::size_t k, std::span<index_type> part_of,
                     scratch_vector<scratch_vector<ranked_item>> by_cost, bool equal_counts, bool sums_exact)
      : part_of_(part_of),
        equal_counts_(equal_counts),
        sums_exact_(sums_exact),
        by_index_(sums_exact ? 0 : k),
        by_cost_(std::move(by_cost)),
        loads_(k, 0.0),
        changed_(k, 0),
        side_of_(sums_exact ? 0 : (costs.size() + 63) / 64, 0) {
    if (sums_exact_) {  // any order gives the index-order sums' bits
      for (std::size_t g = 0; g < k; ++g)
        for (const item& x : by_cost_[g]) loads_[g] += x.cost;
      return;
    }
    scratch_vector<std::size_t> count(k, 0);
    for (index_type g : part_of) ++count[g];
    scratch_vector<item*> cursor(k);
    for (std::size_t g = 0; g < k; ++g) {  // one slot of slack: the branch-free splits write one past the end
      by_index_[g].reserve(count[g] + 1);
      by_cost_[g].reserve(count[g] + 1);
      by_index_[g].resize(count[g]);
      cursor[g] = by_index_[g].data();
    }
    for (std::size_t i = 0; i < costs.size(); ++i) *cursor[part_of[i]]++ = {costs[i], static_cast<index_type>(i), 0};
    for (std::size_t g = 0; g < k; ++g)
      for (const item& x : by_index_[g]) loads_[g] += x.cost;
  }

  /// Whether the differencing may use integer keys when they fit (default true; the tests compare
  /// both ways).
  void allow_integer_keys(bool on) { allow_integer_keys_ = on; }

  /// Runs until no partner of the heaviest part helps, the heaviest load meets `bound`, or
  /// `max_steps` re-splits were kept; returns the re-splits kept.
  std::uint64_t run(cost_t bound, std::uint64_t max_steps, std::size_t max_partners) {
    // Parts ordered by (load, index): the lightest partners from the front, the heaviest part
    // (lowest index among equal loads) found in O(log k); two entries change per kept re-split.
    using entry = std::pair<cost_t, std::size_t>;
    std::set<entry, std::less<entry>, scratch_allocator<entry>> by_load;
    for (std::size_t g = 0; g < loads_.size(); ++g) by_load.emplace(loads_[g], g);
    std::uint64_t steps = 0;
    while (steps < max_steps && !by_load.empty()) {
      const cost_t top = std::prev(by_load.end())->first;
      const std::size_t heavy = by_load.lower_bound({top, 0})->second;
      if (top <= bound) break;
      bool kept = false;
      std::size_t tried = 0;
      for (auto it = by_load.begin(); it != by_load.end() && tried < max_partners; ++it) {
        const std::size_t p = it->second;
        if (p == heavy) continue;
        ++tried;
        const cost_t old_heavy = loads_[heavy], old_partner = loads_[p];
        if (try_pair(heavy, p)) {
          by_load.erase({old_heavy, heavy});
          by_load.erase({old_partner, p});
          by_load.emplace(loads_[heavy], heavy);
          by_load.emplace(loads_[p], p);
          kept = true;
          break;
        }
      }
      if (!kept) break;
      ++steps;
    }
    for (std::size_t g = 0; g < changed_.size(); ++g)
      if (changed_[g] != 0)
        for (const item& x : by_cost_[g]) part_of_[x.index] = static_cast<index_type>(g);
    return steps;
  }

 private:
  /// An item with its cost at hand (the pool merges read no cost table) and its rank in `order`.
  using item = ranked_item;

  static scratch_vector<scratch_vector<item>> parts_by_cost(std::span<const cost_t> costs,
                                                            std::span<const index_type> order, std::size_t k,
                                                            std::span<const index_type> part_of) {
    scratch_vector<scratch_vector<item>> by_cost(k);
    for (std::size_t j = 0; j < order.size(); ++j) {  // cost order within each part
      const index_type i = order[j];
      by_cost[part_of[i]].push_back({costs[i], i, static_cast<std::uint32_t>(j)});
    }
    return by_cost;
  }

  /// One differencing node: the gap between its two sides (each a linked list of pool positions).
  struct node {
    cost_t gap;
    std::uint32_t id;
  };

  bool try_pair(std::size_t heavy, std::size_t partner) {
    // The pool, largest cost first (a merge of the two parts' cost orders).
    {  // branch-free merge from both ends (the comparisons are coin flips to a predictor)
      const auto& a = by_cost_[heavy];
      const auto& b = by_cost_[partner];
      pool_.resize(a.size() + b.size());
      std::size_t o = 0, e = pool_.size();
      merge_from_both_ends(
          a.data(), a.size(), b.data(), b.size(), [](const item& x, const item& y) { return x.rank < y.rank; },
          [&](const item& x) { pool_[o++] = x; }, [&](const item& x) { pool_[--e] = x; });
    }
    const std::size_t m = pool_.size();
    // Largest differencing over two sources that pop in one total order, (gap desc, id asc):
    // the starting nodes sorted once (`start_`, read from the front) and the differences in a
    // heap. Ids are unique among live nodes, so the pops are exactly those of one heap of all.
    start_.clear();
    start_.reserve(m / (equal_counts_ ? 2 : 1) + 1);  // one allocation, not a doubling series
    merges_.clear();
    merges_.reserve(m);
    std::uint32_t nodes = 0;
    // Gaps are >= +0.0 (-0.0 is folded into +0.0 where nodes start, and a difference of the two
    // largest is never -0.0), so they compare like their bit patterns: integer comparisons, no
    // branch (coin flips) and a short chain for the heap's sifts.
    const auto before = [](const node& x, const node& y) {
      const auto xg = std::bit_cast<std::uint64_t>(x.gap), yg = std::bit_cast<std::uint64_t>(y.gap);
      return static_cast<bool>(static_cast<unsigned>(xg > yg) |
                               (static_cast<unsigned>(xg == yg) & static_cast<unsigned>(x.id < y.id)));
    };
    if (equal_counts_) {  // pairs keep both sides' counts equal; an odd pool leaves its smallest alone
      // Zero gaps (pairs of equal costs: a third of W1's) sort last, by id: only the rest is sorted.
      // Each node is written once, to the list its gap selects (no branch: zeros are a coin flip).
      const std::size_t pairs = (m + 1) / 2;
      start_.resize(pairs);
      zero_starts_.resize(pairs);
      std::size_t on_start = 0, on_zero = 0;
      const auto add = [&](cost_t gap) {
        const auto above = static_cast<std::size_t>(gap > 0);
        *select_pointer(above != 0, start_.data() + on_start, zero_starts_.data() + on_zero) = {
            gap == 0 ? 0.0 : gap, nodes++};  // -0.0 (a cost of -0.0 left alone) folded into +0.0
        on_start += above;
        on_zero += 1 - above;
      };
      for (std::size_t q = 0; q + 1 < m; q += 2) add(pool_[q].cost - pool_[q + 1].cost);
      if (m % 2 == 1) add(pool_[m - 1].cost);
      start_.resize(on_start);
      zero_starts_.resize(on_zero);
      sort_starts(before);
      start_.insert(start_.end(), zero_starts_.begin(), zero_starts_.end());
    } else {  // the pool is already in (cost desc, position asc) order
      for (std::size_t q = 0; q < m; ++q) start_.push_back({pool_[q].cost == 0 ? 0.0 : pool_[q].cost, nodes++});
    }
    std::size_t positive = 0;  // live nodes with a gap above zero
    for (const node& v : start_) positive += v.gap > 0 ? 1 : 0;
    std::uint32_t root = 0;
    const bool any = to_integer_keys(nodes) ? difference(start_keys_, heap_keys_, positive, key_ops{key_id_bits_}, root)
                                            : difference(start_, heap_, positive, node_ops{}, root);
    if (!any) return false;
    // Each node's sides relative to the root's: a merge (x, y) swaps y's against x's, and x's own
    // swap is known once every later merge is undone, so replay the merges backwards.
    swapped_.assign(nodes, 0);
    swapped_[root] = 0;
    for (auto it = merges_.rbegin(); it != merges_.rend(); ++it) swapped_[it->second] = swapped_[it->first] ^ 1u;
    // Start node q holds pool positions 2q (side 0) and 2q + 1 (side 1) under equal counts, position
    // q (side 0) otherwise. Each side is kept by item (for the index-order split) and by pool
    // position (for the cost-order split); the count in a register (no store-to-load chain).
    const unsigned shift = equal_counts_ ? 1 : 0;
    pool_side_.resize(m);
    std::size_t on_side_1 = 0;
    if (sums_exact_) {
      for (std::size_t q = 0; q < m; ++q) {
        const unsigned char side = static_cast<unsigned char>((q & shift) ^ swapped_[q >> shift]);
        pool_side_[q] = side;
        on_side_1 += side;
      }
    } else {
      for (std::size_t q = 0; q < m; ++q) {
        const unsigned char side = static_cast<unsigned char>((q & shift) ^ swapped_[q >> shift]);
        const index_type i = pool_[q].index;
        std::uint64_t& word = side_of_[i / 64];
        word = (word & ~(std::uint64_t{1} << (i % 64))) | (std::uint64_t{side} << (i % 64));
        pool_side_[q] = side;
        on_side_1 += side;
      }
    }
    const std::size_t count[2] = {m - on_side_1, on_side_1};
    // Side 0 goes to the heavy part; under equal counts, the side with more items to the part that had more.
    unsigned char heavy_side = 0;
    if (equal_counts_ && (count[0] > count[1]) != (by_cost_[heavy].size() > by_cost_[partner].size())) heavy_side = 1;
    const std::size_t on_heavy_count = count[heavy_side], on_partner_count = m - on_heavy_count;
    if (sums_exact_) return keep_exact_split(heavy, partner, heavy_side, on_heavy_count);
    // The new parts' index orders, split from a merge of the two old ones (from both ends), then
    // their loads as index-order sums (two chains side by side). The sides are coin flips to a
    // predictor: each item is written once, to the address its side selects.
    auto& index_h = spare_index_[0];
    auto& index_p = spare_index_[1];
    index_h.resize(on_heavy_count);
    index_p.resize(on_partner_count);
    cost_t load[2] = {0, 0};
    {
      // Each old part split by side (a filter keeps index order; the side bits are in L1), then
      // each new part is a merge of its two pieces: two independent merges, each from both ends.
      const auto split = [&](const scratch_vector<item>& from, scratch_vector<item>& to_heavy,
                             scratch_vector<item>& to_partner) {
        to_heavy.resize(from.size());
        to_partner.resize(from.size());
        item* const h_out = to_heavy.data();
        item* const p_out = to_partner.data();
        std::size_t nh = 0, np = 0;
        for (const item& x : from) {
          const auto h = static_cast<std::size_t>(((side_of_[x.index / 64] >> (x.index % 64)) & 1u) == heavy_side);
          *select_pointer(h != 0, h_out + nh, p_out + np) = x;
          nh += h;
          np += 1 - h;
        }
        to_heavy.resize(nh);
        to_partner.resize(np);
      };
      split(by_index_[heavy], piece_[0], piece_[1]);
      split(by_index_[partner], piece_[2], piece_[3]);
      item* const out_h = index_h.data();
      item* const out_p = index_p.data();
      const auto by_index = [](const item& x, const item& y) { return x.index < y.index; };
      const auto merge_into = [&](const scratch_vector<item>& x, const scratch_vector<item>& y, item* out) {
        std::size_t o = 0, e = x.size() + y.size();
        merge_from_both_ends(
            x.data(), x.size(), y.data(), y.size(), by_index, [&](const item& v) { out[o++] = v; },
            [&](const item& v) { out[--e] = v; });
      };
      merge_into(piece_[0], piece_[2], out_h);
      merge_into(piece_[1], piece_[3], out_p);
      cost_t on_heavy = 0, on_partner = 0;
      const std::size_t both = std::min(on_heavy_count, on_partner_count);
      for (std::size_t q = 0; q < both; ++q) {
        on_heavy += out_h[q].cost;
        on_partner += out_p[q].cost;
      }
      for (std::size_t q = both; q < on_heavy_count; ++q) on_heavy += out_h[q].cost;
      for (std::size_t q = both; q < on_partner_count; ++q) on_partner += out_p[q].cost;
      load[0] = on_heavy;
      load[1] = on_partner;
    }
    if (!(std::max(load[0], load[1]) < loads_[heavy])) return false;
    auto& cost_h = spare_cost_[0];
    auto& cost_p = spare_cost_[1];
    cost_h.resize(on_heavy_count);
    cost_p.resize(on_partner_count);
    {
      std::size_t oh = 0, op = 0;
      item* const out_h = cost_h.data();
      item* const out_p = cost_p.data();
      for (std::size_t q = 0; q < m; ++q) {
        const auto h = static_cast<std::size_t>(pool_side_[q] == heavy_side);
        *select_pointer(h != 0, out_h + oh, out_p + op) = pool_[q];
        oh += h;
        op += 1 - h;
      }
    }
    by_index_[heavy].swap(index_h);
    by_index_[partner].swap(index_p);
    by_cost_[heavy].swap(cost_h);
    by_cost_[partner].swap(cost_p);
    loads_[heavy] = load[0];
    loads_[partner] = load[1];
    changed_[heavy] = changed_[partner] = 1;  // part_of_ is written once, at the end of run()
    return true;
  }

  /// Largest differencing of the sorted starting nodes `start` (heap empty): appends a merge
  /// (x, y) per step to merges_ and sets `root`, the node every other joins; false when there is
  /// no node. `Ops` gives the order (before), positive, id and diff of `Node`.
  template <class Node, class Ops>
  bool difference(scratch_vector<Node>& start, scratch_vector<Node>& heap, std::size_t positive, const Ops& ops,
                  std::uint32_t& root_out) {
    heap.clear();
    heap.reserve(start.size() / 2 + 1);
    // The heap of differences: a binary max-heap under `before`, written out so that a pop
    // followed by a push becomes one sift of the root.
    const auto sift_down = [&](Node v) {
      const std::size_t size = heap.size();
      std::size_t i = 0;
      for (;;) {
        std::size_t c = 2 * i + 1;
        if (c >= size) break;
        if (c + 1 < size) c += static_cast<std::size_t>(ops.before(heap[c + 1], heap[c]));  // no branch: a coin flip
        if (!ops.before(heap[c], v)) break;
        heap[i] = heap[c];
        i = c;
      }
      heap[i] = v;
    };
    const auto push = [&](Node v) {
      std::size_t i = heap.size();
      heap.push_back(v);
      while (i > 0) {
        const std::size_t parent = (i - 1) / 2;
        if (!ops.before(v, heap[parent])) break;
        heap[i] = heap[parent];
        i = parent;
      }
      heap[i] = v;
    };
    const std::size_t starts = start.size();
    std::size_t front = 0;
    // Whether the next starting node comes before `best` of the heap (nullptr: none there).
    const auto from_start = [&](const Node* best) {
      return front < starts && (best == nullptr || ops.before(start[front], *best));
    };
    // While two gaps are above zero, the two largest go on opposite sides: a.0 + b.1, a.1 + b.0.
    while (positive >= 2) {
      Node x{}, y{};
      if (from_start(heap.empty() ? nullptr : &heap[0])) {
        x = start[front++];
        if (from_start(heap.empty() ? nullptr : &heap[0])) {
          y = start[front++];
          push(ops.diff(x, y));
        } else {
          y = heap[0];
          sift_down(ops.diff(x, y));
        }
      } else {
        x = heap[0];
        const std::size_t size = heap.size();
        const Node* second = size > 2    ? (ops.before(heap[2], heap[1]) ? &heap[2] : &heap[1])
                             : size == 2 ? &heap[1]
                                         : nullptr;
        if (from_start(second)) {
          y = start[front++];
        } else {
          y = *second;
          const Node last = heap.back();
          heap.pop_back();
          sift_down(last);  // y is the root now
        }
        sift_down(ops.diff(x, y));
      }
      merges_.push_back({ops.id(x), ops.id(y)});  // y's sides join x's swapped: y.0 with x.1, y.1 with x.0
      positive -= ops.positive(ops.diff(x, y)) ? std::size_t{1} : std::size_t{2};
    }
    if (front == start.size() && heap.empty()) return false;
    // What is left is at most one positive node and zeros. The differencing would take the
    // positive node (or, all zero, the lowest id) as x every time and each other node as y in
    // turn, x's gap unchanged: every other node joins it swapped, in any order.
    std::uint32_t root = 0;
    if (positive == 1) {
      root = !heap.empty() && ops.positive(heap.front()) ? ops.id(heap.front()) : ops.id(start[front]);
    } else {
      root = std::numeric_limits<std::uint32_t>::max();
      for (std::size_t q = front; q < starts; ++q) root = std::min(root, ops.id(start[q]));
      for (const Node& v : heap) root = std::min(root, ops.id(v));
    }
    for (std::size_t q = front; q < starts; ++q)
      if (ops.id(start[q]) != root) merges_.push_back({root, ops.id(start[q])});
    for (const Node& v : heap)
      if (ops.id(v) != root) merges_.push_back({root, ops.id(v)});
    root_out = root;
    return true;
  }

  /// Nodes as (gap, id): the general case.
  struct node_ops {
    // Gaps are >= +0.0 (-0.0 is folded into +0.0 where nodes start, and a difference of the two
    // largest is never -0.0), so they compare like their bit patterns: integer comparisons, no
    // branch (coin flips) and a short chain for the heap's sifts.
    static bool before(const node& x, const node& y) {
      const auto xg = std::bit_cast<std::uint64_t>(x.gap), yg = std::bit_cast<std::uint64_t>(y.gap);
      return static_cast<bool>(static_cast<unsigned>(xg > yg) |
                               (static_cast<unsigned>(xg == yg) & static_cast<unsigned>(x.id < y.id)));
    }
    static bool positive(const node& x) { return x.gap > 0; }
    static std::uint32_t id(const node& x) { return x.id; }
    static node diff(const node& x, const node& y) { return {x.gap - y.gap, x.id}; }
  };

  /// Nodes as one integer, (gap / Q) << id_bits | (mask - id) (to_integer_keys): (gap desc, id
  /// asc) is the integer order, and a difference keeps x's id bits.
  struct key_ops {
    unsigned id_bits;
    static bool before(std::uint64_t x, std::uint64_t y) { return x > y; }
    [[nodiscard]] bool positive(std::uint64_t x) const { return (x >> id_bits) != 0; }
    [[nodiscard]] std::uint32_t id(std::uint64_t x) const {
      return static_cast<std::uint32_t>(~x & ((std::uint64_t{1} << id_bits) - 1));
    }
    [[nodiscard]] std::uint64_t diff(std::uint64_t x, std::uint64_t y) const {
      return x - (y & ~((std::uint64_t{1} << id_bits) - 1));
    }
  };

  /// When every starting gap is a multiple of one power of two Q and the largest, over Q, fits
  /// beside the ids (and below 2^53), writes start_ (sorted) as integer keys to start_keys_ and
  /// returns true. Every gap of the differencing is then a multiple of Q in [0, max]: each double
  /// difference is exact, so the integer differencing takes the same steps.
  bool to_integer_keys(std::uint32_t nodes) {
    if (!allow_integer_keys_) return false;
    int low = std::numeric_limits<int>::max(), top = std::numeric_limits<int>::min();
    const auto parts = [](cost_t g, std::uint64_t& mant, int& exp) {  // g = mant * 2^exp, g > 0
      const auto bits = std::bit_cast<std::uint64_t>(g);
      const auto field = static_cast<int>(bits >> 52);
      mant = bits & ((std::uint64_t{1} << 52) - 1);
      exp = -1074;
      if (field != 0) {
        mant |= std::uint64_t{1} << 52;
        exp = field - 1075;
      }
    };
    for (const node& v : start_) {
      if (!(v.gap > 0)) continue;
      std::uint64_t mant = 0;
      int exp = 0;
      parts(v.gap, mant, exp);
      low = std::min(low, exp + std::countr_zero(mant));
      top = std::max(top, exp + static_cast<int>(std::bit_width(mant)));
    }
    key_id_bits_ = static_cast<unsigned>(std::bit_width(nodes > 0 ? nodes - 1 : 0u));
    if (key_id_bits_ == 0) key_id_bits_ = 1;
    const int limit = std::min(53, 64 - static_cast<int>(key_id_bits_));
    if (low == std::numeric_limits<int>::max()) low = top = 0;  // no positive gap
    if (top - low > limit) return false;
    start_keys_.resize(start_.size());
    const std::uint64_t id_mask = (std::uint64_t{1} << key_id_bits_) - 1;
    for (std::size_t q = 0; q < start_.size(); ++q) {
      std::uint64_t n = 0;
      if (start_[q].gap > 0) {
        int exp = 0;
        parts(start_[q].gap, n, exp);
        n = exp >= low ? n << static_cast<unsigned>(exp - low) : n >> static_cast<unsigned>(low - exp);
      }
      start_keys_[q] = (n << key_id_bits_) | (id_mask - start_[q].id);
    }
    return true;
  }

  /// The end of try_pair when sums are exact: the new parts in cost order (a filter of the pool),
  /// summed in that order with two chains per part (any order gives the same bits); kept when
  /// both new loads are below the heavy load.
  bool keep_exact_split(std::size_t heavy, std::size_t partner, unsigned char heavy_side, std::size_t on_heavy_count) {
    const std::size_t m = pool_.size();
    auto& cost_h = spare_cost_[0];
    auto& cost_p = spare_cost_[1];
    cost_h.resize(on_heavy_count);
    cost_p.resize(m - on_heavy_count);
    {
      std::size_t oh = 0, op = 0;
      item* const out_h = cost_h.data();
      item* const out_p = cost_p.data();
      for (std::size_t q = 0; q < m; ++q) {
        const bool h = pool_side_[q] == heavy_side;
        *select_pointer(h, out_h + oh, out_p + op) = pool_[q];
        oh += static_cast<std::size_t>(h);
        op += 1 - static_cast<std::size_t>(h);
      }
    }
    // Every partial sum is exact: four chains, and the partner's load as the pair's total minus it.
    cost_t sum[4] = {0, 0, 0, 0};
    std::size_t q = 0;
    for (; q + 4 <= on_heavy_count; q += 4)
      for (std::size_t c = 0; c < 4; ++c) sum[c] += cost_h[q + c].cost;
    for (; q < on_heavy_count; ++q) sum[0] += cost_h[q].cost;
    const cost_t load_h = (sum[0] + sum[1]) + (sum[2] + sum[3]);
    const cost_t load_p = (loads_[heavy] + loads_[partner]) - load_h;
    if (!(std::max(load_h, load_p) < loads_[heavy])) return false;
    by_cost_[heavy].swap(cost_h);
    by_cost_[partner].swap(cost_p);
    loads_[heavy] = load_h;
    loads_[partner] = load_p;
    changed_[heavy] = changed_[partner] = 1;  // part_of_ is written once, at the end of run()
    return true;
  }

  /// Sorts start_ (built in id order) by (gap desc, id asc): a stable LSD radix sort on the
  /// complemented gap bits (gaps are >= 0; -0.0 folded into +0.0, as order.hpp does), skipping
  /// digits where every key agrees; std::sort with `before` for short lists (the same order).
  template <class Before>
  void sort_starts(Before before) {
    const std::size_t s = start_.size();
    if (s < 256) {
      std::sort(start_.begin(), start_.end(), before);
      return;
    }
    keys_.resize(s);
    keys_tmp_.resize(s);
    std::uint64_t all_and = ~std::uint64_t{0}, all_or = 0;
    std::uint32_t ids = 0;
    for (std::size_t i = 0; i < s; ++i) {
      const cost_t g = start_[i].gap == 0 ? 0.0 : start_[i].gap;
      keys_[i] = ~std::bit_cast<std::uint64_t>(g);
      all_and &= keys_[i];
      all_or |= keys_[i];
      ids |= start_[i].id;
    }
    const std::uint64_t varying = all_and ^ all_or;
    if (varying == 0) return;  // one gap: id order
    const auto low = static_cast<unsigned>(std::countr_zero(varying));
    const auto width = static_cast<unsigned>(64 - std::countl_zero(varying)) - low;
    const auto id_bits = static_cast<unsigned>(std::bit_width(ids));
    if (width + id_bits <= 64) {
      // One word per node: the varying key bits, then the id (as radix_order_descending does);
      // only the key bits are sorted, and the gap is rebuilt from them and the common bits.
      const std::uint64_t field = width == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
      const std::uint64_t common = all_and & ~(field << low);
      for (std::size_t i = 0; i < s; ++i) keys_[i] = (((keys_[i] >> low) & field) << id_bits) | start_[i].id;
      radix_sort_bits(keys_, keys_tmp_, id_bits, width, 8);
      const std::uint64_t id_mask = (std::uint64_t{1} << id_bits) - 1;
      for (std::size_t i = 0; i < s; ++i) {
        const std::uint64_t key = keys_[i];
        start_[i] = {std::bit_cast<cost_t>(~(common | (((key >> id_bits) & field) << low))),
                     static_cast<std::uint32_t>(key & id_mask)};
      }
      return;
    }
    nodes_tmp_.resize(s);
    for (unsigned shift = 0; shift < 64; shift += 8) {
      if (((varying >> shift) & 0xffu) == 0) continue;
      std::array<std::size_t, 257> count{};
      for (std::size_t i = 0; i < s; ++i) ++count[((keys_[i] >> shift) & 0xffu) + 1];
      for (std::size_t d = 0; d < 256; ++d) count[d + 1] += count[d];
      for (std::size_t i = 0; i < s; ++i) {
        const std::size_t to = count[(keys_[i] >> shift) & 0xffu]++;
        keys_tmp_[to] = keys_[i];
        nodes_tmp_[to] = start_[i];
      }
      keys_.swap(keys_tmp_);
      start_.swap(nodes_tmp_);
    }
  }

  std::span<index_type> part_of_;
  bool equal_counts_;
  bool sums_exact_;                                // sums_are_exact(costs): by_index_ and side_of_ are not kept
  scratch_vector<scratch_vector<item>> by_index_;  // each part's items by index (the summation order)
  scratch_vector<scratch_vector<item>> by_cost_;   // each part's items by (cost desc, index asc)
  scratch_vector<item> spare_index_[2], spare_cost_[2];  // the next split's buffers (swapped in when kept)
  scratch_vector<item> piece_[4];  // the old parts split by side: heavy's to heavy, to partner; partner's likewise
  scratch_vector<cost_t> loads_;
  scratch_vector<unsigned char> changed_;  // parts re-split since the start (their part_of_ entries are stale)
  scratch_vector<std::uint64_t> side_of_;  // one bit per item: its side in the current re-split (fits L1)
  scratch_vector<unsigned char> pool_side_;  // side of each pool position
  scratch_vector<item> pool_;
  scratch_vector<node> heap_, start_, zero_starts_, nodes_tmp_;
  scratch_vector<std::uint64_t> start_keys_, heap_keys_;  // the nodes as integer keys (to_integer_keys)
  unsigned key_id_bits_ = 1;
  bool allow_integer_keys_ = true;
  scratch_vector<std::uint64_t> keys_, keys_tmp_;
  scratch_vector<std::pair<std::uint32_t, std::uint32_t>> merges_;  // (x, y) per differencing step
  scratch_vector<unsigned char> swapped_;
};

using pair_resplit = basic_pair_resplit<>;

}  // namespace fulcrum::detail
