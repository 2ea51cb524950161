// SPDX-License-Identifier: Apache-2.0
/// @file balance/detail/karmarkar_karp.hpp
/// The engine behind balance/karmarkar_karp.hpp: k-way largest differencing over sparse,
/// sorted k-tuples stored in one arena.
///
/// A partial solution ("tuple") is k part sums sorted descending. Only the parts that hold items
/// are stored; the other parts are implicit zeros at the end, so a tuple built from s items
/// costs O(s), not O(k). Sums are kept absolute (never normalised): max - min and the merge rule
/// are invariant under the usual subtraction of the minimum. Each stored part carries a linked
/// list of its items (head = smallest item index), so ties in the sort order break by item index,
/// the order is total and the result is the same on every platform.
///
/// Merging A (s stored) with B (t stored, t <= s) pairs A's i-th largest with B's i-th smallest:
///  - s + t <= k: no two stored parts meet, the result is the sorted union. Tuples own a
///    capacity (the next power of two, at most k), so B is usually merged into A in place from
///    the back: binary search + memmove per B entry (a new item lands near A's end);
///  - s == k (A full): B's t parts land on A's t smallest. For t == 1 (the common "full tuple +
///    one item" step, i.e. an LPT step) the full tuple is a ring buffer: the lightest part leaves
///    from one end and re-enters by shifting the shorter side, O(log k + min(p, k - p)) for new
///    rank p. For t > 1 the t new sums are sorted and merged back in place from the back;
///  - otherwise: a three-way merge of A's untouched prefix, the sorted combined middle and B's
///    untouched prefix into a fresh k-entry range (O(k + m log m), m = s + t - k).
/// Singletons are never materialised: they wait in cost-descending order (radix sorted) and the
/// next partial solution is the larger-difference one of the singleton queue head and the heap
/// top. Live capacity is at most 2n entries (each stored part holds an item); the arena is
/// compacted when full, amortised O(1) per written entry.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "fulcrum/balance/detail/order.hpp"
#include "fulcrum/core/detail/scratch.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum::detail {

template <class = void>
class basic_karmarkar_karp_solver {
 public:
  basic_karmarkar_karp_solver(std::span<const cost_t> costs, std::size_t k) : costs_(costs), k_(k) {}

  /// Runs the differencing and returns part_of[i] for every item; part p is the p-th heaviest
  /// part of the final tuple (ties by smallest item index).
  scratch_vector<index_type> run() { return run({}); }

  /// The same, with the items' cost-descending order (radix_order_descending(costs)) given
  /// (balance() has it already); an empty `order` is computed here.
  scratch_vector<index_type> run(std::span<const index_type> order) {
    const std::size_t n = costs_.size();
    scratch_vector<index_type> part_of(n, 0);
    if (n == 0 || k_ == 1) return part_of;
    if (order.size() == n)
      order_.assign(order.begin(), order.end());
    else
      order_ = radix_order_descending(costs_);
    next_.assign(n, none);
    arena_.resize(4 * n + 2 * k_);
    bump_ = 0;
    scratch_.resize(k_);
    scratch2_.resize(k_);
    tuples_.clear();
    tuples_.reserve(n);
    heap_.clear();
    cursor_ = 0;

    while ((n - cursor_) + heap_.size() > 1) {
      const handle x = pop();
      const handle y = pop();
      merge(x, y);
    }
    // One partial solution is left: a stored tuple, or a lone singleton when n == 1.
    if (heap_.empty()) return part_of;  // n == 1: item 0 in part 0
    tuple_ref& last = tuples_[heap_.front().id - n];
    make_contiguous(last);
    // The item lists walked side by side (independent chains keep several loads in flight).
    scratch_vector<index_type> part(last.size), at(last.size);
    std::size_t live = 0;
    for (std::size_t p = 0; p < last.size; ++p)
      if (arena_[last.offset + p].head != none) {
        part[live] = static_cast<index_type>(p);
        at[live++] = arena_[last.offset + p].head;
      }
    while (live > 0) {
      std::size_t kept = 0;
      for (std::size_t j = 0; j < live; ++j) {
        const index_type i = at[j];
        part_of[i] = part[j];
        if (next_[i] != none) {
          at[kept] = next_[i];
          part[kept++] = part[j];
        }
      }
      live = kept;
    }
    return part_of;
  }

 private:
  static constexpr index_type none = std::numeric_limits<index_type>::max();

  struct entry {
    cost_t sum;
    index_type head;  // smallest item index in this part; the list continues via next_
    index_type tail;
  };
  struct tuple_ref {
    std::size_t offset;
    std::size_t size;
    std::size_t capacity;
    std::size_t start;  // ring rotation of a full tuple: logical i is at offset + (start + i) % k
  };
  struct heap_node {
    cost_t diff;
    std::size_t id;  // singletons: rank in cost order (< n); stored tuples: n + creation number
  };
  /// A popped partial solution: a singleton (id < n) or a stored tuple.
  struct handle {
    std::size_t id;
    std::size_t size;
  };

