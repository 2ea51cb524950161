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
/// - Zero copy: a contiguous range of std::uint32_t or std::uint64_t with the identity projection
///   is read in place (no copy of the sizes), which is what keeps `automatic` within 16 bytes per
///   item; other ranges are lowered once to std::vector<std::uint64_t>.
/// - Compile cost: the sizes are lowered to a span of a fixed type and handed to a span-level
///   worker (`detail::pack_sizes`, one per element type; multi-constraint: one per D), so each
///   algorithm is instantiated once per element type, not per item type, projection or policy.
///   In compiled mode (fulcrum/config.hpp, CMake target fulcrum::compiled) the one-dimensional
///   workers are declared here and built once in the library.
#pragma once

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/packing/multi.hpp"
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
[[nodiscard]] std::uint64_t to_size(const char* where, std::string_view field, std::size_t index, T value) {
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

/// to_size of dimension d of item `item`'s size vector, the field named "<field>[item]": the
/// same checks and messages, with the field name built only when the value is rejected (a per-item
/// std::to_string and concatenation cost more than the check itself).
template <class T>
[[nodiscard]] std::uint64_t to_size_of_item(const char* where, const char* field, std::size_t item, std::size_t d,
                                            T value) {
  bool valid = true;
  if constexpr (std::is_floating_point_v<T>)
    valid = value >= 0 && value < 18446744073709551616.0 && value == std::floor(value);  // NaN fails the first
  else if constexpr (std::is_signed_v<T>)
    valid = value >= 0;
  if (valid) return static_cast<std::uint64_t>(value);
  return to_size(where, std::string(field) + "[" + std::to_string(item) + "]", d, value);  // throws
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

/// pack() on one-dimensional sizes: the oversize policy, then the algorithm (packing/detail/pack_impl.hpp).
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER packing pack_sizes(std::span<const std::uint64_t> sizes, std::uint64_t capacity,
                                  const pack_options& opts);
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER packing pack_sizes(std::span<const std::uint32_t> sizes, std::uint64_t capacity,
                                  const pack_options& opts);

/// pack() on multi-constraint sizes: the oversize policy, then the algorithm (packing/detail/pack_impl.hpp).
template <std::size_t D>
[[nodiscard]] multi_packing<D> pack_multi(std::vector<size_vector<D>> sizes, const size_vector<D>& capacity,
                                          const pack_options& opts);

#if defined(FULCRUM_COMPILED)
// Built once in fulcrum::compiled (src/pack.cpp) for D = 1..multi_compiled_max_dims.
#define FULCRUM_PACK_MULTI_EXTERN(D) \
  extern template multi_packing<D> pack_multi<D>(std::vector<size_vector<D>>, const size_vector<D>&, const pack_options&);
FULCRUM_PACK_MULTI_EXTERN(1)
FULCRUM_PACK_MULTI_EXTERN(2)
FULCRUM_PACK_MULTI_EXTERN(3)
FULCRUM_PACK_MULTI_EXTERN(4)
FULCRUM_PACK_MULTI_EXTERN(5)
FULCRUM_PACK_MULTI_EXTERN(6)
FULCRUM_PACK_MULTI_EXTERN(7)
FULCRUM_PACK_MULTI_EXTERN(8)
#undef FULCRUM_PACK_MULTI_EXTERN
#endif

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
#if defined(FULCRUM_COMPILED)
    static_assert(D >= 1 && D <= multi_compiled_max_dims,
                  "pack: fulcrum::compiled holds multi-constraint packing for 1..8 dimensions; include "
                  "<fulcrum/packing/detail/multi_impl.hpp> and <fulcrum/packing/detail/pack_impl.hpp> for more");
#endif
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
        sizes[i][d] = detail::to_size_of_item("pack", "sizes", i, d, v[d]);
    }
    return detail::pack_multi<D>(std::move(sizes), cap, opts);
  } else {
    static_assert(std::is_arithmetic_v<projected> && !std::is_same_v<projected, bool>,
                  "pack: the projection must give an arithmetic size or a std::array of sizes");
    static_assert(std::is_arithmetic_v<Capacity> && !std::is_same_v<Capacity, bool>,
                  "pack: one-dimensional sizes need an arithmetic capacity");
    const std::uint64_t cap = detail::to_capacity("pack", capacity);
    using value = std::remove_cv_t<std::ranges::range_value_t<R>>;
    if constexpr (std::ranges::contiguous_range<R> && std::is_same_v<Proj, std::identity> &&
                  (std::is_same_v<value, std::uint64_t> || std::is_same_v<value, std::uint32_t>)) {
      return detail::pack_sizes(std::span<const value>(std::ranges::data(items), n), cap, opts);  // zero copy
    } else if constexpr (std::ranges::contiguous_range<R> && std::is_same_v<Proj, std::identity> &&
                         (std::is_same_v<value, std::int64_t> || std::is_same_v<value, std::int32_t>)) {
      // Signed sizes (numpy's int64, torch's int64): once none is negative, read in place as their
      // unsigned type (same object representation; an access the aliasing rules allow).
      using unsigned_value = std::make_unsigned_t<value>;
      const value* data = std::ranges::data(items);
      value any_sign = 0;  // the sign bit of any size
      for (std::size_t i = 0; i < n; ++i) any_sign |= data[i];
      if (any_sign < 0)
        for (std::size_t i = 0; i < n; ++i) (void)detail::to_size("pack", "sizes", i, data[i]);  // throws at the first
      return detail::pack_sizes(std::span<const unsigned_value>(reinterpret_cast<const unsigned_value*>(data), n), cap,
                                opts);
    } else {
      std::vector<std::uint64_t> sizes(n);
      auto it = std::ranges::begin(items);
      for (std::size_t i = 0; i < n; ++i, ++it) sizes[i] = detail::to_size("pack", "sizes", i, std::invoke(proj, *it));
      return detail::pack_sizes(std::span<const std::uint64_t>(sizes), cap, opts);
    }
  }
}

}  // namespace fulcrum

#if !defined(FULCRUM_COMPILED)
#include "fulcrum/packing/detail/pack_impl.hpp"
#endif
