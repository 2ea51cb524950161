// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/csr_scatter.hpp
/// Builds a packing's CSR bins from a decreasing-order simulation: `placement[k]` is the bin of the
/// k-th item in (size descending, index ascending) order and `next_of_size[s]` the position in that
/// order of the first item of size s; `items_per_bin` counts each bin's items. Items of a bin come out in increasing index order.
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
                                          std::vector<index_type>&& placement,
                                          const std::vector<std::uint32_t>& items_per_bin) {
  const std::size_t bins = items_per_bin.size();
  std::vector<std::size_t> offsets(bins + 1, 0);
  for (std::size_t b = 0; b < bins; ++b) offsets[b + 1] = offsets[b] + items_per_bin[b];
  unsigned shift = 0;
  while ((bins >> shift) > 1024 && shift < 16) ++shift;
  const auto low_mask = static_cast<index_type>((index_type{1} << shift) - 1);
  // Pass 1: items in index order to their bucket of 2^shift bins (stable).
  const std::unique_ptr<index_type[]> item_of(new index_type[n]);
  const std::unique_ptr<std::uint16_t[]> low_of(new std::uint16_t[n]);
  {
    std::vector<std::size_t> pos((bins >> shift) + 1);
    for (std::size_t q = 0; q < pos.size(); ++q) pos[q] = offsets[std::min(q << shift, bins)];
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
  const std::size_t width = std::size_t{1} << shift;
  std::vector<std::size_t> cursor(width);
  for (std::size_t first = 0; first < bins; first += width) {
    const std::size_t last = std::min(first + width, bins);
    std::copy(offsets.begin() + static_cast<std::ptrdiff_t>(first), offsets.begin() + static_cast<std::ptrdiff_t>(last),
              cursor.begin());
    for (std::size_t p = offsets[first]; p < offsets[last]; ++p) indices[cursor[low_of[p]]++] = item_of[p];
  }
  return grouping(std::move(offsets), std::move(indices));
}

}  // namespace fulcrum::detail
