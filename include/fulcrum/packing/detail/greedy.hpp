// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/greedy.hpp
/// The greedy drivers shared by the classic packers. A *store* holds the open bins and implements
/// one rule: `index_type place(std::uint64_t s, std::vector<std::uint64_t>& loads)` puts an item of
/// size s into the bin the rule picks (or opens bin loads.size()) and updates loads.
///
/// - `greedy_in_index_order`: items visited 0..n-1 (next/first/best fit).
/// - `greedy_decreasing`: items visited by size descending, ties by lower index first. When a
///   counting sort pays (C <= 4n + 65536) it runs on the size histogram: the simulation walks the
///   size classes sequentially (no random access to the input), records each sorted position's bin,
///   and two stable passes in index order write the CSR result (detail/csr_scatter.hpp), O(n + C)
///   besides the store.
///   Otherwise a comparison sort gives the order. Both give the same bins.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/bounds.hpp"
#include "fulcrum/packing/detail/common.hpp"
#include "fulcrum/packing/detail/csr_scatter.hpp"

namespace fulcrum::detail {

/// Smallest size (max() for empty input).
template <class SizeFn>
[[nodiscard]] std::uint64_t min_size_of(std::size_t n, SizeFn&& size) {
  std::uint64_t m = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t i = 0; i < n; ++i) m = std::min(m, static_cast<std::uint64_t>(size(i)));
  return m;
}

/// Items in index order through `store`.
template <class Store, class SizeFn>
[[nodiscard]] packing greedy_in_index_order(std::size_t n, SizeFn&& size, std::uint64_t capacity, Store& store,
                                            pack_algorithm algorithm) {
  std::vector<index_type> bin_of(n);
  std::vector<std::uint64_t> loads;
  for (std::size_t i = 0; i < n; ++i) bin_of[i] = store.place(size(i), loads);
  return make_packing(n, size, capacity, bin_of, std::move(loads), algorithm);
}

/// Items by size descending (ties: lower index first) through the store made by
/// `make_store(min_size, expected_bins)`.
template <class MakeStore, class SizeFn>
[[nodiscard]] packing greedy_decreasing(std::size_t n, SizeFn&& size, std::uint64_t capacity, MakeStore&& make_store,
                                        pack_algorithm algorithm) {
  packing result;
  result.algorithm = algorithm;
  if (n == 0) {
    result.proven_optimal = true;
    return result;
  }
  std::vector<std::uint64_t> loads;
  if (!counting_pays(n, capacity)) {
    const std::vector<index_type> order = decreasing_order(n, size, capacity);
    auto store = make_store(min_size_of(n, size), std::size_t{0});
    std::vector<index_type> bin_of(n);
    for (const index_type i : order) bin_of[i] = store.place(size(i), loads);
    return make_packing(n, size, capacity, bin_of, std::move(loads), algorithm);
  }
  const auto c = static_cast<std::size_t>(capacity);
  // 1. Histogram, L2 and the smallest size.
  size_histogram histogram = count_sizes(n, size, c, executor_ref{});
  std::vector<std::uint64_t>& count = histogram.count;
  result.lower_bound = lower_bound_l2_counts(count, capacity);
  std::uint64_t min_size = 0;
  while (count[static_cast<std::size_t>(min_size)] == 0) ++min_size;
  // 2. Simulate size class by size class; placement[k] = bin of the k-th item in sorted order.
  std::vector<index_type> placement(n);
  const std::size_t expected_bins = static_cast<std::size_t>(result.lower_bound) + result.lower_bound / 16 + 16;
  loads.reserve(expected_bins);
  std::vector<std::uint32_t> items_of;  // items in each bin
  items_of.reserve(expected_bins);
  {
    auto store = make_store(min_size, expected_bins);
    std::size_t k = 0;
    for (std::size_t s = c + 1; s-- > 0;)
      for (std::uint64_t j = count[s]; j > 0; --j) {
        const index_type b = store.place(s, loads);
        if (b == items_of.size()) items_of.push_back(0);
        ++items_of[b];
        placement[k++] = b;
      }
  }
  // 3. CSR. count[s] becomes the sorted position of the first item of size s (sizes descending).
  for (std::size_t s = c + 1, running = 0; s-- > 0;) {
    const std::uint64_t items = count[s];
    count[s] = running;
    running += static_cast<std::size_t>(items);
  }
  result.bins = csr_from_placement(n, size, histogram, std::move(placement), items_of);
  result.loads = std::move(loads);
  result.proven_optimal = result.bins.size() == result.lower_bound;
  return result;
}

}  // namespace fulcrum::detail
