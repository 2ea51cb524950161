// SPDX-License-Identifier: Apache-2.0
/// @file core/grouping.hpp
/// `grouping`: groups of item indices stored CSR-style (offsets + indices). The result type of
/// packing (bins) and balancing (parts). Contract (docs/design.md).
///
/// Building from an assignment (item -> group) is a stable counting sort, O(n + groups): within a
/// group, items appear in increasing index order unless built from explicit groups.
///
/// A grouping is a random-access, sized range of its groups: `for (std::span<const index_type> g :
/// grouping)` visits the groups in order. Free helpers: `group_sums(g, per_item)` sums a per-item
/// value over each group (O(items), overflow-checked for integers) and `compose(outer, inner)`
/// flattens a grouping of groups (packs of samples -> ranks of packs -> ranks of samples).
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/hash.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

class grouping {
 public:
  /// The most groups a grouping may hold: a group number must fit in `index_type` (see
  /// `assignment`). Larger counts are rejected with invalid_input before anything is allocated.
  static constexpr std::size_t max_groups = std::numeric_limits<index_type>::max();

  /// Random-access iterator over the groups; dereferences to the group's item indices.
  class iterator {
   public:
    using iterator_concept = std::random_access_iterator_tag;
    using iterator_category = std::input_iterator_tag;  // references are spans (prvalues)
    using value_type = std::span<const index_type>;
    using reference = std::span<const index_type>;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    [[nodiscard]] reference operator*() const { return (*g_)[i_]; }
    [[nodiscard]] reference operator[](difference_type n) const { return (*g_)[advanced(n)]; }
    iterator& operator++() noexcept {
      ++i_;
      return *this;
    }
    iterator operator++(int) noexcept {
      auto t = *this;
      ++i_;
      return t;
    }
    iterator& operator--() noexcept {
      --i_;
      return *this;
    }
    iterator operator--(int) noexcept {
      auto t = *this;
      --i_;
      return t;
    }
    iterator& operator+=(difference_type n) noexcept {
      i_ = advanced(n);
      return *this;
    }
    iterator& operator-=(difference_type n) noexcept {
      i_ = advanced(-n);
      return *this;
    }
    [[nodiscard]] friend iterator operator+(iterator it, difference_type n) noexcept { return it += n; }
    [[nodiscard]] friend iterator operator+(difference_type n, iterator it) noexcept { return it += n; }
    [[nodiscard]] friend iterator operator-(iterator it, difference_type n) noexcept { return it -= n; }
    [[nodiscard]] friend difference_type operator-(const iterator& a, const iterator& b) noexcept {
      return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
    }
    [[nodiscard]] friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.i_ == b.i_; }
    [[nodiscard]] friend std::strong_ordering operator<=>(const iterator& a, const iterator& b) noexcept {
      return a.i_ <=> b.i_;
    }

