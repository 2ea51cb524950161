// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/csr_scatter.hpp
/// Builds a packing's CSR bins from a decreasing-order simulation: `placement[k]` is the bin of the
/// k-th item in (size descending, index ascending) order and `next_of_size[s]` the position in that
/// order of the first item of size s; `items_per_bin` counts each bin's items. Items of a bin come out in increasing
/// index order.
///
/// Two stable passes instead of one scatter with a cursor per bin (which misses the cache once per
/// item when there are ~10^5 bins): items in index order are distributed, as (item, bin) records,
/// to at most 256 buckets of consecutive bins (sequential write streams, each prefetched for
/// writing ahead of its cursor), then each bucket is distributed to its bins. With a parallel
/// executor (core/executor.hpp) both passes and the size histogram run in chunks on it, laid out
/// exactly as the serial passes. O(n + bins) time; extra memory 8 bytes per item (the records)
/// while it runs; `placement`'s storage becomes the result's index array.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
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
    if (n > std::numeric_limits<std::uint32_t>::max()) {
      for (std::size_t i = 0; i < n; ++i) ++h.count[static_cast<std::size_t>(size(i))];
      return h;
    }
    // Two 32-bit tables, even and odd items: runs of equal sizes do not chain their increments.
    std::vector<std::uint32_t> two(2 * (c + 1), 0);
    std::uint32_t* even = two.data();
    std::uint32_t* odd = two.data() + (c + 1);
    std::size_t i = 0;
    for (; i + 1 < n; i += 2) {
      ++even[static_cast<std::size_t>(size(i))];
      ++odd[static_cast<std::size_t>(size(i + 1))];
    }
    if (i < n) ++even[static_cast<std::size_t>(size(i))];
    for (std::size_t s = 0; s <= c; ++s) h.count[s] = std::uint64_t{even[s]} + odd[s];
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

/// Up to this many items csr_from_placement scatters each item straight to its bin in one pass;
/// above it, through buckets in two (W1 at C = 16384, this machine: one pass 18 % faster at 65,536
/// items and 10 % at 524,288, 5 % slower at 10^6).
inline constexpr std::size_t direct_scatter_limit = std::size_t{1} << 19;

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
  if (h.chunks == 1 && n <= direct_scatter_limit) {
    // Up to 2^19 items the output's lines stay in the caches: each item straight to its bin's
    // cursor, in one pass (stable: items in index order).
    const std::size_t sizes = next_of_size.size();
    const std::unique_ptr<std::uint32_t[]> next(new std::uint32_t[sizes]);
    for (std::size_t s = 0; s < sizes; ++s) next[s] = static_cast<std::uint32_t>(next_of_size[s]);
    std::vector<std::size_t> cursor(offsets.begin(), offsets.end() - 1);
    std::vector<index_type> indices(n);
    const index_type* at = placement.data();
    for (std::size_t i = 0; i < n; ++i) {
      const index_type b = at[next[static_cast<std::size_t>(size(i))]++];
      indices[cursor[b]++] = static_cast<index_type>(i);
    }
    return grouping(std::move(offsets), std::move(indices));
  }
  // Buckets of 2^shift consecutive bins, at most 256 of them: pass 1 writes one stream per bucket
  // (few enough for the first-level cache and the prefetcher), pass 2 handles one bucket at a time.
  unsigned shift = 0;
  while ((bins >> shift) >= 256) ++shift;
  const std::size_t buckets = (bins >> shift) + 1;
  // One 64-bit record per item, in its bucket: item | bin << 32 (index_type is 32 bits). The
  // `ahead` spare records keep pass 1's write prefetch inside the allocation.
  constexpr std::size_t ahead = 16;
  const std::unique_ptr<std::uint64_t[]> record(new std::uint64_t[n + ahead]);
  if (h.chunks == 1) {
    // Pass 1: items in index order to their bucket of 2^shift bins (stable).
    std::vector<std::size_t> pos(buckets);
    for (std::size_t q = 0; q < buckets; ++q) pos[q] = offsets[std::min(q << shift, bins)];
    const std::size_t sizes = next_of_size.size();
    const std::unique_ptr<std::uint32_t[]> next(new std::uint32_t[sizes]);
    for (std::size_t s = 0; s < sizes; ++s) next[s] = static_cast<std::uint32_t>(next_of_size[s]);
    const index_type* at = placement.data();
    std::uint64_t* out = record.get();
    std::size_t* bucket_pos = pos.data();
    // The next line of each size's run is fetched `lookahead` items early, and each bucket's
    // stream two lines ahead of its cursor (the stores otherwise wait on their lines).
    constexpr std::size_t lookahead = 24;
    const std::size_t stop = n > lookahead ? n - lookahead : 0;
    const auto put = [&](std::size_t i) {
      const std::uint64_t b = at[next[static_cast<std::size_t>(size(i))]++];
      const std::size_t p = bucket_pos[b >> shift]++;
      FULCRUM_PREFETCH_WRITE(out + p + ahead);
      out[p] = i | b << 32;
    };
    std::size_t i = 0;
    for (; i < stop; ++i) {
      FULCRUM_PREFETCH(at + next[static_cast<std::size_t>(size(i + lookahead))]);
      put(i);
    }
    for (; i < n; ++i) put(i);
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
        const std::uint64_t b = bin_of[i];
        record[at[b >> shift]++] = i | b << 32;
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
    index_type* dst = indices.data();
    constexpr std::size_t write_ahead = 4096;  // items: the next bucket's output lines are fetched early
    for (std::size_t q = q_first; q < q_last; ++q) {
      const std::size_t first = q << shift;
      if (first >= bins) break;
      const std::size_t last = std::min(first + width, bins);
      std::copy(offsets.begin() + static_cast<std::ptrdiff_t>(first),
                offsets.begin() + static_cast<std::ptrdiff_t>(last), cursor.begin());
      for (std::size_t p = offsets[first], end = offsets[last]; p < end; ++p) {
        const std::uint64_t r = record[p];
        if ((p & 15) == 0 && p + write_ahead < n) FULCRUM_PREFETCH_WRITE(dst + p + write_ahead);
        dst[cursor[static_cast<std::size_t>(r >> 32) - first]++] = static_cast<index_type>(r);
      }
    }
  });
  return grouping(std::move(offsets), std::move(indices));
}

}  // namespace fulcrum::detail
