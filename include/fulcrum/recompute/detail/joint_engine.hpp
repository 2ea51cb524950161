// SPDX-License-Identifier: Apache-2.0
/// @file recompute/detail/joint_engine.hpp
/// The recompute side of the pipeline searches: per-layer recompute options validated, and the
/// inner model of pipeline/detail/stage_search.hpp that gives every candidate stage its least
/// recompute (exact multiple-choice knapsack: one Pareto frontier of (kept memory, recompute
/// time) per first layer i, extended layer by layer by frontier_dp.hpp; every (j, s) is a binary
/// search on it). The outer branch and bound and its bounds are in stage_search.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/pipeline/detail/stage_search.hpp"
#include "fulcrum/pipeline/profile.hpp"
#include "fulcrum/recompute/concepts.hpp"
#include "fulcrum/recompute/detail/instance.hpp"
#include "fulcrum/recompute/frontier_dp.hpp"
#include "fulcrum/recompute/plan.hpp"

namespace fulcrum::detail {

/// Copies and validates per-layer recompute options: one non-empty list per layer, times
/// finite and >= 0.
template <recompute_layer_range R>
std::vector<std::vector<recompute_option>> joint_options(std::string_view where, R&& layer_options, std::size_t n) {
  std::vector<std::vector<recompute_option>> out;
  for (auto&& layer : layer_options) {
    std::vector<recompute_option> o;
    for (auto&& x : layer) o.push_back(recompute_option(x));
    out.push_back(std::move(o));
  }
  if (out.size() != n)
    throw invalid_input(describe(where, "layer_options.size()", out.size(),
                                 "must equal the number of layers (" + std::to_string(n) + ")"));
  for (std::size_t i = 0; i < n; ++i) {
    const std::string field = "layer_options[" + std::to_string(i) + "]";
    if (out[i].empty())
      throw invalid_input(describe(where, field + ".size()", std::size_t{0}, "a layer needs at least one option"));
    for (std::size_t k = 0; k < out[i].size(); ++k) require_non_negative(where, field + ".time", k, out[i][k].time);
  }
  return out;
}

/// Inner model with recompute: the least recompute time that fits, per stage.
template <class = void>
class basic_least_recompute {
 public:
  /// A stage's frontier is kept to at most max_frontier states: beyond that it is thinned to
  /// evenly spaced states (real choices, so every stage still fits; its least recompute may be
  /// overestimated, and the search then no longer claims optimality: exact() turns false).
  static constexpr std::size_t max_frontier = 256;

  explicit basic_least_recompute(std::vector<std::vector<recompute_option>> options) : options_(std::move(options)) {
    for (const auto& o : options_) widest_ = std::max<std::uint64_t>(widest_, o.size());
  }
  void start(std::size_t) { fr_.assign(1, frontier_state{0, 0.0, 0, 0}); }
  bool extend(std::size_t layer, std::uint64_t cap) {
    fr_ = extend_frontier(fr_, options_[layer], cap);
    thin(fr_);
    return !fr_.empty();
  }
  [[nodiscard]] bool exact() const noexcept { return exact_; }
  [[nodiscard]] std::uint64_t step_cost() const noexcept { return widest_ * max_frontier; }
  [[nodiscard]] double least(std::uint64_t budget) const {
    // frontier: memory ascending, time descending; the last state within budget is fastest
    auto it = std::upper_bound(fr_.begin(), fr_.end(), budget,
                               [](std::uint64_t v, const frontier_state& st) { return v < st.memory; });
    return it == fr_.begin() ? std::numeric_limits<double>::infinity() : std::prev(it)->time;
  }
  /// The least recompute of layers [i, j) within `budget`, with the choice per layer: the same
  /// frontier DP as the set-up (pruned by the least memory the later layers need), thinned the same
  /// way beyond max_frontier states (the least-memory state is always kept, so a stage that fits
  /// always gets a choice that fits).
  [[nodiscard]] stage_choice choose(std::size_t i, std::size_t j, std::uint64_t budget) const {
    std::vector<std::uint64_t> rest_min(j - i + 1, 0);  // least memory of layers l..j-1
    for (std::size_t l = j; l-- > i;) {
      std::uint64_t lo = options_[l][0].memory;
      for (const auto& o : options_[l]) lo = std::min(lo, o.memory);
      rest_min[l - i] = rest_min[l - i + 1] + lo;  // the stage fits: no overflow below budget
    }
    std::vector<std::vector<frontier_state>> levels(1, std::vector<frontier_state>{{0, 0.0, 0, 0}});
    for (std::size_t l = i; l < j; ++l) {
      const std::uint64_t later = rest_min[l - i + 1];
      levels.push_back(extend_frontier(levels.back(), options_[l], budget >= later ? budget - later : 0));
      thin(levels.back());
    }
    stage_choice c;
    c.choice.assign(j - i, 0);
    if (levels.back().empty()) {  // even the least-memory choice exceeds the budget
      c.fits = false;
      return c;
    }
    std::size_t at = levels.back().size() - 1;  // least time
    c.time = levels.back()[at].time;
    c.memory = levels.back()[at].memory;
    for (std::size_t l = j; l-- > i;) {
      const auto& st = levels[l - i + 1][at];
      c.choice[l - i] = st.option;
      at = st.parent;
    }
    return c;
  }

 private:
  std::vector<std::vector<recompute_option>> options_;
  std::vector<frontier_state> fr_;
  /// Evenly spaced states of a frontier above max_frontier (first and last kept).
  void thin(std::vector<frontier_state>& fr) const {
    if (fr.size() <= max_frontier) return;
    std::vector<frontier_state> kept(max_frontier);
    const std::size_t last = fr.size() - 1;
    for (std::size_t t = 0; t < max_frontier; ++t) kept[t] = fr[t * last / (max_frontier - 1)];
    fr = std::move(kept);
    exact_ = false;
  }

  std::uint64_t widest_ = 1;
  mutable bool exact_ = true;  // choose() may thin as well
};
using least_recompute = basic_least_recompute<>;

}  // namespace fulcrum::detail
