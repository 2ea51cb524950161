// SPDX-License-Identifier: Apache-2.0
/// @file cuda/karmarkar_karp.cuh
/// k-way Karmarkar-Karp (largest differencing) on the GPU: one problem, or a batch of many
/// independent problems at once, each bit-identical to fulcrum::karmarkar_karp
/// (balance/karmarkar_karp.hpp) for that problem.
///
/// What (the CPU's exact semantics): every item is a partial solution (k part sums, the item in
/// one part). Repeatedly the two partial solutions with the largest difference (max - min; a
/// tuple with fewer than k stored parts has min 0) are joined, heaviest part of the first with the
/// lightest of the second; ties: larger difference first, then the smaller id (singletons by rank
/// in cost-descending, index-ascending order come before tuples, tuples by creation order); the
/// tuple with more stored parts is "A" (ties: the first popped); parts inside a tuple are ordered
/// by sum descending, then smallest item index. Part p of the result is the p-th heaviest part of
/// the last tuple. Loads (index order), makespan and the sound lower bound as the CPU.
/// How: the device radix sort gives each problem's singleton order (as for LPT); then one block per
/// problem runs the differencing sequentially on sparse sorted tuples in a per-problem arena
/// (4n + 2k entries, compacted when full), a binary heap of (difference, id) and item lists.
/// Complexity per problem: O(n log n + n k log k) worst case, O(n (log n + log k)) typical
/// (n >> k); memory O(n + k) per problem (~112 bytes per item). Problems run in parallel.
/// Guarantee: <= 7/6 OPT for k = 2, <= 4/3 - 1/(3k) for k >= 3 (as the CPU; same plan).
#pragma once

#include "fulcrum/cuda/detail/check.cuh"  // first: configuration (nvcc / host backend) before Thrust

#include <thrust/device_vector.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/cuda/cost.cuh"
#include "fulcrum/cuda/detail/batched_launch.cuh"
#include "fulcrum/cuda/detail/runtime.cuh"
#include "fulcrum/cuda/detail/sort.cuh"
#include "fulcrum/cuda/lpt.cuh"
#include "fulcrum/cuda/policy.cuh"

namespace fulcrum::cuda {

namespace detail {

struct kk_entry {
  cost_t sum;
  index_type head;  // smallest item index of the part; the list continues via next[]
  index_type tail;
};
struct kk_tuple {
  std::size_t offset;
  std::size_t size;
  std::size_t capacity;
};
struct kk_node {
  cost_t diff;
  std::size_t id;  // singletons: rank in cost order (< n); tuples: n + creation number
};

// Entry order inside a tuple: larger sum first, ties by smaller head item.
FULCRUM_HD inline bool kk_before(const kk_entry& a, const kk_entry& b) {
  return a.sum > b.sum || (a.sum == b.sum && a.head < b.head);
}
// Heap order: larger difference first, ties by smaller id.
FULCRUM_HD inline bool kk_heap_less(const kk_node& a, const kk_node& b) {
  return a.diff < b.diff || (a.diff == b.diff && a.id > b.id);
}

/// In-place heapsort of e[0, len) into kk_before order (a strict total order, so any correct
/// sort gives the CPU's sequence).
FULCRUM_HD inline void kk_sort(kk_entry* e, std::size_t len) {
  // max-heap by "after" so the sorted array ends up in kk_before order
  auto sift = [e](std::size_t at, std::size_t size) {
    const kk_entry moving = e[at];
    while (true) {
      std::size_t child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && kk_before(e[child], e[child + 1])) ++child;
      if (!kk_before(moving, e[child])) break;
      e[at] = e[child];
      at = child;
    }
    e[at] = moving;
  };
  if (len < 2) return;
  for (std::size_t i = len / 2; i-- > 0;) sift(i, len);
  for (std::size_t end = len; end-- > 1;) {
    const kk_entry top = e[0];
    e[0] = e[end];
    e[end] = top;
    sift(0, end);
  }
}

/// Merges sorted a[0, la) and b[0, lb) into out (kk_before order).
FULCRUM_HD inline void kk_merge(const kk_entry* a, std::size_t la, const kk_entry* b, std::size_t lb, kk_entry* out) {
  std::size_t i = 0, j = 0, o = 0;
  while (i < la && j < lb) out[o++] = kk_before(b[j], a[i]) ? b[j++] : a[i++];
  while (i < la) out[o++] = a[i++];
  while (j < lb) out[o++] = b[j++];
}

/// Merges sorted add[0, t) into sorted a[0, len) in place (a has room for len + t), from the back.
FULCRUM_HD inline void kk_merge_back(kk_entry* a, std::size_t len, const kk_entry* add, std::size_t t) {
  std::size_t end = len;
  for (std::size_t j = t; j-- > 0;) {
    const kk_entry moving = add[j];
    std::size_t lo = 0, hi = end;  // upper_bound: first position whose entry comes after `moving`
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (kk_before(moving, a[mid])) hi = mid;
      else lo = mid + 1;
    }
    for (std::size_t q = end; q-- > lo;) a[q + j + 1] = a[q];
    a[lo + j] = moving;
    end = lo;
  }
}

