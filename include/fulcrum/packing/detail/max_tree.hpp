// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/max_tree.hpp
/// A tournament (max segment) tree over bins in opening order, holding each bin's remaining
/// room. `first_fit(s)` returns the lowest-index bin whose room is >= s in O(log B), which makes
/// first fit O(n log n) instead of the O(n x bins) scan. The tree doubles when full (amortised
/// O(1) per bin). Leaves of bins not yet opened hold 0, so a query for s >= 1 never returns them;
/// size-0 items are answered separately (bin 0, the lowest open bin).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fulcrum/core/types.hpp"

namespace fulcrum::detail {

template <class = void>
class basic_max_tree {
 public:
  static constexpr index_type none = static_cast<index_type>(-1);

  explicit basic_max_tree(std::size_t initial_leaves = 1024) {
    leaves_ = 1;
    while (leaves_ < initial_leaves) leaves_ *= 2;
    tree_.assign(2 * leaves_, 0);
  }

  /// Number of bins opened so far.
  [[nodiscard]] std::size_t bins() const noexcept { return bins_; }

  /// Opens a new bin (index bins()) with the given room and returns its index.
  index_type open(std::uint64_t room) {
    if (bins_ == leaves_) grow();
    const auto b = static_cast<index_type>(bins_++);
    set(b, room);
    return b;
  }

  /// Sets bin b's room.
  void set(index_type b, std::uint64_t room) noexcept {
    std::size_t node = leaves_ + b;
    tree_[node] = room;
    for (node /= 2; node >= 1; node /= 2) {
      const std::uint64_t m = std::max(tree_[2 * node], tree_[2 * node + 1]);
      if (tree_[node] == m) break;  // ancestors unchanged
      tree_[node] = m;
    }
  }

  [[nodiscard]] std::uint64_t room(index_type b) const noexcept { return tree_[leaves_ + b]; }

  /// Lowest-index open bin with room >= s, or none.
  [[nodiscard]] index_type first_fit(std::uint64_t s) const noexcept {
    if (s == 0) return bins_ > 0 ? index_type{0} : none;
    if (tree_[1] < s) return none;
    std::size_t node = 1;
    while (node < leaves_) node = tree_[2 * node] >= s ? 2 * node : 2 * node + 1;
    return static_cast<index_type>(node - leaves_);
  }

 private:
  void grow() {
    std::vector<std::uint64_t> bigger(4 * leaves_, 0);
    std::copy(tree_.begin() + static_cast<std::ptrdiff_t>(leaves_), tree_.end(),
              bigger.begin() + static_cast<std::ptrdiff_t>(2 * leaves_));
    leaves_ *= 2;
    for (std::size_t node = leaves_ - 1; node >= 1; --node)
      bigger[node] = std::max(bigger[2 * node], bigger[2 * node + 1]);
    tree_.swap(bigger);
  }

  std::size_t leaves_ = 1;
  std::size_t bins_ = 0;
  std::vector<std::uint64_t> tree_;
};
using max_tree = basic_max_tree<>;

/// First-fit store for detail/greedy.hpp.
template <class = void>
class basic_first_fit_store {
 public:
  basic_first_fit_store(std::uint64_t capacity, std::size_t expected_bins)
      : capacity_(capacity), tree_(std::min<std::size_t>(std::max<std::size_t>(expected_bins, 16), std::size_t{1} << 22)) {}

  index_type place(std::uint64_t s, std::vector<std::uint64_t>& loads) {
    index_type b = tree_.first_fit(s);
    if (b == max_tree::none) {
      b = tree_.open(capacity_ - s);
      loads.push_back(s);
    } else {
      tree_.set(b, tree_.room(b) - s);
      loads[b] += s;
    }
    return b;
  }

 private:
  std::uint64_t capacity_;
  max_tree tree_;
};
using first_fit_store = basic_first_fit_store<>;

}  // namespace fulcrum::detail
