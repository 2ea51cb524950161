// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/pack_impl.hpp
/// Definitions of pack()'s span-level workers (declared in packing/pack.hpp): one-dimensional
/// (pack_sizes) and multi-constraint (pack_multi<D>),
/// included by pack.hpp in header-only mode, compiled once into fulcrum::compiled otherwise
/// (src/pack.cpp). Each algorithm is instantiated once per element type (std::uint32_t read in
/// place, std::uint64_t for everything else), whatever the user's item type, projection and
/// oversize policy: the policy only changes which sizes the one dispatch runs on.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/packing/best_fit.hpp"
#include "fulcrum/packing/best_fit_decreasing.hpp"
#include "fulcrum/packing/detail/oversize.hpp"
#include "fulcrum/packing/exact.hpp"
#include "fulcrum/packing/first_fit.hpp"
#include "fulcrum/packing/first_fit_decreasing.hpp"
#include "fulcrum/packing/histogram.hpp"
#include "fulcrum/packing/multi.hpp"
#include "fulcrum/packing/next_fit.hpp"
#include "fulcrum/packing/pack.hpp"
#include "fulcrum/packing/packing.hpp"

namespace fulcrum::detail {

/// Size of item i read from a span (the one SizeFn type every packer is instantiated with).
/// Item i's size, clamped to `cap` (the capacity under oversize::truncate, else no clamp), so a
/// truncated input is read in place instead of copied.
template <class T>
struct span_size {
  const T* data;
  std::uint64_t cap;
  [[nodiscard]] std::uint64_t operator()(std::size_t i) const noexcept {
    return std::min(static_cast<std::uint64_t>(data[i]), cap);
  }
};

template <class T>
[[nodiscard]] packing run_1d(std::span<const T> sizes, std::uint64_t capacity, const pack_options& opts,
                             std::uint64_t cap = std::numeric_limits<std::uint64_t>::max()) {
  const std::size_t n = sizes.size();
  const span_size<T> size{sizes.data(), cap};
  pack_algorithm a = opts.algorithm;
  if (a == pack_algorithm::automatic)
    a = capacity <= histogram_capacity_limit ? pack_algorithm::histogram : pack_algorithm::best_fit_decreasing;
  switch (a) {
    case pack_algorithm::next_fit: return next_fit_impl(n, size, capacity);
    case pack_algorithm::first_fit: return first_fit_impl(n, size, capacity);
    case pack_algorithm::best_fit: return best_fit_impl(n, size, capacity);
    case pack_algorithm::first_fit_decreasing: return first_fit_decreasing_impl(n, size, capacity);
    case pack_algorithm::best_fit_decreasing: return best_fit_decreasing_impl(n, size, capacity);
    case pack_algorithm::histogram: return histogram_impl(n, size, capacity, opts.executor);
    case pack_algorithm::exact: {
      if constexpr (std::is_same_v<T, std::uint64_t>) {
        if (cap == std::numeric_limits<std::uint64_t>::max()) return pack_exact(sizes, capacity, opts);
      }
      std::vector<std::uint64_t> wide(n);
      for (std::size_t i = 0; i < n; ++i) wide[i] = size(i);
      return pack_exact(wide, capacity, opts);
    }
    case pack_algorithm::automatic: break;
  }
  throw invalid_input(describe("pack", "opts.algorithm", static_cast<int>(opts.algorithm), "unknown algorithm"));
}

template <class T>
[[nodiscard]] packing pack_span(std::span<const T> sizes, std::uint64_t capacity, const pack_options& opts) {
  const std::size_t n = sizes.size();
  if (n > std::numeric_limits<index_type>::max())
    throw invalid_input(describe("pack", "items", n, "more items than index_type can address"));
  // truncate: the sizes are read through a clamp to the capacity, which changes nothing when no item
  // is oversized, so no scan is needed (same plan either way).
  if (opts.oversize_policy == oversize::truncate) return run_1d<T>(sizes, capacity, opts, capacity);
  const oversize_split split = split_oversize<T>("pack", sizes, capacity, opts.oversize_policy);
  if (split.oversized == 0) return run_1d<T>(sizes, capacity, opts);
  std::vector<T> regular;
  regular.reserve(split.regular.size());
  for (const index_type i : split.regular) regular.push_back(sizes[i]);
  return with_own_bins<std::uint64_t>(run_1d<T>(regular, capacity, opts), split,
                                      [&](index_type i) { return static_cast<std::uint64_t>(sizes[i]); });
}

FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER packing pack_sizes(std::span<const std::uint64_t> sizes, std::uint64_t capacity,
                                  const pack_options& opts) {
  return pack_span<std::uint64_t>(sizes, capacity, opts);
}

FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER packing pack_sizes(std::span<const std::uint32_t> sizes, std::uint64_t capacity,
                                  const pack_options& opts) {
  return pack_span<std::uint32_t>(sizes, capacity, opts);
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
  const oversize_split split =
      split_oversize<D>("pack", std::span<size_vector<D>>(sizes), capacity, opts.oversize_policy, false);
  if (split.own.empty()) return run_multi<D>(sizes, capacity, opts);
  std::vector<size_vector<D>> compact;
  compact.reserve(split.regular.size());
  for (const index_type i : split.regular) compact.push_back(sizes[i]);
  return with_own_bins<size_vector<D>>(run_multi<D>(compact, capacity, opts), split,
                                       [&](index_type i) { return sizes[i]; });
}

}  // namespace fulcrum::detail
