// SPDX-License-Identifier: Apache-2.0
/// @file python/src/common.hpp
/// Helpers shared by the translation units of the `fulcrum._core` extension (python/src/*.cpp):
/// input array types (1-D / 2-D C-contiguous CPU arrays, read in place), numpy outputs that own a
/// moved C++ vector, search limits, and the `bind_<area>` entry points the module file calls. Each
/// area lives in its own TU so an incremental rebuild recompiles only the area that changed.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <string>

#include "fulcrum/balance/options.hpp"
#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/options.hpp"

namespace fulcrum_py {

namespace nb = nanobind;

template <class T>
using in_array = nb::ndarray<const T, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
template <class T>
using in_matrix = nb::ndarray<const T, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
template <class T>
using out_array = nb::ndarray<nb::numpy, T, nb::ndim<1>>;

template <class T>
std::span<const T> span_of(const in_array<T>& a) {
  return std::span<const T>(a.data(), a.shape(0));
}

/// A numpy array owning `v`'s memory (the vector is moved onto the heap; a capsule frees it).
template <class T>
out_array<T> to_numpy(std::vector<T>&& v) {
  auto* owned = new std::vector<T>(std::move(v));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return out_array<T>(owned->data(), {owned->size()}, owner);
}

template <class T, class U>
out_array<T> to_numpy_as(std::span<const U> s) {
  return to_numpy(std::vector<T>(s.begin(), s.end()));
}

/// A grouping's CSR arrays into d["offsets"] (uint64) and d["indices"] (uint32).
inline void put_groups(nb::dict& d, const fulcrum::grouping& g, const char* offsets = "offsets",
                       const char* indices = "indices") {
  d[offsets] = to_numpy_as<std::uint64_t>(g.offsets());
  d[indices] = to_numpy_as<std::uint32_t>(g.indices());
}

inline fulcrum::search_limits limits_of(std::optional<std::uint64_t> max_nodes, std::optional<double> time_limit_s) {
  fulcrum::search_limits l;
  if (max_nodes) l.nodes = *max_nodes;
  if (time_limit_s) {
    if (!(*time_limit_s >= 0))
      throw fulcrum::invalid_input(fulcrum::detail::describe("limits", "time_limit", *time_limit_s, "must be >= 0"));
    l.time = std::chrono::milliseconds(static_cast<std::int64_t>(*time_limit_s * 1000.0));
  }
  return l;
}

inline fulcrum::balance_options balance_opts(const std::string& algorithm, bool equal_counts,
                                             std::optional<double> part_capacity,
                                             std::optional<std::uint64_t> max_nodes,
                                             std::optional<double> time_limit_s) {
  fulcrum::balance_options opts;
  opts.algorithm = fulcrum::parse_enum<fulcrum::balance_algorithm>(algorithm, "algorithm");
  opts.equal_counts = equal_counts;
  if (part_capacity) opts.part_capacity = *part_capacity;
  opts.limits = limits_of(max_nodes, time_limit_s);
  return opts;
}

/// pack, one-dimensional pack_for_ranks, balance, partition_stages (python/src/bind_pack.cpp).
void bind_pack(nb::module_& m);

/// The packed-sequence layouts, text and multimodal (python/src/bind_layout.cpp).
void bind_layout(nb::module_& m);

/// Multi-dimensional pack_for_ranks, the epoch planner and the streaming batchers
/// (python/src/bind_runtime.cpp).
void bind_runtime(nb::module_& m);

/// Recompute selection, the pipeline searches and the schedule simulator (python/src/bind_pipeline.cpp).
void bind_pipeline(nb::module_& m);

/// Two-level balance and post_balance (python/src/bind_balance.cpp).
void bind_balance(nb::module_& m);

}  // namespace fulcrum_py
