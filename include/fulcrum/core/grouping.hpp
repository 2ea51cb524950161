// SPDX-License-Identifier: Apache-2.0
/// @file core/grouping.hpp
/// `grouping`: groups of item indices stored CSR-style (offsets + indices). The result type of
/// packing (bins) and balancing (parts). Contract (DESIGN.md).
///
/// Building from an assignment (item -> group) is a stable counting sort, O(n + groups): within a
/// group, items appear in increasing index order unless built from explicit groups.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

class grouping {
 public:
  /// An empty grouping (no groups, no items).
  grouping() : offsets_{0} {}

  /// From CSR arrays. offsets: size()+1 non-decreasing entries, front() == 0, back() == indices.size().
  /// Throws invalid_input if the arrays are inconsistent.
  grouping(std::vector<std::size_t> offsets, std::vector<index_type> indices)
      : offsets_(std::move(offsets)), indices_(std::move(indices)) {
    if (offsets_.empty() || offsets_.front() != 0)
      throw invalid_input("grouping: offsets must start with 0");
    for (std::size_t g = 1; g < offsets_.size(); ++g)
      if (offsets_[g] < offsets_[g - 1])
        throw invalid_input(detail::describe("grouping", "offsets", g, offsets_[g], "is smaller than the previous offset"));
    if (offsets_.back() != indices_.size())
      throw invalid_input(detail::describe("grouping", "offsets", offsets_.size() - 1, offsets_.back(),
                                           "last offset must equal the number of indices"));
  }

  /// From an explicit list of groups (order kept).
  static grouping from_groups(const std::vector<std::vector<index_type>>& groups) {
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
  template <class G>
  static grouping from_assignment(std::span<const G> group_of, std::size_t groups) {
    if (group_of.size() > std::numeric_limits<index_type>::max())
      throw invalid_input(detail::describe("grouping::from_assignment", "items", group_of.size(),
                                           "more items than index_type can address"));
    std::vector<std::size_t> offsets(groups + 1, 0);
    for (std::size_t i = 0; i < group_of.size(); ++i) {
      const auto g = static_cast<std::size_t>(group_of[i]);
      if (g >= groups)
        throw invalid_input(detail::describe("grouping::from_assignment", "group_of", i, g, "is not below the group count"));
      ++offsets[g + 1];
    }
    for (std::size_t g = 0; g < groups; ++g) offsets[g + 1] += offsets[g];
    std::vector<index_type> indices(group_of.size());
    std::vector<std::size_t> cursor(offsets.begin(), offsets.end() - 1);
    for (std::size_t i = 0; i < group_of.size(); ++i)
      indices[cursor[static_cast<std::size_t>(group_of[i])]++] = static_cast<index_type>(i);
    return grouping(std::move(offsets), std::move(indices));
  }
  template <class G>
  static grouping from_assignment(const std::vector<G>& group_of, std::size_t groups) {
    return from_assignment(std::span<const G>(group_of), groups);
  }

  /// Number of groups.
  [[nodiscard]] std::size_t size() const noexcept { return offsets_.size() - 1; }
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
    std::uint64_t h = 0xcbf29ce484222325ULL;
    auto mix = [&h](std::uint64_t v) {
      for (int byte = 0; byte < 8; ++byte) {
        h ^= (v >> (8 * byte)) & 0xffU;
        h *= 0x100000001b3ULL;
      }
    };
    mix(size());
    for (std::size_t o : offsets_) mix(o);
    for (index_type i : indices_) mix(i);
    return h;
  }

  friend bool operator==(const grouping&, const grouping&) = default;

 private:
  std::vector<std::size_t> offsets_;
  std::vector<index_type> indices_;
};

}  // namespace fulcrum