FULCRUM_HD inline std::size_t kk_bit_ceil(std::size_t x) {
  std::size_t p = 1;
  while (p < x) p <<= 1;
  return p;
}

/// The differencing of one problem (one thread). Scratch regions are per problem.
struct kk_problem {
  const cost_t* costs;
  const index_type* order;
  const std::size_t* offsets;
  std::size_t k;
  index_type* part_of;
  cost_t* loads;
  cost_t* makespan;
  cost_t* lower_bound;
  kk_entry* arena;      // 4*offsets[p] + 2k*p, size 4n_p + 2k
  kk_entry* scratch;    // 2k*p, size 2k
  index_type* next;     // global item index
  kk_tuple* tuples;     // offsets[p], size n_p
  kk_node* heap;        // offsets[p], size n_p
  std::size_t* live;    // offsets[p] + 2p, size n_p + 2

  struct handle {
    std::size_t id;
    std::size_t size;
  };

  struct state {
    const kk_problem& d;
    std::size_t begin, n, k;
    kk_entry* arena;
    std::size_t arena_size, bump = 0;
    kk_entry* scratch;   // k entries
    kk_entry* scratch2;  // k entries
    kk_tuple* tuples;
    std::size_t tuple_count = 0;
    kk_node* heap;
    std::size_t heap_size = 0;
    std::size_t* live;
    std::size_t cursor = 0;

    FULCRUM_HD index_type item(std::size_t rank) const { return d.order[begin + rank]; }

    FULCRUM_HD void heap_push(kk_node node) {
      std::size_t at = heap_size++;
      while (at > 0) {
        const std::size_t parent = (at - 1) / 2;
        if (!kk_heap_less(heap[parent], node)) break;
        heap[at] = heap[parent];
        at = parent;
      }
      heap[at] = node;
    }
    FULCRUM_HD kk_node heap_pop() {
      const kk_node top = heap[0];
      const kk_node moving = heap[--heap_size];
      std::size_t at = 0;
      while (true) {
        std::size_t child = 2 * at + 1;
        if (child >= heap_size) break;
        if (child + 1 < heap_size && kk_heap_less(heap[child], heap[child + 1])) ++child;
        if (!kk_heap_less(moving, heap[child])) break;
        heap[at] = heap[child];
        at = child;
      }
      if (heap_size > 0) heap[at] = moving;
      return top;
    }

    FULCRUM_HD handle pop() {
      const bool take_singleton =
          cursor < n && (heap_size == 0 || !kk_heap_less(kk_node{d.costs[item(cursor)], cursor}, heap[0]));
      if (take_singleton) {
        const std::size_t id = cursor++;
        return {id, 1};
      }
      const std::size_t id = heap_pop().id;
      return {id, tuples[id - n].size};
    }

    // Entries of a handle (singletons live in `slot`).
    FULCRUM_HD kk_entry* entries(const handle& h, kk_entry& slot) {
      if (h.id < n) {
        const index_type i = item(h.id);
        slot = kk_entry{d.costs[i], i, i};
        return &slot;
      }
      return arena + tuples[h.id - n].offset;
    }

    FULCRUM_HD kk_entry combine(const kk_entry& a, const kk_entry& b) {
      if (a.head < b.head) {
        d.next[a.tail] = b.head;
        return kk_entry{a.sum + b.sum, a.head, b.tail};
      }
      d.next[b.tail] = a.head;
      return kk_entry{a.sum + b.sum, b.head, a.tail};
    }

