// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/csr_scatter.hpp
/// Builds a packing's CSR bins from a decreasing-order simulation: `placement[k]` is the bin of the
/// k-th item in (size descending, index ascending) order and `next_of_size[s]` the position in that
/// order of the first item of size s. Items of a bin come out in increasing index order.
///
/// Two stable passes instead of one scatter with a cursor per bin (which misses the cache once per
/// item when there are ~10^5 bins): items in index order are distributed to at most ~1024 buckets
/// of consecutive bins (sequential write streams), then each bucket, small enough for L1, is
/// distributed to its bins. O(n + bins) time; extra memory 6 bytes per item (item and low bin bits)
/// while it runs; `placement`'s storage becomes the result's index array.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum::detail {

template <class SizeFn>
[[nodiscard]] grouping csr_from_placement(std::size_t n, SizeFn&& size, std::vector<std::uint64_t>& next_of_size,
                                          std::vector<index_type>&& placement, std::size_t bins) {
  unsigned shift = 0;
  while ((bins >> shift) > 1024 && shift < 16) ++shift;
  const std::size_t buckets = (bins >> shift) + 1;
  const auto low_mask = static_cast<index_type>((index_type{1} << shift) - 1);
  std::vector<std::size_t> bucket_start(buckets + 1, 0);
  for (std::size_t k = 0; k < n; ++k) ++bucket_start[(placement[k] >> shift) + 1];
  for (std::size_t q = 0; q < buckets; ++q) bucket_start[q + 1] += bucket_start[q];
  // Pass 1: items in index order to their bucket (stable).
  const std::unique_ptr<index_type[]> item_of(new index_type[n]);
  const std::unique_ptr<std::uint16_t[]> low_of(new std::uint16_t[n]);
  {
    std::vector<std::size_t> pos(bucket_start.begin(), bucket_start.end() - 1);
    constexpr std::size_t ahead = 24;  // items; the next line of each size's run is fetched early
    for (std::size_t i = 0; i < n; ++i) {
      if (i + ahead < n)
        FULCRUM_PREFETCH(&placement[static_cast<std::size_t>(next_of_size[static_cast<std::size_t>(size(i + ahead))])]);
      const index_type b = placement[static_cast<std::size_t>(next_of_size[static_cast<std::size_t>(size(i))]++)];
      const std::size_t p = pos[b >> shift]++;
      item_of[p] = static_cast<index_type>(i);
      low_of[p] = static_cast<std::uint16_t>(b & low_mask);
    }
  }
  // Pass 2: each bucket to its bins (stable), writing into placement's storage.
  std::vector<index_type> indices = std::move(placement);
  std::vector<std::size_t> offsets(bins + 1, 0);
  const std::size_t width = std::size_t{1} << shift;
  std::vector<std::size_t> cursor(width + 1);
  for (std::size_t q = 0, first = 0; first < bins; ++q, first += width) {
    const std::size_t in_bucket = std::min(width, bins - first);
    std::fill_n(cursor.begin(), in_bucket + 1, std::size_t{0});
    for (std::size_t p = bucket_start[q]; p < bucket_start[q + 1]; ++p) ++cursor[low_of[p] + std::size_t{1}];
    cursor[0] = bucket_start[q];
    for (std::size_t j = 0; j < in_bucket; ++j) {
      cursor[j + 1] += cursor[j];
      offsets[first + j + 1] = cursor[j + 1];
    }
    for (std::size_t p = bucket_start[q]; p < bucket_start[q + 1]; ++p) indices[cursor[low_of[p]]++] = item_of[p];
  }
  return grouping(std::move(offsets), std::move(indices));
}

}  // namespace fulcrum::detail
