// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/multi_impl.hpp
/// Definitions of the multi-constraint packers declared in packing/multi.hpp (templates only, so
/// any TU may include this header: with FULCRUM_COMPILED the extern declarations in multi.hpp
/// still send D = 1..8 to fulcrum::compiled, and another D is instantiated here). Included by
/// multi.hpp in header-only mode. multi_pack_flat is in multi_flat_impl.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/bounds.hpp"
#include "fulcrum/packing/detail/best_fit_bins.hpp"
#include "fulcrum/packing/detail/successor_bitmap.hpp"
#include "fulcrum/packing/multi.hpp"
#include "fulcrum/packing/packing.hpp"

namespace fulcrum {

namespace detail {

template <std::size_t D>
void validate_multi(const char* where, std::span<const size_vector<D>> sizes, const size_vector<D>& capacity) {
  static_assert(D >= 1, "multi-constraint packing needs at least one dimension");
  for (std::size_t d = 0; d < D; ++d)
    if (capacity[d] == 0) throw invalid_input(describe(where, "capacity", d, capacity[d], "must be positive"));
  if (sizes.size() > std::numeric_limits<index_type>::max())
    throw invalid_input(describe(where, "items", sizes.size(), "more items than index_type can address"));
  for (std::size_t i = 0; i < sizes.size(); ++i)
    for (std::size_t d = 0; d < D; ++d)
      if (sizes[i][d] > capacity[d])
        throw infeasible(describe(where, "sizes[" + std::to_string(i) + "]", d, sizes[i][d],
                                  "exceeds the bin capacity in this dimension"));
}

template <std::size_t D>
[[nodiscard]] bool fits(const size_vector<D>& room, const size_vector<D>& s) noexcept {
  for (std::size_t d = 0; d < D; ++d)
    if (room[d] < s[d]) return false;
  return true;
}

/// Tournament tree over bins: per node, the per-dimension maximum room of its bins.
template <std::size_t D>
class multi_first_fit_tree {
 public:
  static constexpr index_type none = static_cast<index_type>(-1);
  explicit multi_first_fit_tree(std::size_t initial_leaves) {
    while (leaves_ < initial_leaves) leaves_ *= 2;
    tree_.assign(2 * leaves_, size_vector<D>{});
  }
  index_type open(const size_vector<D>& room) {
    if (bins_ == leaves_) grow();
    const auto b = static_cast<index_type>(bins_++);
    set(b, room);
    return b;
  }
  void set(index_type b, const size_vector<D>& room) noexcept {
    std::size_t node = leaves_ + b;
    tree_[node] = room;
    for (node /= 2; node >= 1; node /= 2)
      for (std::size_t d = 0; d < D; ++d) tree_[node][d] = std::max(tree_[2 * node][d], tree_[2 * node + 1][d]);
  }
  [[nodiscard]] const size_vector<D>& room(index_type b) const noexcept { return tree_[leaves_ + b]; }
  /// Lowest-index open bin where every dimension fits, or none. With a finite `budget`, at most
  /// that many tree nodes are inspected; `exhausted` tells whether the budget ran out first (then
  /// `none` means "not found within the budget", not "no bin fits").
  [[nodiscard]] index_type first_fit(const size_vector<D>& s,
                                     std::size_t budget = std::numeric_limits<std::size_t>::max(),
                                     bool* exhausted = nullptr) const {
    bool all_zero = true;
    for (std::size_t d = 0; d < D; ++d) all_zero = all_zero && s[d] == 0;
    if (all_zero) return bins_ > 0 ? index_type{0} : none;
    std::size_t left = budget;
    const index_type b = search(1, s, left);
    if (exhausted != nullptr) *exhausted = b == none && left == 0;
    return b;
  }
  [[nodiscard]] std::size_t bins() const noexcept { return bins_; }

