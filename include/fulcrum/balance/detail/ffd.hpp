// SPDX-License-Identifier: Apache-2.0
/// @file balance/detail/ffd.hpp
/// Cost-based first-fit decreasing onto a fixed number of bins, the feasibility test inside
/// multifit (balance/multifit.hpp) and the capacity check of balance().
///
/// Items are visited in the given order (cost descending, ties by index); each goes to the
/// lowest-index bin whose load + cost stays <= capacity (and, with count limits, that still has
/// room). "Lowest such bin" is found in O(log k) by descending a segment tree of the bins'
/// minimum load; bins without room are set to +infinity in the tree. O(n log k) time, O(k) memory.
#pragma once

#include <bit>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "fulcrum/core/detail/scratch.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum::detail {

/// Item count limits per bin for equal-count balancing: every bin gets `floor_count` or
/// `floor_count + 1` items and at most `ceil_bins` bins get the extra one.
struct count_limits {
  std::size_t floor_count = 0;
  std::size_t ceil_bins = 0;
  bool enabled = false;

  static count_limits equal(std::size_t n, std::size_t k) { return {n / k, n % k, true}; }
};

template <class = void>
class basic_first_fit_decreasing {
 public:
  explicit basic_first_fit_decreasing(std::size_t k)
      : k_(k), leaves_(std::bit_ceil(k == 0 ? 1 : k)), tree_(2 * leaves_), loads_(k), counts_(k) {}

  /// Packs `order` into the k bins under `capacity`; on success writes part_of (for the items in
  /// order) and returns true. The bins' loads are available from loads() afterwards.
  bool run(std::span<const cost_t> costs, std::span<const index_type> order, cost_t capacity, count_limits limits,
           std::span<index_type> part_of) {
    constexpr cost_t closed = std::numeric_limits<cost_t>::infinity();
    std::fill(loads_.begin(), loads_.end(), 0.0);
    std::fill(counts_.begin(), counts_.end(), 0);
    std::fill(tree_.begin(), tree_.end(), closed);
    for (std::size_t b = 0; b < k_; ++b) tree_[leaves_ + b] = 0.0;
    for (std::size_t i = leaves_; i-- > 1;) tree_[i] = std::min(tree_[2 * i], tree_[2 * i + 1]);
    const std::size_t f = limits.floor_count, r = limits.ceil_bins;
    std::size_t ceil_used = 0;  // bins holding f + 1 items
    for (index_type item : order) {
      const cost_t c = costs[item];
      if (!(tree_[1] + c <= capacity)) return false;
      std::size_t node = 1;
      while (node < leaves_) node = tree_[2 * node] + c <= capacity ? 2 * node : 2 * node + 1;
      const std::size_t bin = node - leaves_;
      part_of[item] = static_cast<index_type>(bin);
      loads_[bin] += c;
      const std::size_t count = ++counts_[bin];
      bool full = false;
      if (limits.enabled) {
        if (count > f) full = true, ++ceil_used;
        else if (count == f && ceil_used >= r) full = true;
      }
      set(bin, full ? closed : loads_[bin]);
      if (limits.enabled && count > f && ceil_used == r) close_bins_with(f);  // happens once
    }
    return true;
  }

  [[nodiscard]] std::span<const cost_t> loads() const noexcept { return loads_; }

 private:
  void set(std::size_t bin, cost_t value) {
    std::size_t i = leaves_ + bin;
    tree_[i] = value;
    for (i /= 2; i >= 1; i /= 2) tree_[i] = std::min(tree_[2 * i], tree_[2 * i + 1]);
  }
  // Once every extra slot is taken, bins that already hold `count` (= floor_count) items are full.
  void close_bins_with(std::size_t count) {
    for (std::size_t b = 0; b < k_; ++b)
      if (counts_[b] == count) tree_[leaves_ + b] = std::numeric_limits<cost_t>::infinity();
    for (std::size_t i = leaves_; i-- > 1;) tree_[i] = std::min(tree_[2 * i], tree_[2 * i + 1]);
  }

  std::size_t k_;
  std::size_t leaves_;
  scratch_vector<cost_t> tree_;
  scratch_vector<cost_t> loads_;
  scratch_vector<std::size_t> counts_;
};
using first_fit_decreasing = basic_first_fit_decreasing<>;

}  // namespace fulcrum::detail
