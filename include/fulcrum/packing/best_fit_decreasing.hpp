// SPDX-License-Identifier: Apache-2.0
/// @file packing/best_fit_decreasing.hpp
/// Best-fit decreasing: sort items by size descending (ties: lower index first), then best fit
/// (fullest bin that fits; among equally full bins the lowest index; else a new bin).
///
/// Complexity: counting sort O(n + C) when C <= 4n + 65536 (else O(n log n)), then best fit over
/// remaining-room buckets (see best_fit.hpp): O(n log n + C) worst case. The bins are exactly the
/// textbook algorithm's. Guarantee: BFD <= 11/9 OPT + 6/9 (same bound as FFD).
/// For the same bin count in O(n + C) with bins that differ only in which of several equally full
/// bins receives an item, see histogram.hpp.
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
[[nodiscard]] packing best_fit_decreasing_impl(std::size_t n, SizeFn&& size, std::uint64_t capacity) {
  if (buckets_pay(n, capacity))
    return greedy_decreasing(
        n, size, capacity,
        [&](std::uint64_t min_size, std::size_t expected_bins) {
          return bucket_best_fit(capacity, min_size, expected_bins);
        },
        pack_algorithm::best_fit_decreasing);
  return greedy_decreasing(
      n, size, capacity,
      [&](std::uint64_t min_size, std::size_t) { return ordered_best_fit(capacity, min_size); },
      pack_algorithm::best_fit_decreasing);
}

}  // namespace detail

/// Best-fit decreasing over `sizes` (any contiguous range of unsigned integers). See file docs.
template <size_range R>
[[nodiscard]] packing best_fit_decreasing(const R& sizes, std::uint64_t capacity) {
  return detail::run_on_range("best_fit_decreasing", sizes, capacity, [](std::size_t n, auto size, std::uint64_t c) {
    return detail::best_fit_decreasing_impl(n, size, c);
  });
}

}  // namespace fulcrum
