// SPDX-License-Identifier: Apache-2.0
/// @file packing/pack.hpp
/// `pack()`: the packing front door (contract, docs/design.md).
///
///   packing pack(R&& items, Capacity capacity, pack_options opts = {}, Proj proj = {});
///
/// - items: any random-access sized range; `proj(item)` gives its size: an arithmetic value
///   (one-dimensional packing, returns `packing`) or a `std::array<T, D>` of sizes together with a
///   `std::array<U, D>` capacity (multi-constraint packing, returns
///   `basic_packing<std::array<std::uint64_t, D>>`); different D is a compile-time error.
/// - Sizes and capacities must be non-negative integers: signed negatives, NaN, infinities,
///   fractional floating-point values and values >= 2^64 are `invalid_input` naming the item
///   index and value; a zero capacity is `invalid_input`.
/// - Oversize policy (opts.oversize_policy) for an item larger than the capacity (in any dimension):
///   `error` -> `infeasible` naming the item index and size; `truncate` -> the item counts as
///   exactly the capacity in that dimension (loads and bounds use the truncated size);
///   `own_bin` -> the item gets a bin of its own, appended after the packed bins in index order
///   (its load is its real size, over capacity by design); the lower bound counts one bin for each.
/// - Algorithm (opts.algorithm), one dimension: `automatic` = `histogram` when the capacity is at
///   most 2^22 (O(n + C), same bin count as BFD), else `best_fit_decreasing`; every classic
///   algorithm by name; `exact` = pack_exact (branch and bound, anytime under opts.limits).
///   Multi-constraint: `automatic` / `best_fit_decreasing` = multi_best_fit_decreasing;
///   `first_fit_decreasing`, `first_fit`, `next_fit` by name; the others are `invalid_input`.
/// - Empty input returns an empty packing: 0 bins, lower_bound 0, proven_optimal true.
/// - Result: bins in opening order (own bins last), items within a bin in increasing index order,
///   lower_bound = L2 (max over dimensions of L2 for multi-constraint; better for `exact`),
///   proven_optimal only when bins == lower_bound (or proved by `exact`), `algorithm` = the
///   algorithm that ran.
/// - Zero copy: a contiguous range of unsigned integers with the identity projection is read in
///   place (no copy of the sizes), which is what keeps `automatic` within 16 bytes per item.
#pragma once

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/packing/best_fit.hpp"
#include "fulcrum/packing/best_fit_decreasing.hpp"
#include "fulcrum/packing/bounds.hpp"
#include "fulcrum/packing/exact.hpp"
#include "fulcrum/packing/first_fit.hpp"
#include "fulcrum/packing/first_fit_decreasing.hpp"
#include "fulcrum/packing/histogram.hpp"
#include "fulcrum/packing/multi.hpp"
#include "fulcrum/packing/next_fit.hpp"
#include "fulcrum/packing/packing.hpp"


namespace fulcrum {

namespace detail {

template <class T>
struct is_std_array : std::false_type {};
template <class T, std::size_t D>
struct is_std_array<std::array<T, D>> : std::true_type {};

/// Converts a user size/capacity to std::uint64_t, rejecting negatives, NaN, infinities,
/// fractions and values >= 2^64.
template <class T>
[[nodiscard]] std::uint64_t to_size(const char* where, const std::string& field, std::size_t index, T value) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, "sizes must be arithmetic (not bool)");
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(value)) throw invalid_input(describe(where, field, index, value, "is NaN"));
    if (std::isinf(value)) throw invalid_input(describe(where, field, index, value, "is infinite"));
    if (value < 0) throw invalid_input(describe(where, field, index, value, "is negative"));
    if (value != std::floor(value)) throw invalid_input(describe(where, field, index, value, "is not an integer"));
    if (value >= 18446744073709551616.0) throw invalid_input(describe(where, field, index, value, "does not fit in 64 bits"));
    return static_cast<std::uint64_t>(value);
  } else {
    if constexpr (std::is_signed_v<T>)
      if (value < 0) throw invalid_input(describe(where, field, index, value, "is negative"));
    return static_cast<std::uint64_t>(value);
  }
}

template <class T>
[[nodiscard]] std::uint64_t to_capacity(const char* where, T value) {
  const std::uint64_t c = to_size(where, "capacity", 0, value);
  if (c == 0) throw invalid_input(describe(where, "capacity", value, "must be positive"));
  return c;
}

[[nodiscard]] inline const char* algorithm_name(pack_algorithm a) noexcept {
  return to_string(a).data();  // the names in packing.hpp's enum_table are string literals
}

/// Capacity at or below which `automatic` picks the histogram algorithm.
inline constexpr std::uint64_t histogram_capacity_limit = std::uint64_t{1} << 22;

