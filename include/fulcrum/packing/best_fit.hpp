// SPDX-License-Identifier: Apache-2.0
/// @file packing/best_fit.hpp
/// Best fit: each item, in index order, goes to the fullest bin it fits in (least remaining room
/// >= its size; among equally full bins the lowest index), or to a new bin.
///
/// Complexity: when C <= 2^24 and C <= 8n + 65536, buckets by remaining room (a 64-ary successor
/// bitmap finds the fullest bin that fits in <= 4 word operations; each bucket is a pairing heap
/// of bin indices for the lowest-index tie rule), O(n log n + C) worst case and near O(n + C) in
/// practice; otherwise a balanced tree of (room, bin), O(n log B). The bins are exactly those of
/// the textbook O(n x B) scan. Guarantee: BF <= floor(1.7 OPT) (Dósa and Sgall 2014).
/// Result: bins in opening order, items within a bin in index order, lower_bound = L2.
/// Sizes must be <= capacity (`infeasible` naming the item otherwise); capacity 0 is
/// `invalid_input`. Empty input gives 0 bins.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fulcrum/packing/detail/common.hpp"
#include "fulcrum/packing/detail/best_fit_bins.hpp"
#include "fulcrum/packing/detail/greedy.hpp"

namespace fulcrum {

namespace detail {

template <class SizeFn>
[[nodiscard]] packing best_fit_impl(std::size_t n, SizeFn&& size, std::uint64_t capacity) {
  const std::uint64_t min_size = min_size_of(n, size);
  if (buckets_pay(n, capacity)) {
    bucket_best_fit store(capacity, min_size, n / 8);
    return greedy_in_index_order(n, size, capacity, store, pack_algorithm::best_fit);
  }
  ordered_best_fit store(capacity, min_size);
  return greedy_in_index_order(n, size, capacity, store, pack_algorithm::best_fit);
}

}  // namespace detail

/// Best fit over `sizes` (any contiguous range of unsigned integers). See file docs.
template <size_range R>
[[nodiscard]] packing best_fit(const R& sizes, std::uint64_t capacity) {
  return detail::run_on_range("best_fit", sizes, capacity,
                              [](std::size_t n, auto size, std::uint64_t c) { return detail::best_fit_impl(n, size, c); });
}

}  // namespace fulcrum
