// SPDX-License-Identifier: Apache-2.0
/// @file core/step_grid.hpp
/// `step_grid`: a steps x ranks grid of item groups. Contract (docs/design.md).
///
/// What: group (s, r) holds the items that rank r processes in step s (a micro-batch, an
/// accumulation step, a dispatch round). The groups are stored step-major in one `grouping` of
/// steps*ranks groups: group (s, r) is `groups()[s * ranks() + r]`. This is the one layout used by
/// every result that spreads items over ranks and steps: `rank_packing` (pack_for_ranks), the
/// two-level balance result `two_level_partition` (step = micro-batch) and the dispatch plan.
/// A flat `grouping` or `partition` never converts implicitly: build a grid with the constructor
/// (step-major groups) or with `from_rank_major` (groups stored r * steps + s), both of which name
/// the layout they read; `rank_major_groups()` converts back the other way.
///
/// Complexity: construction O(1) besides moving the grouping (one overflow-checked product);
/// `operator()`, `at()`, `step()`, `rank_groups()` O(1) (the ranges are views; iterating one is
/// O(ranks) or O(steps)); `from_rank_major` O(n + steps*ranks).
///
/// Guarantee: a constructed grid always satisfies groups().size() == steps()*ranks() (the product
/// checked for overflow); the constructor throws `invalid_input` naming the field and value
/// otherwise. `at()` throws `invalid_input` for a step or rank out of range. Views returned by
/// `operator()`, `step()`, `rank_groups()` and `by_step()` refer into the grid and live as long as it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/core/wide_int.hpp"

namespace fulcrum {

class step_grid {
 public:
  /// Items of one group.
  using group_view = std::span<const index_type>;

  /// A strided view over groups of the grid (one step over all ranks, or one rank over all steps):
  /// size(), operator[], begin()/end() over `group_view`s.
  class group_range {
   public:
    class iterator {
     public:
      using iterator_category = std::input_iterator_tag;
      using iterator_concept = std::forward_iterator_tag;
      using value_type = group_view;
      using difference_type = std::ptrdiff_t;
      iterator() = default;
      iterator(const grouping* g, std::size_t pos, std::size_t stride) : g_(g), pos_(pos), stride_(stride) {}
      group_view operator*() const { return (*g_)[pos_]; }
      iterator& operator++() {
        pos_ += stride_;
        return *this;
      }
      iterator operator++(int) {
        iterator old = *this;
        ++*this;
        return old;
      }
      friend bool operator==(const iterator& a, const iterator& b) { return a.pos_ == b.pos_; }

     private:
      const grouping* g_ = nullptr;
      std::size_t pos_ = 0;
      std::size_t stride_ = 1;
    };

    group_range(const grouping* g, std::size_t first, std::size_t count, std::size_t stride)
        : g_(g), first_(first), count_(count), stride_(stride) {}
    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    /// The i-th group of the range (unchecked: i < size()).
    [[nodiscard]] group_view operator[](std::size_t i) const { return (*g_)[first_ + i * stride_]; }
    /// Total number of items over the groups of the range.
    [[nodiscard]] std::size_t item_count() const {
      std::size_t n = 0;
      for (std::size_t i = 0; i < count_; ++i) n += (*this)[i].size();
      return n;
    }
    [[nodiscard]] iterator begin() const { return iterator(g_, first_, stride_); }
    [[nodiscard]] iterator end() const { return iterator(g_, first_ + count_ * stride_, stride_); }

   private:
    const grouping* g_;
    std::size_t first_;
    std::size_t count_;
    std::size_t stride_;
  };

  /// An empty grid: 0 steps x 0 ranks.
  step_grid() = default;

  /// From step-major groups: group (s, r) is groups[s * ranks + r]. Throws invalid_input when
  /// steps * ranks overflows or differs from groups.size().
  step_grid(grouping groups, std::size_t steps, std::size_t ranks)
      : groups_(std::move(groups)), steps_(steps), ranks_(ranks) {
    check_shape("step_grid", groups_.size(), steps, ranks,
                "must equal steps * ranks (step-major: group s * ranks + r)");
  }

  /// Replaces the contents with step-major groups given as CSR arrays (copied; see
  /// grouping::assign), keeping this grid's storage (no allocation once it is large enough).
  /// Throws like the constructor and grouping's; the grid is then left unchanged.
  void assign(std::span<const std::size_t> offsets, std::span<const index_type> indices, std::size_t steps,
              std::size_t ranks) {
    check_shape("step_grid", offsets.empty() ? 0 : offsets.size() - 1, steps, ranks,
                "must equal steps * ranks (step-major: group s * ranks + r)");
    groups_.assign(offsets, indices);
    steps_ = steps;
    ranks_ = ranks;
  }