 private:
  [[nodiscard]] index_type search(std::size_t node, const size_vector<D>& s, std::size_t& budget) const {
    if (budget == 0) return none;
    --budget;
    if (!fits(tree_[node], s)) return none;
    if (node >= leaves_) return static_cast<index_type>(node - leaves_);
    const index_type left = search(2 * node, s, budget);
    return left != none ? left : search(2 * node + 1, s, budget);
  }
  void grow() {
    std::vector<size_vector<D>> bigger(4 * leaves_, size_vector<D>{});
    std::copy(tree_.begin() + static_cast<std::ptrdiff_t>(leaves_), tree_.end(),
              bigger.begin() + static_cast<std::ptrdiff_t>(2 * leaves_));
    leaves_ *= 2;
    for (std::size_t node = leaves_ - 1; node >= 1; --node)
      for (std::size_t d = 0; d < D; ++d) bigger[node][d] = std::max(bigger[2 * node][d], bigger[2 * node + 1][d]);
    tree_.swap(bigger);
  }
  std::size_t leaves_ = 1;
  std::size_t bins_ = 0;
  std::vector<size_vector<D>> tree_;
};

template <std::size_t D>
[[nodiscard]] multi_packing<D> make_multi_packing(std::span<const size_vector<D>> sizes, const size_vector<D>& capacity,
                                                  const std::vector<index_type>& bin_of,
                                                  std::vector<size_vector<D>> loads, pack_algorithm algorithm) {
  multi_packing<D> p;
  p.bins = grouping::from_assignment(std::span<const index_type>(bin_of), loads.size());
  p.loads = std::move(loads);
  for (std::size_t d = 0; d < D; ++d)
    p.lower_bound = std::max(p.lower_bound, lower_bound_l2_fn(
                                                sizes.size(), [&](std::size_t i) { return sizes[i][d]; }, capacity[d]));
  p.proven_optimal = p.bins.size() == p.lower_bound;
  p.algorithm = algorithm;
  return p;
}

/// Tree nodes the bounded first fit inspects per item (then it tries the most recent bins).
inline constexpr std::size_t multi_first_fit_node_budget = 512;
/// Most recently opened bins tried when the node budget runs out.
inline constexpr std::size_t multi_first_fit_recent_bins = 16;

/// First fit over `order`. `bounded`: each query inspects at most multi_first_fit_node_budget tree
/// nodes; if that runs out, the item goes to the lowest-index bin among the
/// multi_first_fit_recent_bins most recently opened that fits, else to a new bin. O(n D (512 + 16))
/// worst case instead of O(n D B).
template <std::size_t D>
[[nodiscard]] multi_packing<D> multi_first_fit_in(std::span<const size_vector<D>> sizes, const size_vector<D>& capacity,
                                                  std::span<const index_type> order, pack_algorithm algorithm,
                                                  bool bounded = false) {
  std::vector<index_type> bin_of(sizes.size());
  std::vector<size_vector<D>> loads;
  multi_first_fit_tree<D> tree(std::max<std::size_t>(16, sizes.size() / 8));
  for (const index_type i : order) {
    const size_vector<D>& s = sizes[i];
    bool exhausted = false;
    index_type b = bounded ? tree.first_fit(s, multi_first_fit_node_budget, &exhausted) : tree.first_fit(s);
    if (exhausted) {
      const std::size_t bins = tree.bins();
      const std::size_t from = bins > multi_first_fit_recent_bins ? bins - multi_first_fit_recent_bins : 0;
      for (std::size_t r = from; r < bins && b == multi_first_fit_tree<D>::none; ++r)
        if (fits(tree.room(static_cast<index_type>(r)), s)) b = static_cast<index_type>(r);
    }
    if (b == multi_first_fit_tree<D>::none) {
      size_vector<D> room{};
      for (std::size_t d = 0; d < D; ++d) room[d] = capacity[d] - s[d];
      b = tree.open(room);
      loads.push_back(s);
    } else {
      size_vector<D> room = tree.room(b);
      for (std::size_t d = 0; d < D; ++d) {
        room[d] -= s[d];
        loads[b][d] += s[d];
      }
      tree.set(b, room);
    }
    bin_of[i] = b;
  }
  return make_multi_packing<D>(sizes, capacity, bin_of, std::move(loads), algorithm);
}

}  // namespace detail

/// Next fit in index order, every dimension respected. See file docs.
template <std::size_t D>
[[nodiscard]] multi_packing<D> multi_next_fit(std::span<const size_vector<D>> sizes, const size_vector<D>& capacity) {
  detail::validate_multi<D>("multi_next_fit", sizes, capacity);
  std::vector<index_type> bin_of(sizes.size());
  std::vector<size_vector<D>> loads;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    bool fits = !loads.empty();
    for (std::size_t d = 0; d < D && fits; ++d) fits = sizes[i][d] <= capacity[d] - loads.back()[d];
    if (!fits) loads.push_back(size_vector<D>{});
    for (std::size_t d = 0; d < D; ++d) loads.back()[d] += sizes[i][d];
    bin_of[i] = static_cast<index_type>(loads.size() - 1);
  }
  return detail::make_multi_packing<D>(sizes, capacity, bin_of, std::move(loads), pack_algorithm::next_fit);
}