    // Reserves `cap` arena entries, compacting the live tuples (heap + the two being merged) first
    // when the arena is full.
    FULCRUM_HD std::size_t allocate(std::size_t cap, const handle& x, const handle& y) {
      if (bump + cap > arena_size) {
        std::size_t count = 0;
        for (std::size_t h = 0; h < heap_size; ++h) live[count++] = heap[h].id - n;
        if (x.id >= n) live[count++] = x.id - n;
        if (y.id >= n) live[count++] = y.id - n;
        // heapsort live[] by arena offset (offsets are distinct)
        auto sift = [this](std::size_t at, std::size_t size) {
          const std::size_t moving = live[at];
          while (true) {
            std::size_t child = 2 * at + 1;
            if (child >= size) break;
            if (child + 1 < size && tuples[live[child]].offset < tuples[live[child + 1]].offset) ++child;
            if (!(tuples[moving].offset < tuples[live[child]].offset)) break;
            live[at] = live[child];
            at = child;
          }
          live[at] = moving;
        };
        for (std::size_t i = count / 2; i-- > 0;) sift(i, count);
        for (std::size_t end = count; end-- > 1;) {
          const std::size_t top = live[0];
          live[0] = live[end];
          live[end] = top;
          sift(0, end);
        }
        std::size_t to = 0;
        for (std::size_t l = 0; l < count; ++l) {
          kk_tuple& t = tuples[live[l]];
          for (std::size_t e = 0; e < t.size; ++e) arena[to + e] = arena[t.offset + e];
          t.offset = to;
          to += t.capacity;
        }
        bump = to;
      }
      const std::size_t at = bump;
      bump += cap;
      return at;
    }

    FULCRUM_HD void push(const kk_tuple& t) {
      const kk_entry* e = arena + t.offset;
      const cost_t diff = t.size < k ? e[0].sum : e[0].sum - e[t.size - 1].sum;
      tuples[tuple_count++] = t;
      heap_push(kk_node{diff, n + tuple_count - 1});
    }

    FULCRUM_HD void merge(handle x, handle y) {
      if (y.size > x.size) {  // A = the tuple with more stored parts (ties: the first popped)
        const handle t = x;
        x = y;
        y = t;
      }
      const std::size_t s = x.size, t = y.size;
      kk_entry slot_a{}, slot_b{};
      if (s + t <= k) {  // disjoint: sorted union
        if (x.id >= n && tuples[x.id - n].capacity >= s + t) {
          const kk_tuple a = tuples[x.id - n];
          const kk_entry* b = entries(y, slot_b);
          kk_merge_back(arena + a.offset, s, b, t);
          push(kk_tuple{a.offset, s + t, a.capacity});
          return;
        }
        const std::size_t cap = k < kk_bit_ceil(s + t) ? k : kk_bit_ceil(s + t);
        const std::size_t at = allocate(cap, x, y);
        const kk_entry* a = entries(x, slot_a);
        const kk_entry* b = entries(y, slot_b);
        kk_merge(a, s, b, t, arena + at);
        push(kk_tuple{at, s + t, cap});
        return;
      }
      if (s == k) {  // A full: B's parts land on A's t smallest, merged back in place
        kk_entry* a = entries(x, slot_a);
        const kk_entry* b = entries(y, slot_b);
        for (std::size_t j = 0; j < t; ++j) scratch[j] = combine(a[k - 1 - j], b[j]);
        kk_sort(scratch, t);
        kk_merge_back(a, k - t, scratch, t);
        push(kk_tuple{static_cast<std::size_t>(a - arena), k, k});
        return;
      }
      // Overlapping, A not full: three-way merge into a fresh k-entry range.
      const std::size_t at = allocate(k, x, y);
      const kk_entry* a = entries(x, slot_a);
      const kk_entry* b = entries(y, slot_b);
      const std::size_t m = s + t - k;
      for (std::size_t i = k - t, j = 0; i < s; ++i, ++j) scratch[j] = combine(a[i], b[k - 1 - i]);
      kk_sort(scratch, m);
      kk_merge(a, k - t, b, k - s, scratch2);
      kk_merge(scratch2, (k - t) + (k - s), scratch, m, arena + at);
      push(kk_tuple{at, k, k});
    }
  };

