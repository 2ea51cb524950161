// SPDX-License-Identifier: Apache-2.0
/// @file balance/detail/karmarkar_karp_equal.hpp
/// Karmarkar-Karp with equal item counts (the "equal size" variant verl uses).
///
/// Items in cost-descending order are cut into chunks of k (the last chunk padded with
/// zero-cost placeholders); each chunk is a full k-tuple with one item per part. Differencing
/// then only merges full tuples, pairing part i of one with part k-1-i of the other, so every
/// part receives exactly one entry of every chunk: floor(n/k) or ceil(n/k) real items.
/// Ties: entries by (sum desc, label asc) where the label is the smallest item index of the part
/// (placeholders get labels above every item); tuples by (difference desc, creation order).
/// O(n) radix sort + O((n/k) log(n/k)) heap + O(n log k) merging; memory O(n + k).
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

/// Sorts `v` by `before` (a strict total order): insertion sort on runs of 8, then bottom-up
/// merges whose steps do not branch on the comparison; `spare` is scratch of v's size.
/// O(k log k) for k = v.size().
template <class T, class Before>
void merge_sort_runs(scratch_vector<T>& v, scratch_vector<T>& spare, Before before) {
  const std::size_t n = v.size();
  // Runs of 8 by insertion first (short shifts), then branch-free merges of runs.
  constexpr std::size_t run = 8;
  for (std::size_t lo = 0; lo < n; lo += run) {
    const std::size_t hi = std::min(lo + run, n);
    for (std::size_t i = lo + 1; i < hi; ++i) {
      const T e = v[i];
      std::size_t j = i;
      for (; j > lo && before(e, v[j - 1]); --j) v[j] = v[j - 1];
      v[j] = e;
    }
  }
  T* src = v.data();
  T* dst = spare.data();
  for (std::size_t width = run; width < n; width *= 2) {
    for (std::size_t lo = 0; lo < n; lo += 2 * width) {
      const std::size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      std::size_t i = lo, j = mid, o = lo;
      while (i < mid && j < hi) {
        const bool take_right = before(src[j], src[i]);
        dst[o++] = take_right ? src[j] : src[i];
        j += take_right ? 1 : 0;
        i += take_right ? 0 : 1;
      }
      while (i < mid) dst[o++] = src[i++];
      while (j < hi) dst[o++] = src[j++];
    }
    std::swap(src, dst);
  }
  if (src != v.data()) std::copy(src, src + n, v.data());
}

