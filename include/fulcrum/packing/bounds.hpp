// SPDX-License-Identifier: Apache-2.0
/// @file packing/bounds.hpp
/// Lower bounds on the number of bins for one-dimensional bin packing.
///
/// - `lower_bound_l1(sizes, C)` = ceil(sum / C), O(n). The continuous (volume) bound.
/// - `lower_bound_l2(sizes, C)`: Martello and Toth's L2 (1990), O(n log n), or O(n + C) by
///   counting when the capacity is small compared with n (C <= 4n + 4096). For a threshold alpha
///   in [0, C/2] let
///     J1 = { i : s_i > C - alpha }                     (nothing else of size >= alpha fits beside them)
///     J2 = { i : C/2 < s_i <= C - alpha }              (one per bin, with free room C - s_i)
///     J3 = { i : alpha <= s_i <= C/2 }                 (must use J2's free room or new bins)
///     L(alpha) = |J1| + |J2| + max(0, ceil((sum J3 - (|J2| C - sum J2)) / C))
///   and L2 = max over alpha of L(alpha). L(0) >= L1, so L2 >= L1 on inputs with every size <= C.
///   Only alpha = 0 and the distinct sizes <= C/2 can attain the maximum; we evaluate those.
/// - `lower_bound_l2_counts(count, C, oversize)`: the same L2 from a histogram count[s] (s = 0..C),
///   O(C); used by the histogram packer, which already has the histogram.
///
/// Preconditions and conventions (documented, not errors):
/// - capacity == 0 throws `invalid_input`.
/// - L2 assumes sizes <= capacity. An item larger than the capacity is counted as needing one bin
///   of its own (the `oversize::own_bin` semantics) and is otherwise ignored, so the bound stays
///   valid for a packing that places such items alone.
/// - A non-empty input needs at least one bin even when every size is 0, so L2 >= 1 when n > 0;
///   an empty input gives 0. (L1 is the pure volume bound and is 0 for all-zero sizes.)
/// - Sums are accumulated in 128 bits: no overflow for any n < 2^64 and sizes < 2^64.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/wide_int.hpp"

