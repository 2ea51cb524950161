// SPDX-License-Identifier: Apache-2.0
/// @file packing/histogram.hpp
/// Histogram packing: best-fit decreasing run on the size histogram, O(n + C), for integer sizes
/// bounded by a moderate capacity (token counts). `pack_algorithm::automatic` picks it when it
/// applies. It gives the SAME NUMBER OF BINS AND THE SAME MULTISET OF BIN LOADS as
/// best_fit_decreasing (tested), and is 3-6x faster.
///
/// Exact semantics (the reference for the GPU mirror, which must match it bit for bit):
///  1. Items are visited by size descending, ties by lower index first (counting sort).
///  2. Each item of size s goes to an open bin whose remaining room r is the least room >= s.
///     Among the open bins with that same room r, it goes to the one that entered room r most
///     recently (last in, first out), where "entering room r" means being opened with room r or
///     receiving an item that left it with room r. If no open bin has room >= s, a new bin is
///     opened; bins are numbered 0, 1, 2, ... in opening order.
///  3. Bins are listed in opening order; the items of a bin in increasing index order;
///     loads[b] = sum of the sizes in bin b; lower_bound = L2 (from the same histogram).
/// Best-fit decreasing differs only in rule 2's tie (it takes the lowest-index bin among equally
/// full ones). Because bins with equal room are interchangeable for every later decision, the
/// multiset of rooms evolves identically under either tie rule, hence the equal bin count and
/// load multiset; the bins' contents can differ.
///
/// Complexity: O(n + C) time with O(log_64 C) <= 4 word operations per item (64-ary successor
/// bitmap over the non-empty room buckets; each bucket is an intrusive stack). Memory beyond the
/// result: 4 bytes per item (the placement of each item in sorted order) + O(C + bins); the
/// result itself is 4 bytes per item + 16 bytes per bin. Applies when C <= 2^26; above that (or
/// when C > 8n + 2^20, where O(C) would dominate) the same rule runs over a balanced tree of rooms
/// in O(n log n) with identical output.
/// Sizes must be <= capacity (`infeasible` naming the item otherwise); capacity 0 is
/// `invalid_input`. Empty input gives 0 bins.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "fulcrum/core/grouping.hpp"
#include "fulcrum/packing/bounds.hpp"
#include "fulcrum/packing/detail/best_fit_bins.hpp"
#include "fulcrum/packing/detail/common.hpp"
#include "fulcrum/packing/detail/successor_bitmap.hpp"

namespace fulcrum {

namespace detail {

/// Whether the O(n + C) histogram path applies.
[[nodiscard]] inline bool histogram_applies(std::size_t n, std::uint64_t capacity) noexcept {
  return capacity <= (std::uint64_t{1} << 26) && capacity <= 8 * static_cast<std::uint64_t>(n) + (std::uint64_t{1} << 20);
}

/// Rule 2's bin store over buckets: heads_[r] is the stack of bins with room r.
class lifo_buckets {
 public:
  lifo_buckets(std::uint64_t capacity, std::uint64_t min_size, std::size_t expected_bins)
      : min_size_(min_size), heads_(static_cast<std::size_t>(capacity) + 1, no_bin), nonempty_(capacity + 1) {
    below_.reserve(expected_bins);
  }
  std::pair<index_type, std::uint64_t> take(std::uint64_t s) {
    const std::size_t r = nonempty_.next(static_cast<std::size_t>(s));
    if (r == successor_bitmap::none) return {no_bin, 0};
    const index_type b = heads_[r];
    heads_[r] = below_[b];
    if (heads_[r] == no_bin) nonempty_.erase(r);
    return {b, r};
  }
  void put(index_type b, std::uint64_t room) {
    if (b >= below_.size()) below_.resize(static_cast<std::size_t>(b) + 1);
    if (room < min_size_) return;  // can never receive an item again
    const auto r = static_cast<std::size_t>(room);
    below_[b] = heads_[r];
    if (heads_[r] == no_bin) nonempty_.insert(r);
    heads_[r] = b;
  }

 private:
  std::uint64_t min_size_;
  std::vector<index_type> heads_;
  successor_bitmap nonempty_;
  std::vector<index_type> below_;  // next bin down the same stack
};

/// Rule 2's bin store for any capacity: room -> stack of bins.
class lifo_map {
 public:
  explicit lifo_map(std::uint64_t min_size) : min_size_(min_size) {}
  std::pair<index_type, std::uint64_t> take(std::uint64_t s) {
    const auto it = stacks_.lower_bound(s);
    if (it == stacks_.end()) return {no_bin, 0};
    const std::uint64_t r = it->first;
    const index_type b = it->second.back();
    it->second.pop_back();
    if (it->second.empty()) stacks_.erase(it);
    return {b, r};
  }
  void put(index_type b, std::uint64_t room) {
    if (room >= min_size_) stacks_[room].push_back(b);
  }