/// First fit in index order, every dimension respected. See file docs.
template <std::size_t D>
[[nodiscard]] multi_packing<D> multi_first_fit(std::span<const size_vector<D>> sizes, const size_vector<D>& capacity) {
  detail::validate_multi<D>("multi_first_fit", sizes, capacity);
  std::vector<index_type> order(sizes.size());
  std::iota(order.begin(), order.end(), index_type{0});
  return detail::multi_first_fit_in<D>(sizes, capacity, order, pack_algorithm::first_fit);
}

namespace detail {

/// Items by dominant normalised size max_d s_d / C_d descending, then by the sum of normalised
/// sizes descending, then by lower index. The dominant size is compared as floor(2^48 s_d / C_d)
/// (computed in 128 bits), which orders distinct fractions exactly when every C_d < 2^24.
template <std::size_t D>
[[nodiscard]] std::vector<index_type> dominant_order(std::span<const size_vector<D>> sizes,
                                                     const size_vector<D>& capacity) {
  struct key {
    std::uint64_t dominant;
    double spread;
    index_type index;
  };
  const std::size_t n = sizes.size();
  std::vector<key> keys(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t dominant = 0;
    double spread = 0;
    for (std::size_t d = 0; d < D; ++d) {
      const auto q = static_cast<std::uint64_t>((static_cast<u128>(sizes[i][d]) << 48) / capacity[d]);
      dominant = std::max(dominant, q);
      spread += static_cast<double>(sizes[i][d]) / static_cast<double>(capacity[d]);
    }
    keys[i] = {dominant, spread, static_cast<index_type>(i)};
  }
  std::sort(keys.begin(), keys.end(), [](const key& a, const key& b) {
    if (a.dominant != b.dominant) return a.dominant > b.dominant;
    if (a.spread != b.spread) return a.spread > b.spread;
    return a.index < b.index;
  });
  std::vector<index_type> order(n);
  for (std::size_t k = 0; k < n; ++k) order[k] = keys[k].index;
  return order;
}

/// Whether multi_best_fit_decreasing's class buckets apply: prod_{d>=1} (C_d + 1) <= 1024 and
/// classes x (C_0 + 1) <= 2^24.
template <std::size_t D>
[[nodiscard]] bool multi_classes_apply(const size_vector<D>& capacity) noexcept {
  std::uint64_t classes = 1;
  for (std::size_t d = 1; d < D; ++d) {
    if (capacity[d] >= 1024) return false;
    classes *= capacity[d] + 1;
    if (classes > 1024) return false;
  }
  return capacity[0] < (std::uint64_t{1} << 24) && classes * (capacity[0] + 1) <= (std::uint64_t{1} << 24);
}

}  // namespace detail

/// First-fit decreasing by dominant normalised size, every dimension respected. See file docs.
template <std::size_t D>
[[nodiscard]] multi_packing<D> multi_first_fit_decreasing(std::span<const size_vector<D>> sizes,
                                                          const size_vector<D>& capacity) {
  detail::validate_multi<D>("multi_first_fit_decreasing", sizes, capacity);
  const std::vector<index_type> order = detail::dominant_order<D>(sizes, capacity);
  return detail::multi_first_fit_in<D>(sizes, capacity, order, pack_algorithm::first_fit_decreasing);
}