  FULCRUM_HD void operator()(std::size_t p, void*) const {
    const std::size_t begin = offsets[p], end = offsets[p + 1], n = end - begin;
    for (std::size_t i = begin; i < end; ++i) part_of[i] = 0;
    if (n > 1 && k > 1) {
      state st{*this, begin, n, k, arena + 4 * begin + 2 * k * p, 4 * n + 2 * k, 0, scratch + 2 * k * p,
               scratch + 2 * k * p + k, tuples + begin, 0, heap + begin, 0, live + begin + 2 * p, 0};
      for (std::size_t i = begin; i < end; ++i) next[i] = std::numeric_limits<index_type>::max();
      while ((n - st.cursor) + st.heap_size > 1) {
        const handle x = st.pop();
        const handle y = st.pop();
        st.merge(x, y);
      }
      const kk_tuple& last = st.tuples[st.heap[0].id - n];
      for (std::size_t q = 0; q < last.size; ++q)
        for (index_type i = st.arena[last.offset + q].head; i != std::numeric_limits<index_type>::max(); i = next[i])
          part_of[i] = static_cast<index_type>(q);
    }
    summarize_problem(costs, order, begin, end, k, part_of, loads + p * k, makespan + p, lower_bound + p);
  }
};

inline void batched_karmarkar_karp_into(const execution_policy& policy, device_span<const cost_t> costs,
                                        std::span<const std::size_t> offsets, std::size_t k, index_type* part_of,
                                        cost_t* loads, cost_t* makespan, cost_t* lower_bound, std::string_view where) {
  const std::size_t n = costs.size();
  const staged_problems staged(policy, costs, offsets, where);
  const std::size_t problems = staged.problems;
  const std::size_t arena_entries = checked_add(checked_mul(4, n, "items"), checked_mul(2 * k, problems, "k*problems"));
  buffer<kk_entry> arena(policy, arena_entries);
  buffer<kk_entry> scratch(policy, checked_mul(2 * k, problems, "k*problems"));
  buffer<index_type> next(policy, n);
  buffer<kk_tuple> tuples(policy, n);
  buffer<kk_node> heap(policy, n);
  buffer<std::size_t> live(policy, n + 2 * problems);
  const kk_problem solve{
      costs.data(), staged.order.data(), staged.offsets.data(), k,           part_of,       loads,       makespan,
      lower_bound,  arena.data(),        scratch.data(),        next.data(), tuples.data(), heap.data(), live.data()};
  for_each_problem(policy, problems, 0, solve, "fulcrum::cuda::karmarkar_karp");
  policy.synchronize(where);
}

}  // namespace detail

/// Karmarkar-Karp of one problem on device costs; bit-identical to fulcrum::karmarkar_karp(costs, k).
/// Throws invalid_input like the CPU (k == 0, NaN/infinite/negative cost: same messages).
[[nodiscard]] inline device_partition karmarkar_karp(const execution_policy& policy, device_span<const cost_t> costs,
                                                     std::size_t k) {
  return detail::solve_one<device_partition>(policy, costs, k, "karmarkar_karp", detail::batched_karmarkar_karp_into);
}

/// Batched Karmarkar-Karp: problem p is costs[offsets[p] .. offsets[p+1]) onto k parts; each
/// result equals fulcrum::karmarkar_karp on that slice. `offsets` as for batched_lpt.
[[nodiscard]] inline batched_partition batched_karmarkar_karp(const execution_policy& policy,
                                                              device_span<const cost_t> costs,
                                                              std::span<const std::size_t> offsets, std::size_t k) {
  return detail::solve_batch<batched_partition>(policy, costs, offsets, k, "batched_karmarkar_karp",
                                                detail::batched_karmarkar_karp_into);
}

/// Batched Karmarkar-Karp over equal-sized problems (costs.size() a multiple of problem_size).
[[nodiscard]] inline batched_partition batched_karmarkar_karp(const execution_policy& policy,
                                                              device_span<const cost_t> costs, std::size_t problem_size,
                                                              std::size_t k) {
  const auto offsets = detail::equal_offsets("batched_karmarkar_karp", costs.size(), problem_size);
  return batched_karmarkar_karp(policy, costs, std::span<const std::size_t>(offsets), k);
}

}  // namespace fulcrum::cuda