 private:
  std::uint64_t min_size_;
  std::map<std::uint64_t, std::vector<index_type>> stacks_;
};

/// One placement under rule 2; returns the bin.
template <class Store>
index_type histogram_place(Store& store, std::uint64_t s, std::uint64_t capacity, std::vector<std::uint64_t>& loads) {
  auto [b, room] = store.take(s);
  if (b == no_bin) {
    b = static_cast<index_type>(loads.size());
    loads.push_back(s);
    room = capacity;
  } else {
    loads[b] += s;
  }
  store.put(b, room - s);
  return b;
}

template <class SizeFn>
[[nodiscard]] packing histogram_impl(std::size_t n, SizeFn&& size, std::uint64_t capacity) {
  packing result;
  result.algorithm = pack_algorithm::histogram;
  if (n == 0) {
    result.proven_optimal = true;
    return result;
  }
  std::uint64_t min_size = std::numeric_limits<std::uint64_t>::max();
  std::vector<std::uint64_t> loads;
  if (!histogram_applies(n, capacity)) {
    // Same rule over an ordered map (identical output, O(n log n)).
    for (std::size_t i = 0; i < n; ++i) min_size = std::min(min_size, size(i));
    const std::vector<index_type> order = decreasing_order(n, size, capacity);
    std::vector<index_type> bin_of(n);
    lifo_map store(min_size);
    for (const index_type i : order) bin_of[i] = histogram_place(store, size(i), capacity, loads);
    return make_packing(n, size, capacity, bin_of, std::move(loads), pack_algorithm::histogram);
  }
  const auto c = static_cast<std::size_t>(capacity);
  // 1. Histogram and L2.
  std::vector<std::uint64_t> count(c + 1, 0);
  for (std::size_t i = 0; i < n; ++i) ++count[static_cast<std::size_t>(size(i))];
  result.lower_bound = lower_bound_l2_counts(count, capacity);
  for (std::size_t s = 0; s <= c; ++s)
    if (count[s] != 0) {
      min_size = s;
      break;
    }
  // 2. Simulate rule 2 size class by size class; placement[k] = bin of the k-th item in sorted order.
  std::vector<index_type> placement(n);
  loads.reserve(static_cast<std::size_t>(result.lower_bound) + result.lower_bound / 16 + 16);
  {
    lifo_buckets store(capacity, min_size, loads.capacity());
    std::size_t k = 0;
    for (std::size_t s = c + 1; s-- > 0;)
      for (std::uint64_t j = 0; j < count[s]; ++j) placement[k++] = histogram_place(store, s, capacity, loads);
  }
  // 3. CSR: offsets[b + 1] first counts bin b's items, then becomes its write cursor.
  const std::size_t bins = loads.size();
  std::vector<std::size_t> offsets(bins + 1, 0);
  for (const index_type b : placement) ++offsets[static_cast<std::size_t>(b) + 1];
  for (std::size_t b = 0, running = 0; b < bins; ++b) {
    const std::size_t items = offsets[b + 1];
    offsets[b + 1] = running;
    running += items;
  }
  // cursor per size: position in `placement` of the next item of that size (sizes descending).
  for (std::size_t s = c + 1, running = 0; s-- > 0;) {
    const std::uint64_t items = count[s];
    count[s] = running;
    running += static_cast<std::size_t>(items);
  }
  std::vector<index_type> indices(n);
  for (std::size_t i = 0; i < n; ++i) {
    const index_type b = placement[static_cast<std::size_t>(count[static_cast<std::size_t>(size(i))]++)];
    indices[offsets[static_cast<std::size_t>(b) + 1]++] = static_cast<index_type>(i);
  }
  std::vector<index_type>().swap(placement);
  result.bins = grouping(std::move(offsets), std::move(indices));
  result.loads = std::move(loads);
  result.proven_optimal = result.bins.size() == result.lower_bound;
  return result;
}

}  // namespace detail

/// Histogram packing over `sizes` (any contiguous range of unsigned integers). See file docs.
template <size_range R>
[[nodiscard]] packing histogram_pack(const R& sizes, std::uint64_t capacity) {
  return detail::run_on_range("histogram_pack", sizes, capacity,
                              [](std::size_t n, auto size, std::uint64_t c) { return detail::histogram_impl(n, size, c); });
}

}  // namespace fulcrum