namespace fulcrum {

namespace detail {

using u128 = uint128;

inline void require_capacity(const char* where, std::uint64_t capacity) {
  if (capacity == 0) throw invalid_input(describe(where, "capacity", capacity, "must be positive"));
}

/// ceil(a / c) for a 128-bit numerator, checked to fit in 64 bits.
inline std::uint64_t ceil_div_u128(u128 a, std::uint64_t c, const char* where) {
  const u128 q = a / c + (a % c != 0 ? 1 : 0);
  if (q > std::numeric_limits<std::uint64_t>::max())
    throw invalid_input(describe(where, "bound", static_cast<std::uint64_t>(q >> 64), "exceeds 64 bits"));
  return static_cast<std::uint64_t>(q);
}

/// L(alpha) from the three sets' summaries (see file docs).
inline std::uint64_t l2_value(std::uint64_t j1, std::uint64_t j2, u128 sum_j2, u128 sum_j3,
                              std::uint64_t capacity) {
  const u128 free_room = static_cast<u128>(j2) * capacity - sum_j2;
  std::uint64_t extra = 0;
  if (sum_j3 > free_room) extra = ceil_div_u128(sum_j3 - free_room, capacity, "lower_bound_l2");
  return j1 + j2 + extra;
}

}  // namespace detail

/// ceil(sum(sizes) / capacity), computed without overflow. O(n). Throws invalid_input if capacity == 0.
/// Any unsigned element type (std::span<const std::uint32_t>, ...).
template <std::unsigned_integral T>
[[nodiscard]] std::uint64_t lower_bound_l1(std::span<const T> sizes, std::uint64_t capacity) {
  detail::require_capacity("lower_bound_l1", capacity);
  detail::u128 sum = 0;
  for (const T s : sizes) sum += s;
  return detail::ceil_div_u128(sum, capacity, "lower_bound_l1");
}
/// ceil(sum(sizes) / capacity) (see above).
[[nodiscard]] inline std::uint64_t lower_bound_l1(std::span<const std::uint64_t> sizes, std::uint64_t capacity) {
  return lower_bound_l1<std::uint64_t>(sizes, capacity);
}

/// Martello–Toth L2 from a histogram: `count[s]` items of size s for s = 0..count.size()-1
/// (count.size() must be <= capacity + 1), plus `oversize` items larger than the capacity (one
/// bin each). O(C). Throws invalid_input if capacity == 0 or the histogram is longer than C + 1.
[[nodiscard]] inline std::uint64_t lower_bound_l2_counts(std::span<const std::uint64_t> count,
                                                         std::uint64_t capacity, std::uint64_t oversize = 0) {
  detail::require_capacity("lower_bound_l2_counts", capacity);
  if (count.size() > capacity + 1 && capacity != std::numeric_limits<std::uint64_t>::max())
    throw invalid_input(detail::describe("lower_bound_l2_counts", "count.size()", count.size(),
                                         "histogram longer than capacity + 1"));
  using detail::u128;
  const std::uint64_t top = count.size() == 0 ? 0 : count.size() - 1;  // largest size in the histogram
  std::uint64_t n = oversize;
  std::uint64_t j2 = 0;
  u128 sum_j2 = 0, sum_j3 = 0;
  for (std::uint64_t s = 0; s <= top && count.size() != 0; ++s) {
    const std::uint64_t c = count[s];
    n += c;
    if (c == 0) continue;
    if (2 * static_cast<u128>(s) > capacity) {
      j2 += c;
      sum_j2 += static_cast<u128>(s) * c;
    } else {
      sum_j3 += static_cast<u128>(s) * c;
    }
  }
  if (n == 0) return 0;
  std::uint64_t j1 = oversize;
  std::uint64_t best = detail::l2_value(j1, j2, sum_j2, sum_j3, capacity);
  const std::uint64_t half = capacity / 2;
  for (std::uint64_t alpha = 1; alpha <= half; ++alpha) {
    // Items of size alpha - 1 leave J3 (they are small: 2(alpha-1) < C).
    if (alpha - 1 <= top) sum_j3 -= static_cast<u128>(alpha - 1) * count[alpha - 1];
    // Items of size C - alpha + 1 move from J2 to J1 (they are big: 2(C-alpha+1) > C).
    const std::uint64_t moved_size = capacity - alpha + 1;
    if (moved_size <= top) {
      const std::uint64_t c = count[moved_size];
      j1 += c;
      j2 -= c;
      sum_j2 -= static_cast<u128>(moved_size) * c;
    }
    if (alpha > top) break;  // J3 is empty from here on and J1+J2 is constant
    if (count[alpha] == 0) continue;  // the maximum is attained at alpha = 0 or an item size
    best = std::max(best, detail::l2_value(j1, j2, sum_j2, sum_j3, capacity));
  }
  return std::max<std::uint64_t>(best, 1);
}

namespace detail {

/// L2 of n sizes given by an accessor `size(i) -> std::uint64_t` (see lower_bound_l2), with the
/// histogram or the sorted copy kept in `scratch` (its storage is reused: no allocation once it is
/// large enough).
template <class SizeFn>
[[nodiscard]] std::uint64_t lower_bound_l2_fn(std::size_t n, SizeFn&& size, std::uint64_t capacity,
                                              std::vector<std::uint64_t>& scratch) {
  require_capacity("lower_bound_l2", capacity);
  if (n == 0) return 0;
  if (capacity <= 4 * static_cast<u128>(n) + 4096) {
    std::vector<std::uint64_t>& count = scratch;
    count.assign(static_cast<std::size_t>(capacity) + 1, 0);
    std::uint64_t oversize = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t s = size(i);
      if (s > capacity) ++oversize;
      else ++count[static_cast<std::size_t>(s)];
    }
    return lower_bound_l2_counts(count, capacity, oversize);
  }
  // Sort-based sweep: ascending sizes; J3 is a prefix-trimmed window of the small sizes, J1 a
  // growing suffix of the big ones.
  std::vector<std::uint64_t>& a = scratch;
  a.resize(n);
  for (std::size_t i = 0; i < n; ++i) a[i] = size(i);
  std::sort(a.begin(), a.end());
  std::size_t first_big = 0;  // first index with 2 s > C
  while (first_big < a.size() && 2 * static_cast<u128>(a[first_big]) <= capacity) ++first_big;
  u128 sum_j2 = 0, sum_j3 = 0;
  for (std::size_t i = 0; i < first_big; ++i) sum_j3 += a[i];
  std::size_t j1_begin = a.size();  // J1 = a[j1_begin..n)
  while (j1_begin > first_big && a[j1_begin - 1] > capacity) --j1_begin;  // oversize: always J1
  for (std::size_t i = first_big; i < j1_begin; ++i) sum_j2 += a[i];
  std::size_t lo = 0;  // J3 = a[lo..first_big)
  std::uint64_t best = 0;
  auto evaluate = [&](std::uint64_t alpha) {
    while (lo < first_big && a[lo] < alpha) sum_j3 -= a[lo++];
    while (j1_begin > first_big && a[j1_begin - 1] > capacity - alpha) sum_j2 -= a[--j1_begin];
    const std::uint64_t j1 = a.size() - j1_begin;
    const std::uint64_t j2 = j1_begin - first_big;
    best = std::max(best, l2_value(j1, j2, sum_j2, sum_j3, capacity));
  };
  evaluate(0);
  for (std::size_t i = 0; i < first_big; ++i)
    if (i == 0 || a[i] != a[i - 1]) evaluate(a[i]);
  return std::max<std::uint64_t>(best, 1);
}

/// L2 of n sizes given by an accessor (see lower_bound_l2).
template <class SizeFn>
[[nodiscard]] std::uint64_t lower_bound_l2_fn(std::size_t n, SizeFn&& size, std::uint64_t capacity) {
  std::vector<std::uint64_t> scratch;
  return lower_bound_l2_fn(n, std::forward<SizeFn>(size), capacity, scratch);
}

}  // namespace detail

/// Martello–Toth L2 (see file docs). O(n log n), or O(n + C) by counting when C <= 4n + 4096.
/// Sizes larger than the capacity count as one bin each. Throws invalid_input if capacity == 0.
/// Any unsigned element type (std::span<const std::uint32_t>, ...).
template <std::unsigned_integral T>
[[nodiscard]] std::uint64_t lower_bound_l2(std::span<const T> sizes, std::uint64_t capacity) {
  return detail::lower_bound_l2_fn(
      sizes.size(), [&](std::size_t i) { return static_cast<std::uint64_t>(sizes[i]); }, capacity);
}

/// Martello–Toth L2 (see above).
[[nodiscard]] inline std::uint64_t lower_bound_l2(std::span<const std::uint64_t> sizes, std::uint64_t capacity) {
  return lower_bound_l2<std::uint64_t>(sizes, capacity);
}

}  // namespace fulcrum
