// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/oversize.hpp
/// The oversize policy (packing/packing.hpp `oversize`) in one place, shared by pack() and
/// pack_for_ranks: find the items larger than the capacity (in any dimension), then
///  - error:    throw `infeasible` naming the first such item (index, dimension, size, capacity);
///  - truncate: clamp the item to the capacity in that dimension (it stays a regular item);
///  - own_bin:  the item is packed alone, in a bin appended after the regular bins.
/// `split_oversize` does the scan (truncating in place) and `with_own_bins` assembles the result
/// of packing the regular items plus one bin per own-bin item.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/packing.hpp"

namespace fulcrum::detail {

/// Items by their fate under the oversize policy; both lists in increasing index order.
struct oversize_split {
  std::vector<index_type> regular;  ///< packed normally (truncated first under oversize::truncate)
  std::vector<index_type> own;      ///< oversize::own_bin items: one bin each
  std::size_t oversized = 0;        ///< items above the capacity in some dimension (any policy)
};

/// One dimension: the error message of an item above the capacity.
[[nodiscard]] inline std::string oversize_text(std::uint64_t capacity, const char* dimension_note) {
  return "exceeds the bin capacity " + std::to_string(capacity) + dimension_note +
         " (oversize policy error; use oversize::truncate or own_bin)";
}

/// Scans D-dimensional sizes (std::array<std::uint64_t, D>) under the policy: throws for `error`,
/// truncates in place for `truncate`, lists own-bin items for `own_bin`. `regular` lists every
/// item that is not own-bin (filled only when `list_regular`, or when some item is own-bin).
template <std::size_t D>
void split_oversize_into(const char* where, std::span<std::array<std::uint64_t, D>> sizes,
                         const std::array<std::uint64_t, D>& capacity, oversize policy, bool list_regular,
                         oversize_split& out) {
  out.regular.clear();
  out.own.clear();
  out.oversized = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    bool over = false;
    for (std::size_t d = 0; d < D; ++d) {
      if (sizes[i][d] <= capacity[d]) continue;
      if (policy == oversize::error)
        throw infeasible(describe(where, "sizes[" + std::to_string(i) + "]", d, sizes[i][d],
                                  oversize_text(capacity[d], " in this dimension")));
      if (policy == oversize::truncate) sizes[i][d] = capacity[d];
      over = true;
    }
    if (!over) continue;
    ++out.oversized;
    if (policy == oversize::own_bin) out.own.push_back(static_cast<index_type>(i));
  }
  if (list_regular || !out.own.empty()) {
    out.regular.reserve(sizes.size() - out.own.size());
    std::size_t next_own = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      if (next_own < out.own.size() && out.own[next_own] == i)
        ++next_own;
      else
        out.regular.push_back(static_cast<index_type>(i));
    }
  }
}

/// split_oversize_into into a fresh split.
template <std::size_t D>
[[nodiscard]] oversize_split split_oversize(const char* where, std::span<std::array<std::uint64_t, D>> sizes,
                                            const std::array<std::uint64_t, D>& capacity, oversize policy,
                                            bool list_regular) {
  oversize_split out;
  split_oversize_into<D>(where, sizes, capacity, policy, list_regular, out);
  return out;
}

/// One dimension, sizes read in place (never truncated here: under `truncate` the caller clamps
/// its own copy). Throws for `error`; lists own-bin items (and then the regular ones).
template <class T>
[[nodiscard]] oversize_split split_oversize(const char* where, std::span<const T> sizes, std::uint64_t capacity,
                                            oversize policy) {
  oversize_split out;
  // Every size is at most the OR of all sizes: when that is within the capacity, nothing is
  // oversized (one branch-free pass the compiler vectorizes, instead of a test per item).
  std::uint64_t any_bits = 0;
  for (const T v : sizes) any_bits |= static_cast<std::uint64_t>(v);
  if (any_bits <= capacity) return out;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const auto s = static_cast<std::uint64_t>(sizes[i]);
    if (s <= capacity) continue;
    if (policy == oversize::error) throw infeasible(describe(where, "sizes", i, s, oversize_text(capacity, "")));
    ++out.oversized;
    if (policy == oversize::own_bin) out.own.push_back(static_cast<index_type>(i));
  }
  if (!out.own.empty()) {
    out.regular.reserve(sizes.size() - out.own.size());
    for (std::size_t i = 0; i < sizes.size(); ++i)
      if (static_cast<std::uint64_t>(sizes[i]) <= capacity) out.regular.push_back(static_cast<index_type>(i));
  }
  return out;
}

/// Own bins: `inner` packs the regular items (indices into the compacted list), then one bin per
/// own-bin item is appended in index order with its real load; the lower bound counts one bin for
/// each. `load_of(i)` gives item i's load.
template <class Load, class LoadOf>
[[nodiscard]] basic_packing<Load> with_own_bins(basic_packing<Load> inner, const oversize_split& split,
                                                LoadOf&& load_of) {
  std::vector<std::size_t> offsets(inner.bins.offsets().begin(), inner.bins.offsets().end());
  std::vector<index_type> indices;
  indices.reserve(split.regular.size() + split.own.size());
  for (const index_type k : inner.bins.indices()) indices.push_back(split.regular[k]);  // increasing map: order kept
  for (const index_type i : split.own) {
    indices.push_back(i);
    offsets.push_back(indices.size());
    inner.loads.push_back(load_of(i));
  }
  inner.bins = grouping(std::move(offsets), std::move(indices));
  inner.lower_bound += split.own.size();
  // Own bins are forced by the policy, so an optimal inner packing stays optimal.
  if (inner.bins.size() == inner.lower_bound) inner.proven_optimal = true;
  return inner;
}

}  // namespace fulcrum::detail
