// SPDX-License-Identifier: Apache-2.0
/// @file packing/first_fit_decreasing.hpp
/// First-fit decreasing: sort items by size descending (ties: lower index first), then first fit.
///
/// Complexity O(n log n) (a counting sort, O(n + C), when C <= 4n + 65536; then first fit with a
/// tournament tree, O(n log B)). The bins are exactly the textbook algorithm's.
/// Guarantee: FFD <= 11/9 OPT + 6/9 (Dósa 2007, tight).
/// Result: bins in opening order, items within a bin in index order, lower_bound = L2.
/// Sizes must be <= capacity (`infeasible` naming the item otherwise); capacity 0 is
/// `invalid_input`. Empty input gives 0 bins.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fulcrum/packing/detail/common.hpp"
#include "fulcrum/packing/detail/greedy.hpp"
#include "fulcrum/packing/detail/max_tree.hpp"

namespace fulcrum {

namespace detail {

template <class SizeFn>
[[nodiscard]] packing first_fit_decreasing_impl(std::size_t n, SizeFn&& size, std::uint64_t capacity) {
  return greedy_decreasing(
      n, size, capacity,
      [&](std::uint64_t, std::size_t expected_bins) {
        return first_fit_store(capacity, expected_bins != 0 ? expected_bins : n / 8);
      },
      pack_algorithm::first_fit_decreasing);
}

}  // namespace detail

/// First-fit decreasing over `sizes` (any contiguous range of unsigned integers). See file docs.
template <size_range R>
[[nodiscard]] packing first_fit_decreasing(const R& sizes, std::uint64_t capacity) {
  return detail::run_on_range("first_fit_decreasing", sizes, capacity, [](std::size_t n, auto size, std::uint64_t c) {
    return detail::first_fit_decreasing_impl(n, size, c);
  });
}

}  // namespace fulcrum