   private:
    friend class grouping;
    iterator(const grouping* g, std::size_t i) noexcept : g_(g), i_(i) {}
    [[nodiscard]] std::size_t advanced(difference_type n) const noexcept {
      return static_cast<std::size_t>(static_cast<difference_type>(i_) + n);
    }
    const grouping* g_ = nullptr;
    std::size_t i_ = 0;
  };
  using const_iterator = iterator;

  /// An empty grouping (no groups, no items).
  grouping() : offsets_{0} {}

  /// From CSR arrays. offsets: size()+1 non-decreasing entries, front() == 0, back() == indices.size().
  /// Throws invalid_input if the arrays are inconsistent.
  grouping(std::vector<std::size_t> offsets, std::vector<index_type> indices)
      : offsets_(std::move(offsets)), indices_(std::move(indices)) {
    check();
  }

  /// Replaces the contents with copies of CSR arrays (same checks as the constructor), keeping this
  /// grouping's storage: no allocation when it already holds as many offsets and indices, so a
  /// caller that reuses a result (e.g. pack_for_ranks with a workspace) stays allocation-free.
  /// Throws invalid_input if the arrays are inconsistent (the grouping is then left unchanged).
  void assign(std::span<const std::size_t> offsets, std::span<const index_type> indices) {
    check(offsets, indices.size());
    offsets_.assign(offsets.begin(), offsets.end());
    indices_.assign(indices.begin(), indices.end());
  }

 private:
  void check() const { check(offsets_, indices_.size()); }
  static void check(std::span<const std::size_t> offs, std::size_t index_count) {
    if (offs.empty() || offs.front() != 0) throw invalid_input("grouping: offsets must start with 0");
    if (offs.size() - 1 > max_groups)
      throw invalid_input(detail::describe("grouping", "groups", offs.size() - 1, "exceeds grouping::max_groups"));
    for (std::size_t g = 1; g < offs.size(); ++g)
      if (offs[g] < offs[g - 1])
        throw invalid_input(detail::describe("grouping", "offsets", g, offs[g], "is smaller than the previous offset"));
    if (offs.back() != index_count)
      throw invalid_input(detail::describe("grouping", "offsets", offs.size() - 1, offs.back(),
                                           "last offset must equal the number of indices"));
  }

 public:
  /// From an explicit list of groups (order kept).
  static grouping from_groups(const std::vector<std::vector<index_type>>& groups) {
    if (groups.size() > max_groups)
      throw invalid_input(
          detail::describe("grouping::from_groups", "groups", groups.size(), "exceeds grouping::max_groups"));
    std::vector<std::size_t> offsets;
    offsets.reserve(groups.size() + 1);
    offsets.push_back(0);
    std::size_t total = 0;
    for (const auto& g : groups) offsets.push_back(total += g.size());
    std::vector<index_type> indices;
    indices.reserve(total);
    for (const auto& g : groups) indices.insert(indices.end(), g.begin(), g.end());
    return grouping(std::move(offsets), std::move(indices));
  }

  /// From an assignment: group_of[i] is the group of item i (< groups). Stable counting sort.
  /// Throws invalid_input (before allocating) if groups > max_groups or an entry is not below groups.
  template <class G>
  static grouping from_assignment(std::span<const G> group_of, std::size_t groups) {
    grouping g;
    g.assign_from_assignment(group_of, groups);
    return g;
  }
  /// from_assignment into this grouping, reusing its storage (no allocation once it has held as
  /// many groups and items). On invalid_input this grouping is left empty.
  template <class G>
  void assign_from_assignment(std::span<const G> group_of, std::size_t groups) {
    offsets_.assign(1, 0);
    indices_.clear();
    if (groups > max_groups)
      throw invalid_input(
          detail::describe("grouping::from_assignment", "groups", groups, "exceeds grouping::max_groups (2^32 - 1)"));
    if (group_of.size() > std::numeric_limits<index_type>::max())
      throw invalid_input(detail::describe("grouping::from_assignment", "items", group_of.size(),
                                           "more items than index_type can address"));
    offsets_.assign(groups + 1, 0);
    for (std::size_t i = 0; i < group_of.size(); ++i) {
      if constexpr (std::is_signed_v<G>)
        if (group_of[i] < G{0}) {
          offsets_.assign(1, 0);
          throw invalid_input(detail::describe("grouping::from_assignment", "group_of", i, group_of[i], "is negative"));
        }
      const auto g = static_cast<std::size_t>(group_of[i]);
      if (g >= groups) {
        offsets_.assign(1, 0);
        throw invalid_input(detail::describe("grouping::from_assignment", "group_of", i, g, "is not below the group count"));
      }
      ++offsets_[g + 1];
    }
    // offsets_[g] becomes the start of group g + 1 ... and is used as group g's cursor: after the
    // scatter offsets_[g] is the end of group g, and one shift right gives the offsets.
    std::size_t start = 0;
    for (std::size_t g = 0; g < groups; ++g) {
      const std::size_t size = offsets_[g + 1];
      offsets_[g] = start;
      start += size;
    }
    indices_.assign(group_of.size(), index_type{0});  // not resize: g++ 12 -Wstringop-overflow misfires
    for (std::size_t i = 0; i < group_of.size(); ++i)
      indices_[offsets_[static_cast<std::size_t>(group_of[i])]++] = static_cast<index_type>(i);
    for (std::size_t g = groups; g > 0; --g) offsets_[g] = offsets_[g - 1];
    offsets_[0] = 0;
  }
  template <class G>
  static grouping from_assignment(const std::vector<G>& group_of, std::size_t groups) {
    return from_assignment(std::span<const G>(group_of), groups);
  }

  /// Number of groups.
  [[nodiscard]] std::size_t size() const noexcept { return offsets_.size() - 1; }
  /// The groups in order (range-for over a grouping yields std::span<const index_type>).
  [[nodiscard]] iterator begin() const noexcept { return iterator(this, 0); }
  [[nodiscard]] iterator end() const noexcept { return iterator(this, size()); }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  /// Number of items over all groups.
  [[nodiscard]] std::size_t item_count() const noexcept { return indices_.size(); }
  /// Item indices of group g.
  [[nodiscard]] std::span<const index_type> operator[](std::size_t g) const {
    return std::span<const index_type>(indices_).subspan(offsets_[g], offsets_[g + 1] - offsets_[g]);
  }
  /// size()+1 entries; group g is indices()[offsets()[g] .. offsets()[g+1]).
  [[nodiscard]] std::span<const std::size_t> offsets() const noexcept { return offsets_; }
  /// All indices, group by group.
  [[nodiscard]] std::span<const index_type> indices() const noexcept { return indices_; }
  /// Number of items in group g.
  [[nodiscard]] std::size_t group_size(std::size_t g) const { return offsets_[g + 1] - offsets_[g]; }

  /// The inverse map: result[i] = group of item i, for items 0..n-1. Throws invalid_input if an
  /// index is out of range or appears twice, or an item in 0..n-1 is missing.
  [[nodiscard]] std::vector<index_type> assignment(std::size_t n) const {
    constexpr index_type unset = std::numeric_limits<index_type>::max();
    std::vector<index_type> group_of(n, unset);
    for (std::size_t g = 0; g < size(); ++g)
      for (index_type i : (*this)[g]) {
        if (i >= n) throw invalid_input(detail::describe("grouping::assignment", "index", g, i, "is out of range"));
        if (group_of[i] != unset)
          throw invalid_input(detail::describe("grouping::assignment", "index", g, i, "appears twice"));
        group_of[i] = static_cast<index_type>(g);
      }
    for (std::size_t i = 0; i < n; ++i)
      if (group_of[i] == unset) throw invalid_input(detail::describe("grouping::assignment", "item", i, i, "is missing"));
    return group_of;
  }

  /// 64-bit FNV-1a over the group count, offsets and indices (as 64-bit little-endian values):
  /// equal groupings give equal fingerprints on every platform. Used to compare plans across runs,
  /// threads, backends and ranks.
  [[nodiscard]] std::uint64_t fingerprint() const noexcept {
    return fnv1a64{}.integer(size()).integers(offsets()).integers(indices()).value();
  }

  friend bool operator==(const grouping&, const grouping&) = default;

 private:
  std::vector<std::size_t> offsets_;
  std::vector<index_type> indices_;
};

