// SPDX-License-Identifier: Apache-2.0
/// @file packing/first_fit.hpp
/// First fit: each item, in index order, goes to the lowest-index (earliest opened) bin it fits
/// in, or to a new bin.
///
/// Complexity O(n log B) time (B = bins <= n) with a tournament tree over the bins' remaining room
/// (descend to the leftmost leaf with room >= s), O(B) extra memory; the bins are exactly those
/// of the textbook O(n x B) scan. Guarantee: FF <= floor(1.7 OPT) (Dósa and Sgall 2013).
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
[[nodiscard]] packing first_fit_impl(std::size_t n, SizeFn&& size, std::uint64_t capacity) {
  first_fit_store store(capacity, n / 8);
  return greedy_in_index_order(n, size, capacity, store, pack_algorithm::first_fit);
}

}  // namespace detail

/// First fit over `sizes` (any contiguous range of unsigned integers). See file docs.
template <size_range R>
[[nodiscard]] packing first_fit(const R& sizes, std::uint64_t capacity) {
  return detail::run_on_range("first_fit", sizes, capacity,
                              [](std::size_t n, auto size, std::uint64_t c) { return detail::first_fit_impl(n, size, c); });
}

}  // namespace fulcrum