/// Runs the chosen one-dimensional algorithm on validated sizes (all <= capacity).
template <class SizeFn>
[[nodiscard]] packing run_1d(std::size_t n, SizeFn&& size, std::uint64_t capacity, const pack_options& opts) {
  pack_algorithm a = opts.algorithm;
  if (a == pack_algorithm::automatic)
    a = capacity <= histogram_capacity_limit ? pack_algorithm::histogram : pack_algorithm::best_fit_decreasing;
  switch (a) {
    case pack_algorithm::next_fit: return next_fit_impl(n, size, capacity);
    case pack_algorithm::first_fit: return first_fit_impl(n, size, capacity);
    case pack_algorithm::best_fit: return best_fit_impl(n, size, capacity);
    case pack_algorithm::first_fit_decreasing: return first_fit_decreasing_impl(n, size, capacity);
    case pack_algorithm::best_fit_decreasing: return best_fit_decreasing_impl(n, size, capacity);
    case pack_algorithm::histogram: return histogram_impl(n, size, capacity);
    case pack_algorithm::exact: {
      std::vector<std::uint64_t> sizes(n);
      for (std::size_t i = 0; i < n; ++i) sizes[i] = size(i);
      return pack_exact(sizes, capacity, opts);
    }
    case pack_algorithm::automatic: break;
  }
  throw invalid_input(describe("pack", "opts.algorithm", static_cast<int>(opts.algorithm), "unknown algorithm"));
}

/// Own bins: pack the regular items, then append one bin per oversize item.
template <class Load, class Regular, class Pack, class LoadOf>
[[nodiscard]] basic_packing<Load> with_own_bins(std::size_t n, Regular&& is_regular, Pack&& pack_regular,
                                                LoadOf&& load_of) {
  std::vector<index_type> regular, oversized;
  for (std::size_t i = 0; i < n; ++i) (is_regular(i) ? regular : oversized).push_back(static_cast<index_type>(i));
  basic_packing<Load> inner = pack_regular(regular);
  std::vector<std::size_t> offsets(inner.bins.offsets().begin(), inner.bins.offsets().end());
  std::vector<index_type> indices;
  indices.reserve(n);
  for (const index_type k : inner.bins.indices()) indices.push_back(regular[k]);  // increasing map: order kept
  for (const index_type i : oversized) {
    indices.push_back(i);
    offsets.push_back(indices.size());
    inner.loads.push_back(load_of(i));
  }
  inner.bins = grouping(std::move(offsets), std::move(indices));
  inner.lower_bound += oversized.size();
  // Own bins are forced by the policy, so an optimal inner packing stays optimal.
  if (inner.bins.size() == inner.lower_bound) inner.proven_optimal = true;
  return inner;
}

/// One dimension, sizes given by `size(i)` (already converted, any value).
template <class SizeFn>
[[nodiscard]] packing pack_1d(std::size_t n, SizeFn&& size, std::uint64_t capacity, const pack_options& opts) {
  if (n > std::numeric_limits<index_type>::max())
    throw invalid_input(describe("pack", "items", n, "more items than index_type can address"));
  std::size_t oversize_count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t s = size(i);
    if (s <= capacity) continue;
    if (opts.oversize_policy == oversize::error)
      throw infeasible(describe("pack", "sizes", i, s,
                                "exceeds the bin capacity " + std::to_string(capacity) +
                                    " (oversize policy error; use oversize::truncate or own_bin)"));
    ++oversize_count;
  }
  if (oversize_count == 0) return run_1d(n, size, capacity, opts);
  if (opts.oversize_policy == oversize::truncate)
    return run_1d(
        n, [&](std::size_t i) { return std::min<std::uint64_t>(size(i), capacity); }, capacity, opts);
  return with_own_bins<std::uint64_t>(
      n, [&](std::size_t i) { return size(i) <= capacity; },
      [&](const std::vector<index_type>& regular) {
        return run_1d(
            regular.size(), [&](std::size_t k) { return static_cast<std::uint64_t>(size(regular[k])); }, capacity, opts);
      },
      [&](index_type i) { return static_cast<std::uint64_t>(size(i)); });
}

template <std::size_t D>
[[nodiscard]] multi_packing<D> run_multi(std::span<const size_vector<D>> sizes, const size_vector<D>& capacity,
                                         const pack_options& opts) {
  switch (opts.algorithm) {
    case pack_algorithm::automatic:
    case pack_algorithm::best_fit_decreasing: return multi_best_fit_decreasing<D>(sizes, capacity);
    case pack_algorithm::first_fit_decreasing: return multi_first_fit_decreasing<D>(sizes, capacity);
    case pack_algorithm::first_fit: return multi_first_fit<D>(sizes, capacity);
    case pack_algorithm::next_fit: return multi_next_fit<D>(sizes, capacity);
    default: break;
  }
  throw invalid_input(describe("pack", "opts.algorithm", algorithm_name(opts.algorithm),
                               "is not available for multi-constraint packing (use automatic, best_fit_decreasing, "
                               "first_fit_decreasing, first_fit or next_fit)"));
}

