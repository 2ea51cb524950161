// SPDX-License-Identifier: Apache-2.0
/// @file packing/next_fit.hpp
/// Next fit: keep one open bin; put each item (in index order) into it if it fits, otherwise
/// close it and open a new bin.
///
/// Complexity O(n) time, O(1) extra besides the result. Guarantee: NF <= 2 OPT - 1 (every two
/// consecutive bins hold more than C together), and NF <= 2 L1. Online and order-preserving:
/// bins are contiguous runs of the input, which keeps document order inside a pack.
/// Result: bins in opening order, items within a bin in index order, lower_bound = L2.
/// Sizes must be <= capacity (`infeasible` naming the item otherwise; pack() offers the
/// oversize policies); capacity 0 is `invalid_input`. Empty input gives 0 bins.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fulcrum/packing/detail/common.hpp"

namespace fulcrum {

namespace detail {

template <class SizeFn>
[[nodiscard]] packing next_fit_impl(std::size_t n, SizeFn&& size, std::uint64_t capacity) {
  std::vector<index_type> bin_of(n);
  std::vector<std::uint64_t> loads;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t s = size(i);
    if (loads.empty() || s > capacity - loads.back()) loads.push_back(s);
    else loads.back() += s;
    bin_of[i] = static_cast<index_type>(loads.size() - 1);
  }
  return make_packing(n, size, capacity, bin_of, std::move(loads), pack_algorithm::next_fit);
}

}  // namespace detail

/// Next fit over `sizes` (any contiguous range of unsigned integers). See file docs.
template <size_range R>
[[nodiscard]] packing next_fit(const R& sizes, std::uint64_t capacity) {
  return detail::run_on_range("next_fit", sizes, capacity,
                              [](std::size_t n, auto size, std::uint64_t c) { return detail::next_fit_impl(n, size, c); });
}

}  // namespace fulcrum
