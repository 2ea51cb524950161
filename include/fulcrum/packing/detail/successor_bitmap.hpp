// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/successor_bitmap.hpp
/// A set of integers in [0, U) as a hierarchy of 64-bit words (a 64-ary "van Emde Boas lite"):
/// insert, erase and `next(x)` = smallest member >= x, each O(log_64 U) word operations
/// (at most 4 for U <= 2^24). Used to find the smallest non-empty remaining-space bucket >= s.
#pragma once

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
    std::size_t l = 0;
    do {
      const std::size_t words = (bits + 63) / 64;
      if (l == levels_.size()) levels_.emplace_back();
      levels_[l].assign(words, 0);
      ++l;
      bits = words;
    } while (bits > 1);
    levels_.resize(l);
  }

  void insert(std::size_t x) noexcept {
    for (auto& level : levels_) {
      const std::uint64_t bit = std::uint64_t{1} << (x & 63);
      const bool was_empty = level[x >> 6] == 0;
      level[x >> 6] |= bit;
      if (!was_empty) return;
      x >>= 6;
    }
  }

  void erase(std::size_t x) noexcept {
    for (auto& level : levels_) {
      level[x >> 6] &= ~(std::uint64_t{1} << (x & 63));
      if (level[x >> 6] != 0) return;
      x >>= 6;
    }
  }

  [[nodiscard]] bool contains(std::size_t x) const noexcept { return (levels_[0][x >> 6] >> (x & 63)) & 1; }

  /// Smallest member >= x, or none.
  [[nodiscard]] std::size_t next(std::size_t x) const noexcept {
    std::size_t l = 0;
    for (;; ++l) {
      if (l == levels_.size()) return none;
      const auto& level = levels_[l];
      const std::size_t w = x >> 6;
      if (w >= level.size()) return none;
      const std::uint64_t word = level[w] & (~std::uint64_t{0} << (x & 63));
      if (word != 0) {
        x = (w << 6) | static_cast<std::size_t>(std::countr_zero(word));
        break;
      }
      x = w + 1;  // continue one level up, from the next word
    }
    while (l > 0) {
      --l;
      x = (x << 6) | static_cast<std::size_t>(std::countr_zero(levels_[l][x]));
    }
    return x;
  }

 private:
  std::vector<std::vector<std::uint64_t>> levels_;
};

}  // namespace fulcrum::detail