  // Entry order inside a tuple: larger sum first, ties by smaller head item.
  static bool before(const entry& a, const entry& b) noexcept {
    return a.sum > b.sum || (a.sum == b.sum && a.head < b.head);
  }
  // Heap order: larger difference first, ties by smaller id (so singletons before tuples).
  static bool heap_less(const heap_node& a, const heap_node& b) noexcept {
    return a.diff < b.diff || (a.diff == b.diff && a.id > b.id);
  }

  handle pop() {
    const std::size_t n = costs_.size();
    const bool take_singleton =
        cursor_ < n && (heap_.empty() || !heap_less(heap_node{costs_[order_[cursor_]], cursor_}, heap_.front()));
    if (take_singleton) return {cursor_++, 1};
    std::pop_heap(heap_.begin(), heap_.end(), heap_less);
    const std::size_t id = heap_.back().id;
    heap_.pop_back();
    return {id, tuples_[id - n].size};
  }

  // Entries of a handle in logical order (rotating a full ring first); singletons live in `slot`.
  std::span<entry> entries(const handle& h, entry& slot) {
    const std::size_t n = costs_.size();
    if (h.id < n) {
      const index_type item = order_[h.id];
      slot = {costs_[item], item, item};
      return {&slot, 1};
    }
    tuple_ref& t = tuples_[h.id - n];
    make_contiguous(t);
    return {arena_.data() + t.offset, t.size};
  }

  void make_contiguous(tuple_ref& t) {
    if (t.start == 0) return;
    const auto first = arena_.begin() + static_cast<std::ptrdiff_t>(t.offset);
    std::rotate(first, first + static_cast<std::ptrdiff_t>(t.start), first + static_cast<std::ptrdiff_t>(t.size));
    t.start = 0;
  }

  // Joins two parts: sums add, item lists concatenate with the smaller head first.
  entry combine(const entry& a, const entry& b) {
    if (a.head < b.head) {
      next_[a.tail] = b.head;
      return {a.sum + b.sum, a.head, b.tail};
    }
    next_[b.tail] = a.head;
    return {a.sum + b.sum, b.head, a.tail};
  }

  // Merges the sorted entries add[0, t) into the sorted a[0, len), in place (a has room for
  // len + t), from the back: each added entry is placed by binary search and the block after it
  // moves once. O(t log len + entries moved).
  static void merge_back(entry* a, std::size_t len, const entry* add, std::size_t t) {
    std::size_t end = len;
    for (std::size_t j = t; j-- > 0;) {
      const entry moving = add[j];
      const std::size_t pos = static_cast<std::size_t>(
          std::upper_bound(a, a + end, moving, [](const entry& v, const entry& e) { return before(v, e); }) - a);
      std::move_backward(a + pos, a + end, a + end + j + 1);
      a[pos + j] = moving;
      end = pos;
    }
  }

  // Reserves `cap` arena entries, compacting live tuples (those in the heap and the two being
  // merged) to the front when the arena is full.
  std::size_t allocate(std::size_t cap, const handle& x, const handle& y) {
    if (bump_ + cap > arena_.size()) {
      const std::size_t n = costs_.size();
      scratch_vector<std::size_t> live;
      live.reserve(heap_.size() + 2);
      for (const heap_node& h : heap_) live.push_back(h.id - n);
      if (x.id >= n) live.push_back(x.id - n);
      if (y.id >= n) live.push_back(y.id - n);
      std::sort(live.begin(), live.end(),
                [&](std::size_t a, std::size_t b) { return tuples_[a].offset < tuples_[b].offset; });
      std::size_t to = 0;
      for (std::size_t t : live) {
        tuple_ref& ref = tuples_[t];
        std::copy(arena_.begin() + static_cast<std::ptrdiff_t>(ref.offset),
                  arena_.begin() + static_cast<std::ptrdiff_t>(ref.offset + ref.size),
                  arena_.begin() + static_cast<std::ptrdiff_t>(to));
        ref.offset = to;
        to += ref.capacity;
      }
      bump_ = to;
    }
    const std::size_t at = bump_;
    bump_ += cap;
    return at;
  }

  void push(const tuple_ref& t) {
    const std::size_t n = costs_.size();
    const entry* e = arena_.data() + t.offset;
    const std::size_t last = t.start == 0 ? t.size - 1 : t.start - 1;
    const cost_t diff = t.size < k_ ? e[t.start].sum : e[t.start].sum - e[last].sum;
    tuples_.push_back(t);
    heap_.push_back({diff, n + tuples_.size() - 1});
    std::push_heap(heap_.begin(), heap_.end(), heap_less);
  }

