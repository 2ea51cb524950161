// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/csr_scatter.hpp
/// Builds a packing's CSR bins from a decreasing-order simulation: `placement[k]` is the bin of the
/// k-th item in (size descending, index ascending) order and `next_of_size[s]` the position in that
/// order of the first item of size s; `items_per_bin` counts each bin's items. Items of a bin come out in increasing
/// index order.
///
/// Two stable passes instead of one scatter with a cursor per bin (which misses the cache once per
/// item when there are ~10^5 bins): items in index order are distributed to at most ~1024 buckets
/// of consecutive bins (sequential write streams), then each bucket, small enough for L1, is
/// distributed to its bins. With a parallel executor (core/executor.hpp) both passes and the
/// size histogram run in chunks on it, laid out exactly as the serial passes. O(n + bins) time; extra memory 6 bytes
/// per item (item and low bin bits) while it runs; `placement`'s storage becomes the result's index array.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/core/executor.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum::detail {

/// Item range [first, last) of chunk t of `chunks` equal parts of n items.
template <class = void>
[[nodiscard]] inline std::pair<std::size_t, std::size_t> chunk_range(std::size_t t, std::size_t chunks,
                                                                     std::size_t n) noexcept {
  return {n / chunks * t + std::min(t, n % chunks), n / chunks * (t + 1) + std::min(t + 1, n % chunks)};
}

/// The size histogram (count[s], s = 0..C) and, for a parallel CSR build, one histogram per chunk.
struct size_histogram {
  std::vector<std::uint64_t> count;
  std::size_t chunks = 1;
  std::vector<std::uint32_t> per_chunk;  ///< per_chunk[t * (C + 1) + s]; empty when chunks == 1
};

/// Chunks worth using on `ex` for n items and sizes 0..c: 1 (serial) unless the executor is
/// parallel, n >= 2^16 and the per-chunk histograms stay within 4 bytes per item.
template <class = void>
[[nodiscard]] inline std::size_t parallel_chunks(const executor_ref& ex, std::size_t n, std::size_t c) {
  if (!ex.parallel() || n < (std::size_t{1} << 16)) return 1;
  const std::size_t chunks = std::min<std::size_t>(ex.concurrency(), 256);
  return (c + 1) * chunks <= n ? chunks : 1;
}

template <class SizeFn>
[[nodiscard]] size_histogram count_sizes(std::size_t n, SizeFn&& size, std::size_t c, const executor_ref& ex) {
  size_histogram h;
  h.count.assign(c + 1, 0);
  h.chunks = parallel_chunks(ex, n, c);
  if (h.chunks == 1) {
    for (std::size_t i = 0; i < n; ++i) ++h.count[static_cast<std::size_t>(size(i))];
    return h;
  }
  h.per_chunk.assign(h.chunks * (c + 1), 0);
  ex.bulk(h.chunks, [&](std::size_t t) {
    const auto [first, last] = chunk_range(t, h.chunks, n);
    std::uint32_t* mine = h.per_chunk.data() + t * (c + 1);
    for (std::size_t i = first; i < last; ++i) ++mine[static_cast<std::size_t>(size(i))];
  });
  for (std::size_t t = 0; t < h.chunks; ++t)
    for (std::size_t s = 0; s <= c; ++s) h.count[s] += h.per_chunk[t * (c + 1) + s];
  return h;
}