/// Best-fit decreasing by normalised residual (see file docs); falls back to
/// multi_first_fit_decreasing when the class buckets do not apply.
template <std::size_t D>
[[nodiscard]] multi_packing<D> multi_best_fit_decreasing(std::span<const size_vector<D>> sizes,
                                                         const size_vector<D>& capacity) {
  detail::validate_multi<D>("multi_best_fit_decreasing", sizes, capacity);
  if (!detail::multi_classes_apply<D>(capacity)) {
    // Bounded first-fit decreasing: O(n log n + n D 528) whatever the input (the unbounded
    // search is O(D B) per item on near-complementary items, quadratic overall).
    const std::vector<index_type> order = detail::dominant_order<D>(sizes, capacity);
    return detail::multi_first_fit_in<D>(sizes, capacity, order, pack_algorithm::first_fit_decreasing, true);
  }
  const std::vector<index_type> order = detail::dominant_order<D>(sizes, capacity);
  // Classes: the room vector of dimensions 1..D-1, mixed radix, key = sum_d room_d * stride_d.
  std::array<std::uint64_t, D> stride{};
  std::size_t classes = 1;
  for (std::size_t d = 1; d < D; ++d) {
    stride[d] = classes;
    classes *= static_cast<std::size_t>(capacity[d] + 1);
  }
  std::vector<size_vector<D>> class_room(classes);
  for (std::size_t k = 0; k < classes; ++k)
    for (std::size_t d = 1; d < D; ++d) class_room[k][d] = (k / stride[d]) % (capacity[d] + 1);
  const auto c0 = static_cast<std::size_t>(capacity[0]);
  std::vector<index_type> heads(classes * (c0 + 1), detail::no_bin);  // stack per (class, room_0)
  std::vector<detail::successor_bitmap> nonempty(classes, detail::successor_bitmap(c0 + 1));
  std::vector<index_type> below;
  std::vector<size_vector<D>> loads;
  std::vector<index_type> bin_of(sizes.size());
  std::array<double, D> inv{};
  for (std::size_t d = 0; d < D; ++d) inv[d] = 1.0 / static_cast<double>(capacity[d]);
  auto key_of = [&](const size_vector<D>& room) {
    std::size_t k = 0;
    for (std::size_t d = 1; d < D; ++d) k += static_cast<std::size_t>(room[d] * stride[d]);
    return k;
  };
  auto push = [&](index_type b, const size_vector<D>& room) {
    const std::size_t k = key_of(room);
    const std::size_t slot = k * (c0 + 1) + static_cast<std::size_t>(room[0]);
    below[b] = heads[slot];
    if (heads[slot] == detail::no_bin) nonempty[k].insert(static_cast<std::size_t>(room[0]));
    heads[slot] = b;
  };
  for (const index_type i : order) {
    const size_vector<D>& s = sizes[i];
    std::size_t best_k = classes, best_r0 = 0;
    double best_score = 0;
    for (std::size_t k = 0; k < classes; ++k) {
      bool ok = true;
      for (std::size_t d = 1; d < D && ok; ++d) ok = class_room[k][d] >= s[d];
      if (!ok) continue;
      const std::size_t r0 = nonempty[k].next(static_cast<std::size_t>(s[0]));
      if (r0 == detail::successor_bitmap::none) continue;
      double score = static_cast<double>(r0 - s[0]) * inv[0];
      for (std::size_t d = 1; d < D; ++d) score += static_cast<double>(class_room[k][d] - s[d]) * inv[d];
      if (best_k == classes || score < best_score) {
        best_k = k;
        best_r0 = r0;
        best_score = score;
      }
    }
    index_type b;
    size_vector<D> room;
    if (best_k == classes) {
      b = static_cast<index_type>(loads.size());
      loads.push_back(s);
      below.push_back(detail::no_bin);
      for (std::size_t d = 0; d < D; ++d) room[d] = capacity[d] - s[d];
    } else {
      const std::size_t slot = best_k * (c0 + 1) + best_r0;
      b = heads[slot];
      heads[slot] = below[b];
      if (heads[slot] == detail::no_bin) nonempty[best_k].erase(best_r0);
      for (std::size_t d = 0; d < D; ++d) loads[b][d] += s[d];
      for (std::size_t d = 0; d < D; ++d) room[d] = capacity[d] - loads[b][d];
    }
    push(b, room);
    bin_of[i] = b;
  }
  return detail::make_multi_packing<D>(sizes, capacity, bin_of, std::move(loads), pack_algorithm::best_fit_decreasing);
}

/// Lower bound for vector packing: max over dimensions of L2. O(D (n + C) ) or O(D n log n).
template <std::size_t D>
[[nodiscard]] std::uint64_t multi_lower_bound(std::span<const size_vector<D>> sizes, const size_vector<D>& capacity) {
  std::uint64_t lb = 0;
  for (std::size_t d = 0; d < D; ++d)
    lb = std::max(lb, detail::lower_bound_l2_fn(
                          sizes.size(), [&](std::size_t i) { return sizes[i][d]; }, capacity[d]));
  return lb;
}


}  // namespace fulcrum
