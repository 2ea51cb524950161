// SPDX-License-Identifier: Apache-2.0
/// @file balance/detail/order.hpp
/// Internals shared by the balancing heuristics: input validation and the cost-descending item
/// order (ties by item index) computed with an LSD radix sort on the IEEE-754 bit patterns.
///
/// Non-negative finite doubles compare like their bit patterns read as unsigned integers, so a
/// stable LSD radix sort of the complemented bits gives "cost descending, index ascending" in
/// O(n) passes over the data (digits where all keys agree are skipped). Exactly the order that
/// `std::stable_sort` by `cost >` gives, on every platform.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <string_view>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/core/detail/scratch.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/core/validate.hpp"

namespace fulcrum::detail {

/// An item with its cost at hand and its rank: its position in the global order (cost desc,
/// index asc; radix_order_descending), which orders items by one integer comparison.
struct ranked_item {
  cost_t cost;
  index_type index;
  std::uint32_t rank;
};

/// `c ? x : y` computed with masks, so that no compiler turns it into a branch (the merges'
/// choices are coin flips to a predictor).
template <class T>
inline T* select_pointer(bool c, T* x, T* y) {
  const std::uintptr_t mask = std::uintptr_t{0} - static_cast<std::uintptr_t>(c);
  return reinterpret_cast<T*>((reinterpret_cast<std::uintptr_t>(x) & mask) |
                                    (reinterpret_cast<std::uintptr_t>(y) & ~mask));
}

/// How many items ahead the loops over items in cost order (LPT, the local-search engine, the
/// equal-counts Karmarkar-Karp) fetch an item's cost and part (FULCRUM_PREFETCH, config.hpp).
inline constexpr std::size_t prefetch_distance = 16;

/// Throws invalid_input naming the first cost that is NaN, infinite or negative, or when the
/// costs' sum overflows a double (core/validate.hpp: the one validation of every front door).
template <class = void>
inline void require_costs(std::string_view where, std::span<const cost_t> costs) { (void)validate_costs(where, costs); }

/// Stable LSD radix sort of `keys` by the bits [from, from + width) of each key, in digits of
/// `digit` bits; `tmp` is scratch of keys' size. Every digit's histogram is counted in one pass
/// first; a digit where every key agrees is skipped.
template <class = void>
inline void radix_sort_bits(scratch_vector<std::uint64_t>& keys, scratch_vector<std::uint64_t>& tmp, unsigned from,
                            unsigned width, unsigned digit) {
  const std::size_t n = keys.size();
  const unsigned passes = (width + digit - 1) / digit;
  const std::size_t buckets = std::size_t{1} << digit;
  const std::uint64_t mask = buckets - 1;
  scratch_vector<std::size_t> count(passes * buckets, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t key = keys[i] >> from;
    for (unsigned d = 0; d < passes; ++d) ++count[d * buckets + ((key >> (d * digit)) & mask)];
  }
  for (unsigned d = 0; d < passes; ++d) {
    std::size_t* c = count.data() + d * buckets;
    const unsigned shift = from + d * digit;
    if (c[(keys[0] >> shift) & mask] == n) continue;  // every key has the same digit here
    std::size_t sum = 0;
    for (std::size_t b = 0; b < buckets; ++b) {
      const std::size_t here = c[b];
      c[b] = sum;
      sum += here;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t key = keys[i];
      tmp[c[(key >> shift) & mask]++] = key;
    }
    keys.swap(tmp);
  }
}

/// Item indices by cost descending, ties by index ascending. Costs must be finite and >= 0
/// (-0.0 is treated as 0). O(n) time (at most 8 radix passes), O(n) extra memory.
/// When the bits that vary between the costs and the item index fit in 64 bits together (W1:
/// about 40 + 17), each item is one integer (those cost bits complemented, then the index) and
/// only the cost bits are sorted: half the data moved per pass, and the order is the same.
template <class = void>
inline scratch_vector<index_type> radix_order_descending(std::span<const cost_t> costs) {
  const std::size_t n = costs.size();
  scratch_vector<index_type> order(n);
  std::iota(order.begin(), order.end(), index_type{0});
  if (n < 2) return order;
  // key = ~bits: larger cost -> smaller key; stable passes keep index order among equal keys.
  scratch_vector<std::uint64_t> keys(n);
  std::uint64_t all_and = ~std::uint64_t{0}, all_or = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const cost_t c = costs[i] == 0 ? 0.0 : costs[i];  // fold -0.0 into +0.0
    keys[i] = ~std::bit_cast<std::uint64_t>(c);
    all_and &= keys[i];
    all_or |= keys[i];
  }
  const std::uint64_t varying = all_and ^ all_or;  // bits that differ between some keys
  if (varying == 0) return order;                  // all costs equal: index order
  const auto low = static_cast<unsigned>(std::countr_zero(varying));
  const auto width = static_cast<unsigned>(64 - std::countl_zero(varying)) - low;
  const auto index_bits = static_cast<unsigned>(std::bit_width(n - 1));
  scratch_vector<std::uint64_t> keys_tmp(n);
  if (width + index_bits <= 64) {
    const std::uint64_t field = width == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
    for (std::size_t i = 0; i < n; ++i) keys[i] = (((keys[i] >> low) & field) << index_bits) | i;
    radix_sort_bits(keys, keys_tmp, index_bits, width, n >= (std::size_t{1} << 15) ? 11 : 8);
    const std::uint64_t index_mask = (std::uint64_t{1} << index_bits) - 1;
    for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<index_type>(keys[i] & index_mask);
    return order;
  }
  scratch_vector<index_type> order_tmp(n);
  for (unsigned shift = 0; shift < 64; shift += 8) {
    if (((varying >> shift) & 0xffu) == 0) continue;  // every key has the same digit here
    std::array<std::size_t, 257> count{};
    for (std::size_t i = 0; i < n; ++i) ++count[((keys[i] >> shift) & 0xffu) + 1];
    for (std::size_t d = 0; d < 256; ++d) count[d + 1] += count[d];
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t to = count[(keys[i] >> shift) & 0xffu]++;
      keys_tmp[to] = keys[i];
      order_tmp[to] = order[i];
    }
    keys.swap(keys_tmp);
    order.swap(order_tmp);
  }
  return order;
}

}  // namespace fulcrum::detail
