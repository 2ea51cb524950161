// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/successor_bitmap.hpp
/// A set of integers in [0, U) as a hierarchy of 64-bit words (a 64-ary "van Emde Boas lite"):
/// insert, erase and `next(x)` = smallest member >= x, each O(log_64 U) word operations
/// (at most 4 for U <= 2^24). Used to find the smallest non-empty remaining-space bucket >= s.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace fulcrum::detail {

class successor_bitmap {
 public:
  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  successor_bitmap() = default;
  explicit successor_bitmap(std::size_t universe) { assign(universe); }

  /// Empties the set and sets its universe to [0, universe), keeping the storage of the levels (no
  /// allocation when the universe does not grow beyond an earlier one; reusable workspaces).
  void assign(std::size_t universe) {
    std::size_t bits = universe == 0 ? 1 : universe;
    std::size_t total = 0;
    levels_ = 0;
    do {
      const std::size_t words = (bits + 63) / 64;
      offset_[levels_] = total;
      size_[levels_] = words;
      ++levels_;
      total += words;
      bits = words;
    } while (bits > 1);
    words_.assign(total, 0);
  }

  void insert(std::size_t x) noexcept {
    for (std::size_t l = 0; l < levels_; ++l) {
      std::uint64_t& word = words_[offset_[l] + (x >> 6)];
      const bool was_empty = word == 0;
      word |= std::uint64_t{1} << (x & 63);
      if (!was_empty) return;
      x >>= 6;
    }
  }

  void erase(std::size_t x) noexcept {
    for (std::size_t l = 0; l < levels_; ++l) {
      std::uint64_t& word = words_[offset_[l] + (x >> 6)];
      word &= ~(std::uint64_t{1} << (x & 63));
      if (word != 0) return;
      x >>= 6;
    }
  }

  [[nodiscard]] bool contains(std::size_t x) const noexcept { return (words_[x >> 6] >> (x & 63)) & 1; }

  /// Smallest member >= x, or none.
  [[nodiscard]] std::size_t next(std::size_t x) const noexcept {
    const std::uint64_t* const w0 = words_.data();
    std::size_t l = 0;
    for (;; ++l) {
      if (l == levels_) return none;
      const std::size_t w = x >> 6;
      if (w >= size_[l]) return none;
      const std::uint64_t word = w0[offset_[l] + w] & (~std::uint64_t{0} << (x & 63));
      if (word != 0) {
        x = (w << 6) | static_cast<std::size_t>(std::countr_zero(word));
        break;
      }
      x = w + 1;  // continue one level up, from the next word
    }
    while (l > 0) {
      --l;
      x = (x << 6) | static_cast<std::size_t>(std::countr_zero(w0[offset_[l] + x]));
    }
    return x;
  }

 private:
  /// Levels of a universe up to 2^64: 64^11 >= 2^64.
  static constexpr std::size_t max_levels = 11;
  std::vector<std::uint64_t> words_;  ///< all levels, level 0 (the members) first
  std::array<std::size_t, max_levels> offset_{};
  std::array<std::size_t, max_levels> size_{};
  std::size_t levels_ = 0;
};

}  // namespace fulcrum::detail
