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
class least_recompute {
 public:
  explicit least_recompute(std::vector<std::vector<recompute_option>> options) : options_(std::move(options)) {}
  void start(std::size_t) { fr_.assign(1, frontier_state{0, 0.0, 0, 0}); }
  bool extend(std::size_t layer, std::uint64_t cap) {
    fr_ = extend_frontier(fr_, options_[layer], cap);
    return !fr_.empty();
  }
  [[nodiscard]] double least(std::uint64_t budget) const {
    // frontier: memory ascending, time descending; the last state within budget is fastest
    auto it = std::upper_bound(fr_.begin(), fr_.end(), budget,
                               [](std::uint64_t v, const frontier_state& st) { return v < st.memory; });
    return it == fr_.begin() ? std::numeric_limits<double>::infinity() : std::prev(it)->time;
  }
  [[nodiscard]] stage_choice choose(std::size_t i, std::size_t j, std::uint64_t budget) const {
    recompute_instance ri;
    ri.options.assign(options_.begin() + static_cast<std::ptrdiff_t>(i),
                      options_.begin() + static_cast<std::ptrdiff_t>(j));
    ri.budget = budget;
    const auto sel = frontier_dp_recompute(ri, std::numeric_limits<std::uint64_t>::max());
    return {sel->choice, sel->time, sel->memory};
  }

 private:
  std::vector<std::vector<recompute_option>> options_;
  std::vector<frontier_state> fr_;
};

}  // namespace fulcrum::detail