  // A full tuple (ring) absorbs one part: `b` joins the lightest part, which is then moved to its
  // sorted place by shifting whichever side of the ring is shorter. O(log k + min(p, k - p)).
  void absorb_one(const handle& x, const entry& b) {
    const std::size_t n = costs_.size(), k = k_;
    tuple_ref t = tuples_[x.id - n];
    entry* e = arena_.data() + t.offset;
    const std::size_t r = t.start;
    const auto phys = [r, k](std::size_t i) { return r + i < k ? r + i : r + i - k; };
    const std::size_t last = phys(k - 1);
    const entry moving = combine(e[last], b);
    // p = number of the remaining k-1 parts that go before `moving`.
    std::size_t lo = 0, hi = k - 1;
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (before(e[phys(mid)], moving))
        lo = mid + 1;
      else
        hi = mid;
    }
    const std::size_t p = lo;
    if (p <= k - 1 - p) {  // move logical [0, p) one slot left, into the freed slot
      std::size_t to = last;
      for (std::size_t i = 0; i < p; ++i) {
        const std::size_t from = phys(i);
        e[to] = e[from];
        to = from;
      }
      e[to] = moving;
      t.start = r == 0 ? k - 1 : r - 1;
    } else {  // move logical [p, k-1) one slot right
      for (std::size_t i = k - 1; i > p; --i) e[phys(i)] = e[phys(i - 1)];
      e[phys(p)] = moving;
    }
    push(t);
  }

  void merge(handle x, handle y) {
    // A = the tuple with more stored parts (ties: the first popped).
    if (y.size > x.size) std::swap(x, y);
    const std::size_t n = costs_.size(), s = x.size, t = y.size, k = k_;
    entry slot_a{}, slot_b{};
    if (s + t <= k) {                                          // disjoint: sorted union
      if (x.id >= n && tuples_[x.id - n].capacity >= s + t) {  // in place, into A's spare room
        const tuple_ref a = tuples_[x.id - n];
        const auto b = entries(y, slot_b);
        merge_back(arena_.data() + a.offset, s, b.data(), t);
        push({a.offset, s + t, a.capacity, 0});
        return;
      }
      const std::size_t cap = std::min(k, std::bit_ceil(s + t));
      const std::size_t at = allocate(cap, x, y);
      const auto a = entries(x, slot_a);
      const auto b = entries(y, slot_b);
      std::merge(a.begin(), a.end(), b.begin(), b.end(), arena_.begin() + static_cast<std::ptrdiff_t>(at), before);
      push({at, s + t, cap, 0});
      return;
    }
    if (s == k && t == 1) {
      entries(y, slot_b);
      absorb_one(x, slot_b);
      return;
    }
    if (s == k) {  // A full: B's parts land on A's t smallest, merged back in place
      const auto a = entries(x, slot_a);
      const auto b = entries(y, slot_b);
      for (std::size_t j = 0; j < t; ++j) scratch_[j] = combine(a[k - 1 - j], b[j]);
      std::sort(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(t), before);
      merge_back(a.data(), k - t, scratch_.data(), t);
      push({static_cast<std::size_t>(a.data() - arena_.data()), k, k, 0});
      return;
    }
    // Overlapping, A not full: three-way merge into a fresh k-entry range.
    const std::size_t at = allocate(k, x, y);
    const auto a = entries(x, slot_a);
    const auto b = entries(y, slot_b);
    const std::size_t m = s + t - k;  // parts where both tuples hold items
    for (std::size_t i = k - t, j = 0; i < s; ++i, ++j) scratch_[j] = combine(a[i], b[k - 1 - i]);
    std::sort(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(m), before);
    // a[0, k-t) and b[0, k-s) are untouched and sorted.
    const auto mid_end = std::merge(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(k - t), b.begin(),
                                    b.begin() + static_cast<std::ptrdiff_t>(k - s), scratch2_.begin(), before);
    std::merge(scratch2_.begin(), mid_end, scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(m),
               arena_.begin() + static_cast<std::ptrdiff_t>(at), before);
    push({at, k, k, 0});
  }

  std::span<const cost_t> costs_;
  std::size_t k_;
  scratch_vector<index_type> order_;
  scratch_vector<index_type> next_;
  scratch_vector<entry> arena_;
  std::size_t bump_ = 0;
  scratch_vector<entry> scratch_, scratch2_;
  scratch_vector<tuple_ref> tuples_;
  scratch_vector<heap_node> heap_;
  std::size_t cursor_ = 0;
};
using karmarkar_karp_solver = basic_karmarkar_karp_solver<>;

}  // namespace fulcrum::detail