/// `order`: the items by cost descending, ties by index (radix_order_descending(costs)).
template <class = void>
inline scratch_vector<index_type> karmarkar_karp_equal_counts(std::span<const cost_t> costs, std::size_t k,
                                                           std::span<const index_type> order) {
  constexpr index_type none = std::numeric_limits<index_type>::max();
  const std::size_t n = costs.size();
  scratch_vector<index_type> part_of(n, 0);
  if (n == 0 || k == 1) return part_of;
  struct entry {
    cost_t sum;
    std::size_t label;  // smallest item index (placeholders: n + slot)
    index_type head, tail;
  };
  // Sums are >= +0.0 (a -0.0 cost enters as +0.0, which no decision sees), so they compare like
  // their bit patterns: integer comparisons.
  const auto before = [](const entry& a, const entry& b) {
    const auto as = std::bit_cast<std::uint64_t>(a.sum), bs = std::bit_cast<std::uint64_t>(b.sum);
    return as > bs || (as == bs && a.label < b.label);
  };
  const std::size_t chunks = (n + k - 1) / k;
  scratch_vector<entry> pool(chunks * k);  // tuple t occupies pool[t*k, t*k + k): chunks are merged in place
  scratch_vector<index_type> next(n, none);
  for (std::size_t j = 0; j < chunks * k; ++j) {
    if (j + prefetch_distance < n) FULCRUM_PREFETCH(&costs[order[j + prefetch_distance]]);  // scattered reads
    if (j < n) {
      const index_type item = order[j];
      pool[j] = {costs[item] == 0 ? 0.0 : costs[item], item, item, item};
    } else {
      pool[j] = {0.0, n + j, none, none};
    }
  }
  // Chunks are already sorted (descending costs; placeholders last).
  struct node {
    cost_t diff;
    std::size_t id;    // creation order (chunks first)
    std::size_t slot;  // which pool range holds the tuple
  };
  const auto heap_less = [](const node& a, const node& b) {
    return a.diff < b.diff || (a.diff == b.diff && a.id > b.id);
  };
  scratch_vector<node> heap;
  heap.reserve(chunks);
  for (std::size_t t = 0; t < chunks; ++t) heap.push_back({pool[t * k].sum - pool[t * k + k - 1].sum, t, t});
  std::make_heap(heap.begin(), heap.end(), heap_less);
  std::size_t created = chunks;
  scratch_vector<entry> merged(k), spare(k);
  while (heap.size() > 1) {
    std::pop_heap(heap.begin(), heap.end(), heap_less);
    const node x = heap.back();
    heap.pop_back();
    std::pop_heap(heap.begin(), heap.end(), heap_less);
    const node y = heap.back();
    heap.pop_back();
    entry* a = pool.data() + x.slot * k;
    const entry* b = pool.data() + y.slot * k;
    for (std::size_t i = 0; i < k; ++i) {
      const entry& u = a[i];
      const entry& v = b[k - 1 - i];
      entry m{u.sum + v.sum, std::min(u.label, v.label), none, none};
      // Concatenate item lists (either may be empty), smaller label's list first.
      const entry& first = u.label < v.label ? u : v;
      const entry& second = u.label < v.label ? v : u;
      if (first.head == none) {
        m.head = second.head, m.tail = second.tail;
      } else if (second.head == none) {
        m.head = first.head, m.tail = first.tail;
      } else {
        next[first.tail] = second.head;
        m.head = first.head, m.tail = second.tail;
      }
      merged[i] = m;
    }
    // Sorted by `before` (a total order: labels are distinct, so any sort gives this order) with a
    // branch-free bottom-up merge sort: the merged sums are far from sorted as often as not
    // (an insertion sort needed more than 8k shifts in 70% of the merges on W1), and the
    // comparisons are coin flips to a branch predictor.
    merge_sort_runs(merged, spare, before);
    std::copy(merged.begin(), merged.end(), a);
    heap.push_back({a[0].sum - a[k - 1].sum, created++, x.slot});
    std::push_heap(heap.begin(), heap.end(), heap_less);
  }
  const entry* last = pool.data() + heap.front().slot * k;
  // The k item lists are walked side by side, one step of each per round: the list links are
  // scattered over memory, and k independent chains keep k loads in flight instead of one.
  scratch_vector<index_type> cursor(k);
  std::size_t live = 0;
  for (std::size_t p = 0; p < k; ++p)
    if (last[p].head != none) cursor[live++] = static_cast<index_type>(p);
  scratch_vector<index_type> at(k);
  for (std::size_t j = 0; j < live; ++j) at[j] = last[cursor[j]].head;
  while (live > 0) {
    std::size_t kept = 0;
    for (std::size_t j = 0; j < live; ++j) {
      const index_type i = at[j];
      part_of[i] = cursor[j];
      const index_type following = next[i];
      if (following != none) {
        at[kept] = following;
        cursor[kept++] = cursor[j];
      }
    }
    live = kept;
  }
  return part_of;
}

template <class = void>
inline scratch_vector<index_type> karmarkar_karp_equal_counts(std::span<const cost_t> costs, std::size_t k) {
  if (costs.empty() || k == 1) return scratch_vector<index_type>(costs.size(), 0);
  return karmarkar_karp_equal_counts(costs, k, radix_order_descending(costs));
}

}  // namespace fulcrum::detail