template <std::size_t D>
[[nodiscard]] multi_packing<D> pack_multi(std::vector<size_vector<D>> sizes, const size_vector<D>& capacity,
                                          const pack_options& opts) {
  if (sizes.size() > std::numeric_limits<index_type>::max())
    throw invalid_input(describe("pack", "items", sizes.size(), "more items than index_type can address"));
  std::size_t oversize_count = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    bool over = false;
    for (std::size_t d = 0; d < D; ++d) {
      if (sizes[i][d] <= capacity[d]) continue;
      if (opts.oversize_policy == oversize::error)
        throw infeasible(describe("pack", "sizes[" + std::to_string(i) + "]", d, sizes[i][d],
                                  "exceeds the bin capacity " + std::to_string(capacity[d]) +
                                      " in this dimension (oversize policy error; use oversize::truncate or own_bin)"));
      if (opts.oversize_policy == oversize::truncate) sizes[i][d] = capacity[d];
      over = true;
    }
    oversize_count += over ? 1 : 0;
  }
  if (oversize_count == 0 || opts.oversize_policy == oversize::truncate)
    return run_multi<D>(sizes, capacity, opts);
  return with_own_bins<size_vector<D>>(
      sizes.size(),
      [&](std::size_t i) {
        for (std::size_t d = 0; d < D; ++d)
          if (sizes[i][d] > capacity[d]) return false;
        return true;
      },
      [&](const std::vector<index_type>& regular) {
        std::vector<size_vector<D>> compact;
        compact.reserve(regular.size());
        for (const index_type i : regular) compact.push_back(sizes[i]);
        return run_multi<D>(compact, capacity, opts);
      },
      [&](index_type i) { return sizes[i]; });
}

}  // namespace detail

/// The packing front door (see file docs).
template <std::ranges::random_access_range R, class Capacity, class Proj = std::identity>
  requires std::ranges::sized_range<R> &&
           std::regular_invocable<const Proj&, std::ranges::range_reference_t<R>>
[[nodiscard]] auto pack(R&& items, Capacity capacity, pack_options opts = {}, Proj proj = {}) {
  using projected = std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>;
  const auto n = static_cast<std::size_t>(std::ranges::size(items));
  if constexpr (detail::is_std_array<projected>::value) {
    static_assert(detail::is_std_array<Capacity>::value,
                  "pack: multi-constraint sizes (std::array) need a std::array capacity of the same dimension");
    constexpr std::size_t D = std::tuple_size_v<projected>;
    static_assert(std::tuple_size_v<Capacity> == D, "pack: sizes and capacity have mismatched dimensions");
    size_vector<D> cap{};
    for (std::size_t d = 0; d < D; ++d) {
      cap[d] = detail::to_size("pack", "capacity", d, capacity[d]);
      if (cap[d] == 0) throw invalid_input(detail::describe("pack", "capacity", d, cap[d], "must be positive"));
    }
    std::vector<size_vector<D>> sizes(n);
    auto it = std::ranges::begin(items);
    for (std::size_t i = 0; i < n; ++i, ++it) {
      const projected v = std::invoke(proj, *it);
      for (std::size_t d = 0; d < D; ++d)
        sizes[i][d] = detail::to_size("pack", "sizes[" + std::to_string(i) + "]", d, v[d]);
    }
    return detail::pack_multi<D>(std::move(sizes), cap, opts);
  } else {
    static_assert(std::is_arithmetic_v<projected> && !std::is_same_v<projected, bool>,
                  "pack: the projection must give an arithmetic size or a std::array of sizes");
    static_assert(std::is_arithmetic_v<Capacity> && !std::is_same_v<Capacity, bool>,
                  "pack: one-dimensional sizes need an arithmetic capacity");
    const std::uint64_t cap = detail::to_capacity("pack", capacity);
    using value = std::remove_cv_t<std::ranges::range_value_t<R>>;
    if constexpr (std::ranges::contiguous_range<R> && std::unsigned_integral<value> && !std::is_same_v<value, bool> &&
                  std::is_same_v<Proj, std::identity>) {
      const value* data = std::ranges::data(items);  // zero copy
      return detail::pack_1d(n, [data](std::size_t i) { return static_cast<std::uint64_t>(data[i]); }, cap, opts);
    } else {
      std::vector<std::uint64_t> sizes(n);
      auto it = std::ranges::begin(items);
      for (std::size_t i = 0; i < n; ++i, ++it) sizes[i] = detail::to_size("pack", "sizes", i, std::invoke(proj, *it));
      const std::uint64_t* data = sizes.data();
      return detail::pack_1d(n, [data](std::size_t i) { return data[i]; }, cap, opts);
    }
  }
}

}  // namespace fulcrum
