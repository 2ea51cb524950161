// SPDX-License-Identifier: Apache-2.0
/// @file recompute/detail/instance.hpp
/// Internals of recompute selection: the validated instance, per-layer Pareto frontiers and their
/// lower convex hulls (the multiple-choice knapsack LP relaxation, Sinha and Zoltners 1979).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <ranges>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/recompute/plan.hpp"

namespace fulcrum::detail {

struct recompute_instance {
  std::vector<std::vector<recompute_option>> options;  ///< per layer, as given
  std::uint64_t budget = 0;
  std::uint64_t min_memory = 0;  ///< sum of each layer's smallest memory
};

/// Copies and validates a range of ranges of recompute_option.
template <class R>
recompute_instance make_recompute_instance(std::string_view where, R&& layers, std::uint64_t budget) {
  recompute_instance in;
  in.budget = budget;
  std::size_t l = 0;
  for (auto&& layer : layers) {
    std::vector<recompute_option> opts;
    for (auto&& o : layer) opts.push_back(recompute_option(o));
    const std::string field = "layers[" + std::to_string(l) + "]";
    if (opts.empty()) throw invalid_input(describe(where, field + ".size()", std::size_t{0}, "a layer needs at least one option"));
    std::uint64_t lo = std::numeric_limits<std::uint64_t>::max();
    for (std::size_t k = 0; k < opts.size(); ++k) {
      require_non_negative(where, field + ".time", k, opts[k].time);
      lo = std::min(lo, opts[k].memory);
    }
    in.min_memory = checked_add(in.min_memory, lo, "layers.memory");
    in.options.push_back(std::move(opts));
    ++l;
  }
  if (in.options.empty()) throw invalid_input(describe(where, "layers.size()", std::size_t{0}, "need at least one layer"));
  if (in.min_memory > budget)
    throw infeasible(describe(where, "memory_budget", budget,
                              "below the minimum memory any plan keeps (" + std::to_string(in.min_memory) + ")"));
  return in;
}

/// Options of one layer that are not dominated, by memory ascending (time strictly descending).
/// Ties keep the lower option index.
template <class = void>
inline std::vector<std::size_t> pareto_options(const std::vector<recompute_option>& opts) {
  std::vector<std::size_t> idx(opts.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    return opts[a].memory != opts[b].memory ? opts[a].memory < opts[b].memory : opts[a].time < opts[b].time;
  });
  std::vector<std::size_t> out;
  for (std::size_t k : idx)
    if (out.empty() || opts[k].time < opts[out.back()].time) out.push_back(k);
  return out;
}

/// A step along a layer's lower convex hull from more memory to less.
struct hull_step {
  std::size_t layer, from, to;  ///< option indices
  std::uint64_t saved;          ///< memory saved (> 0)
  double added;                 ///< time added (> 0)
  double slope() const { return added / static_cast<double>(saved); }
};

/// Per-layer hulls, starting from the fastest option (largest memory on the frontier).
/// Returns the start option of every layer and all steps sorted by slope (ties: layer, order).
template <class = void>
inline std::vector<hull_step> hull_steps(const recompute_instance& in, std::vector<std::size_t>& start) {
  std::vector<hull_step> steps;
  start.assign(in.options.size(), 0);
  for (std::size_t l = 0; l < in.options.size(); ++l) {
    const auto& o = in.options[l];
    auto fr = pareto_options(o);  // memory ascending, time descending
    std::reverse(fr.begin(), fr.end());  // memory descending, time ascending: fastest first
    std::vector<std::size_t> hull;
    for (std::size_t k : fr) {
      // keep slopes increasing: drop the middle point while it lies on or above the chord
      while (hull.size() >= 2) {
        const auto& a = o[hull[hull.size() - 2]];
        const auto& b = o[hull.back()];
        const auto& c = o[k];
        const double s_ab = (b.time - a.time) / static_cast<double>(a.memory - b.memory);
        const double s_ac = (c.time - a.time) / static_cast<double>(a.memory - c.memory);
        if (s_ac <= s_ab) hull.pop_back();
        else break;
      }
      hull.push_back(k);
    }
    start[l] = hull.front();
    for (std::size_t h = 0; h + 1 < hull.size(); ++h)
      steps.push_back({l, hull[h], hull[h + 1], o[hull[h]].memory - o[hull[h + 1]].memory,
                       o[hull[h + 1]].time - o[hull[h]].time});
  }
  std::stable_sort(steps.begin(), steps.end(), [](const hull_step& a, const hull_step& b) {
    const double sa = a.slope(), sb = b.slope();
    return sa != sb ? sa < sb : a.layer < b.layer;
  });
  return steps;
}

/// Sum of times and memories of a choice, in layer order.
template <class = void>
inline recompute_plan evaluate_choice(const recompute_instance& in, std::vector<std::size_t> choice) {
  recompute_plan p;
  for (std::size_t l = 0; l < choice.size(); ++l) {
    p.memory += in.options[l][choice[l]].memory;
    p.time += in.options[l][choice[l]].time;
  }
  p.choice = std::move(choice);
  return p;
}

}  // namespace fulcrum::detail