/// Sums a per-item value over each group: result[g] = sum of per_item[i] for i in group g, added in
/// the group's item order (deterministic). O(items + groups). Throws invalid_input if an index is
/// not below per_item.size(), or (integer T) if a sum overflows T.
template <class T>
  requires std::is_arithmetic_v<T>
[[nodiscard]] std::vector<T> group_sums(const grouping& groups, std::span<const T> per_item) {
  std::vector<T> sums(groups.size(), T{});
  for (std::size_t g = 0; g < groups.size(); ++g) {
    T sum{};
    for (index_type i : groups[g]) {
      if (i >= per_item.size())
        throw invalid_input(detail::describe("group_sums", "index", g, i, "is not below per_item.size()"));
      const T v = per_item[i];
      if constexpr (std::is_integral_v<T>) {
        if ((v > T{0} && sum > std::numeric_limits<T>::max() - v) ||
            (v < T{0} && sum < std::numeric_limits<T>::lowest() - v))
          throw invalid_input(detail::describe("group_sums", "group", g, sum, "sum overflows the value type"));
      }
      sum = static_cast<T>(sum + v);
    }
    sums[g] = sum;
  }
  return sums;
}
template <class T>
  requires std::is_arithmetic_v<T>
[[nodiscard]] std::vector<T> group_sums(const grouping& groups, const std::vector<T>& per_item) {
  return group_sums(groups, std::span<const T>(per_item));
}

/// Composes two groupings: `inner` groups items (e.g. samples into packs), `outer` groups the
/// groups of `inner` (e.g. packs onto ranks). Group g of the result is the concatenation of the
/// inner groups listed in outer group g, in that order (ranks of samples). O(outer indices + items).
/// Throws invalid_input if an outer index is not below inner.size().
[[nodiscard]] inline grouping compose(const grouping& outer, const grouping& inner) {
  std::vector<std::size_t> offsets;
  offsets.reserve(outer.size() + 1);
  offsets.push_back(0);
  std::size_t total = 0;
  for (std::size_t g = 0; g < outer.size(); ++g) {
    for (index_type j : outer[g]) {
      if (j >= inner.size())
        throw invalid_input(detail::describe("compose", "outer index", g, j, "is not below inner.size()"));
      total += inner.group_size(j);
    }
    offsets.push_back(total);
  }
  std::vector<index_type> indices;
  indices.reserve(total);
  for (std::span<const index_type> og : outer)
    for (index_type j : og) {
      const auto part = inner[j];
      indices.insert(indices.end(), part.begin(), part.end());
    }
  return grouping(std::move(offsets), std::move(indices));
}

}  // namespace fulcrum