/// `next_of_size` (h.count turned into positions by the caller); per-chunk positions are derived
/// from h.per_chunk when h.chunks > 1, and the passes then run on `ex`, one chunk per task, with
/// the same result.
template <class SizeFn>
[[nodiscard]] grouping csr_from_placement(std::size_t n, SizeFn&& size, size_histogram& h,
                                          std::vector<index_type>&& placement,
                                          const std::vector<std::uint32_t>& items_per_bin,
                                          const executor_ref& ex = {}) {
  std::vector<std::uint64_t>& next_of_size = h.count;
  const std::size_t bins = items_per_bin.size();
  std::vector<std::size_t> offsets(bins + 1, 0);
  for (std::size_t b = 0; b < bins; ++b) offsets[b + 1] = offsets[b] + items_per_bin[b];
  unsigned shift = 0;
  while ((bins >> shift) > 1024 && shift < 16) ++shift;
  const auto low_mask = static_cast<index_type>((index_type{1} << shift) - 1);
  const std::size_t buckets = (bins >> shift) + 1;
  const std::unique_ptr<index_type[]> item_of(new index_type[n]);
  const std::unique_ptr<std::uint16_t[]> low_of(new std::uint16_t[n]);
  if (h.chunks == 1) {
    // Pass 1: items in index order to their bucket of 2^shift bins (stable).
    std::vector<std::size_t> pos(buckets);
    for (std::size_t q = 0; q < buckets; ++q) pos[q] = offsets[std::min(q << shift, bins)];
    constexpr std::size_t ahead = 24;  // items; the next line of each size's run is fetched early
    for (std::size_t i = 0; i < n; ++i) {
      if (i + ahead < n)
        FULCRUM_PREFETCH(&placement[static_cast<std::size_t>(next_of_size[static_cast<std::size_t>(size(i + ahead))])]);
      const index_type b = placement[static_cast<std::size_t>(next_of_size[static_cast<std::size_t>(size(i))]++)];
      const std::size_t p = pos[b >> shift]++;
      item_of[p] = static_cast<index_type>(i);
      low_of[p] = static_cast<std::uint16_t>(b & low_mask);
    }
  } else {
    // The same pass in chunks: each chunk's positions per size and per bucket follow the earlier
    // chunks', so the layout is the serial one.
    const std::size_t chunks = h.chunks;
    const std::size_t sizes = next_of_size.size();
    for (std::size_t s = 0; s < sizes; ++s) {
      std::uint64_t running = next_of_size[s];
      for (std::size_t t = 0; t < chunks; ++t) {
        const std::uint32_t items = h.per_chunk[t * sizes + s];
        h.per_chunk[t * sizes + s] = static_cast<std::uint32_t>(running);
        running += items;
      }
    }
    const std::unique_ptr<index_type[]> bin_of(new index_type[n]);
    std::vector<std::size_t> pos(chunks * buckets, 0);
    ex.bulk(chunks, [&](std::size_t t) {
      const auto [first, last] = chunk_range(t, chunks, n);
      std::uint32_t* next = h.per_chunk.data() + t * sizes;
      std::size_t* in_bucket = pos.data() + t * buckets;
      for (std::size_t i = first; i < last; ++i) {
        const index_type b = placement[next[static_cast<std::size_t>(size(i))]++];
        bin_of[i] = b;
        ++in_bucket[b >> shift];
      }
    });
    for (std::size_t q = 0; q < buckets; ++q) {
      std::size_t running = offsets[std::min(q << shift, bins)];
      for (std::size_t t = 0; t < chunks; ++t) {
        const std::size_t items = pos[t * buckets + q];
        pos[t * buckets + q] = running;
        running += items;
      }
    }
    ex.bulk(chunks, [&](std::size_t t) {
      const auto [first, last] = chunk_range(t, chunks, n);
      std::size_t* at = pos.data() + t * buckets;
      for (std::size_t i = first; i < last; ++i) {
        const index_type b = bin_of[i];
        const std::size_t p = at[b >> shift]++;
        item_of[p] = static_cast<index_type>(i);
        low_of[p] = static_cast<std::uint16_t>(b & low_mask);
      }
    });
  }
  // Pass 2: each bucket to its bins (stable), writing into placement's storage.
  std::vector<index_type> indices = std::move(placement);
  const std::size_t width = std::size_t{1} << shift;
  const std::size_t tasks = h.chunks == 1 ? 1 : std::min(buckets, 4 * h.chunks);
  ex.bulk(tasks, [&](std::size_t task) {
    std::vector<std::size_t> cursor(width);
    const auto [q_first, q_last] = chunk_range(task, tasks, buckets);
    for (std::size_t q = q_first; q < q_last; ++q) {
      const std::size_t first = q << shift;
      if (first >= bins) break;
      const std::size_t last = std::min(first + width, bins);
      std::copy(offsets.begin() + static_cast<std::ptrdiff_t>(first),
                offsets.begin() + static_cast<std::ptrdiff_t>(last), cursor.begin());
      for (std::size_t p = offsets[first]; p < offsets[last]; ++p) indices[cursor[low_of[p]]++] = item_of[p];
    }
  });
  return grouping(std::move(offsets), std::move(indices));
}

}  // namespace fulcrum::detail
