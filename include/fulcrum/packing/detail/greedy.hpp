// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/greedy.hpp
/// The greedy packing loops shared by first fit / first-fit decreasing and best fit /
/// best-fit decreasing: items are visited in a given sequence (index order or the decreasing
/// order) and each goes to the bin the rule chooses, or to a new bin opened at the end.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/detail/best_fit_bins.hpp"
#include "fulcrum/packing/detail/common.hpp"
#include "fulcrum/packing/detail/max_tree.hpp"

namespace fulcrum::detail {

/// First fit over the visiting sequence `item_at(k)`, k = 0..n-1: the lowest-index bin with room.
template <class SizeFn, class ItemAt>
void first_fit_loop(std::size_t n, SizeFn&& size, std::uint64_t capacity, ItemAt&& item_at,
                    std::vector<index_type>& bin_of, std::vector<std::uint64_t>& loads) {
  max_tree tree(std::min<std::size_t>(std::max<std::size_t>(n / 4, 16), std::size_t{1} << 20));
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = item_at(k);
    const std::uint64_t s = size(i);
    index_type b = tree.first_fit(s);
    if (b == max_tree::none) {
      b = tree.open(capacity - s);
      loads.push_back(s);
    } else {
      tree.set(b, tree.room(b) - s);
      loads[b] += s;
    }
    bin_of[i] = b;
  }
}

/// Best fit over the visiting sequence: the bin with the least room >= s, lowest index on ties.
template <class Bins, class SizeFn, class ItemAt>
void best_fit_loop(Bins& bins, std::size_t n, SizeFn&& size, std::uint64_t capacity, ItemAt&& item_at,
                   std::vector<index_type>& bin_of, std::vector<std::uint64_t>& loads) {
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = item_at(k);
    const std::uint64_t s = size(i);
    auto [b, room] = bins.take(s);
    if (b == no_bin) {
      b = static_cast<index_type>(loads.size());
      loads.push_back(s);
      room = capacity;
    } else {
      loads[b] += s;
    }
    bins.put(b, room - s);
    bin_of[i] = b;
  }
}

/// Best fit with the structure chosen by size (identical answers either way).
template <class SizeFn, class ItemAt>
void best_fit_dispatch(std::size_t n, SizeFn&& size, std::uint64_t capacity, ItemAt&& item_at,
                       std::vector<index_type>& bin_of, std::vector<std::uint64_t>& loads) {
  std::uint64_t min_size = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t i = 0; i < n; ++i) min_size = std::min(min_size, size(i));
  if (buckets_pay(n, capacity)) {
    bucket_best_fit bins(capacity, min_size);
    best_fit_loop(bins, n, size, capacity, item_at, bin_of, loads);
  } else {
    ordered_best_fit bins(min_size);
    best_fit_loop(bins, n, size, capacity, item_at, bin_of, loads);
  }
}

}  // namespace fulcrum::detail
