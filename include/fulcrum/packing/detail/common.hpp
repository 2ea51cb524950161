// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/common.hpp
/// Internals shared by the one-dimensional packers: input validation, the decreasing order
/// (size descending, ties by lower index first) and assembling a `packing` from an item -> bin
/// assignment.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <ranges>
#include <span>
#include <type_traits>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/bounds.hpp"
#include "fulcrum/packing/packing.hpp"

namespace fulcrum {

/// A contiguous range of unsigned integer sizes (std::vector<std::uint32_t>, std::span<const
/// std::uint64_t>, ...): what the one-dimensional packers take directly, without copying.
template <class R>
concept size_range = std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
                     std::unsigned_integral<std::remove_cv_t<std::ranges::range_value_t<R>>> &&
                     !std::same_as<std::remove_cv_t<std::ranges::range_value_t<R>>, bool>;

namespace detail {

/// The span view of a size_range.
template <size_range R>
[[nodiscard]] auto size_span(const R& r) {
  using T = std::remove_cv_t<std::ranges::range_value_t<R>>;
  return std::span<const T>(std::ranges::data(r), std::ranges::size(r));
}

/// Checks capacity > 0, n addressable by index_type and every size <= capacity
/// (`infeasible` naming the first oversize item otherwise).
template <class T>
void validate_sizes(const char* where, std::span<const T> sizes, std::uint64_t capacity) {
  if (capacity == 0) throw invalid_input(describe(where, "capacity", capacity, "must be positive"));
  if (sizes.size() > std::numeric_limits<index_type>::max())
    throw invalid_input(describe(where, "items", sizes.size(), "more items than index_type can address"));
  if (capacity >= std::numeric_limits<T>::max()) return;  // nothing of type T can exceed it
  for (std::size_t i = 0; i < sizes.size(); ++i)
    if (static_cast<std::uint64_t>(sizes[i]) > capacity)
      throw infeasible(describe(where, "sizes", i, static_cast<std::uint64_t>(sizes[i]),
                                "exceeds the bin capacity (use oversize::truncate or own_bin via pack())"));
}

/// Whether a counting sort over sizes 0..capacity is linear in n: C <= 4n + 65536.
template <class = void>
[[nodiscard]] inline bool counting_pays(std::size_t n, std::uint64_t capacity) noexcept {
  return capacity <= 4 * static_cast<std::uint64_t>(n) + 65536;
}

/// Item indices ordered by size descending, ties by lower index first. Counting sort, O(n + C),
/// when that is linear; otherwise a comparison sort, O(n log n). Sizes must be <= capacity.
template <class SizeFn>
[[nodiscard]] std::vector<index_type> decreasing_order(std::size_t n, SizeFn&& size, std::uint64_t capacity) {
  std::vector<index_type> order(n);
  if (counting_pays(n, capacity)) {
    // start[C - s] = position of the first item of size s: sizes descending, stable.
    std::vector<std::size_t> start(static_cast<std::size_t>(capacity) + 2, 0);
    for (std::size_t i = 0; i < n; ++i) ++start[static_cast<std::size_t>(capacity - size(i)) + 1];
    for (std::size_t k = 1; k < start.size(); ++k) start[k] += start[k - 1];
    for (std::size_t i = 0; i < n; ++i)
      order[start[static_cast<std::size_t>(capacity - size(i))]++] = static_cast<index_type>(i);
    return order;
  }
  std::vector<std::uint64_t> key(n);
  for (std::size_t i = 0; i < n; ++i) {
    key[i] = size(i);
    order[i] = static_cast<index_type>(i);
  }
  std::sort(order.begin(), order.end(),
            [&](index_type a, index_type b) { return key[a] != key[b] ? key[a] > key[b] : a < b; });
  return order;
}

/// Assembles a packing from bin_of[i] (the bin of item i, bins numbered by opening order) and the
/// bin loads. Items within a bin are listed in increasing index order. lower_bound = L2.
template <class SizeFn>
[[nodiscard]] packing make_packing(std::size_t n, SizeFn&& size, std::uint64_t capacity,
                                   const std::vector<index_type>& bin_of, std::vector<std::uint64_t> loads,
                                   pack_algorithm algorithm) {
  packing p;
  p.bins = grouping::from_assignment(std::span<const index_type>(bin_of), loads.size());
  p.loads = std::move(loads);
  p.lower_bound = lower_bound_l2_fn(n, size, capacity);
  p.proven_optimal = p.bins.size() == p.lower_bound;
  p.algorithm = algorithm;
  return p;
}

/// Runs `algo(n, size, capacity)` on a validated size_range.
template <class R, class Algo>
[[nodiscard]] packing run_on_range(const char* where, const R& sizes, std::uint64_t capacity, Algo&& algo) {
  const auto s = size_span(sizes);
  validate_sizes(where, s, capacity);
  return algo(s.size(), [s](std::size_t i) { return static_cast<std::uint64_t>(s[i]); }, capacity);
}

}  // namespace detail
}  // namespace fulcrum