  /// From rank-major groups: group (s, r) is rank_major[r * steps + s]. The explicit conversion for
  /// a grouping stored rank by rank; O(n + steps*ranks). Throws like the constructor.
  [[nodiscard]] static step_grid from_rank_major(const grouping& rank_major, std::size_t steps, std::size_t ranks) {
    check_shape("step_grid::from_rank_major", rank_major.size(), steps, ranks,
                "must equal steps * ranks (rank-major: group r * steps + s)");
    return step_grid(transposed(rank_major, ranks, steps), steps, ranks);
  }

  /// Number of steps (micro-batches, rounds).
  [[nodiscard]] std::size_t steps() const noexcept { return steps_; }
  /// Number of ranks.
  [[nodiscard]] std::size_t ranks() const noexcept { return ranks_; }
  /// Number of items over all groups.
  [[nodiscard]] std::size_t item_count() const noexcept { return groups_.item_count(); }

  /// Items of rank r in step s (unchecked: s < steps(), r < ranks()).
  [[nodiscard]] group_view operator()(std::size_t s, std::size_t r) const { return groups_[s * ranks_ + r]; }
  /// Items of rank r in step s; throws invalid_input when either is out of range.
  [[nodiscard]] group_view at(std::size_t s, std::size_t r) const {
    if (s >= steps_) throw invalid_input(detail::describe("step_grid::at", "step", s, "is not below steps()"));
    if (r >= ranks_) throw invalid_input(detail::describe("step_grid::at", "rank", r, "is not below ranks()"));
    return (*this)(s, r);
  }

  /// The groups of step s, rank 0..ranks()-1 (unchecked: s < steps()).
  [[nodiscard]] group_range step(std::size_t s) const { return group_range(&groups_, s * ranks_, ranks_, 1); }
  /// The groups of rank r, step 0..steps()-1 (unchecked: r < ranks()).
  [[nodiscard]] group_range rank_groups(std::size_t r) const {
    return group_range(&groups_, r, steps_, ranks_ == 0 ? 1 : ranks_);
  }
  /// Number of items rank r processes over all steps (unchecked: r < ranks()).
  [[nodiscard]] std::size_t rank_item_count(std::size_t r) const { return rank_groups(r).item_count(); }

  /// The steps in order, each a range of ranks() groups:
  /// `for (auto step : grid.by_step()) for (auto items : step) ...`.
  [[nodiscard]] std::vector<group_range> by_step() const {
    std::vector<group_range> out;
    out.reserve(steps_);
    for (std::size_t s = 0; s < steps_; ++s) out.push_back(step(s));
    return out;
  }

  /// The same groups stored rank by rank (group r * steps() + s): the explicit conversion to a
  /// rank-major grouping (e.g. to list one rank's groups contiguously). O(n + steps*ranks).
  [[nodiscard]] grouping rank_major_groups() const { return transposed(groups_, steps_, ranks_); }

  /// The underlying step-major grouping (group s * ranks() + r).
  [[nodiscard]] const grouping& groups() const noexcept { return groups_; }

  friend bool operator==(const step_grid&, const step_grid&) = default;

 private:
  static void check_shape(const char* where, std::size_t groups, std::size_t steps, std::size_t ranks,
                          const char* reason) {
    std::uint64_t cells = 0;
    if (mul_overflow(steps, ranks, cells) || cells > SIZE_MAX)
      throw invalid_input(detail::describe(where, "steps", steps, "steps * ranks overflows std::size_t"));
    if (cells != groups) throw invalid_input(detail::describe(where, "groups.size()", groups, reason));
  }

  /// The groups of a rows x cols grid stored row by row (group r * cols + c), stored column by
  /// column instead (group c * rows + r). O(n + rows*cols).
  static grouping transposed(const grouping& g, std::size_t rows, std::size_t cols) {
    std::vector<std::size_t> offsets;
    offsets.reserve(g.size() + 1);
    offsets.push_back(0);
    std::vector<index_type> indices;
    indices.reserve(g.item_count());
    for (std::size_t c = 0; c < cols; ++c)
      for (std::size_t r = 0; r < rows; ++r) {
        const auto items = g[r * cols + c];
        indices.insert(indices.end(), items.begin(), items.end());
        offsets.push_back(indices.size());
      }
    return grouping(std::move(offsets), std::move(indices));
  }

  grouping groups_;
  std::size_t steps_ = 0;
  std::size_t ranks_ = 0;
};

}  // namespace fulcrum
