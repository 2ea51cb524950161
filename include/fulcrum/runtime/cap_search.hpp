// SPDX-License-Identifier: Apache-2.0
/// @file runtime/cap_search.hpp
/// `search_caps`: OmniBal's search over (vision, text) caps of a micro-batch, with fulcrum's epoch
/// planner as the packer, and `estimated_epoch_time`, the time model it minimises
/// (docs/epoch_plans.md).
///
///   cap_search_result search_caps(R&& items, const cap_grid& grid, std::size_t ranks,
///                                 cap_search_options opts = {}, Cost cost = {}, Proj proj = {});
///   double estimated_epoch_time(const step_grid& grid, std::span<const T> item_time, double overhead);
///
/// What: proj(item) gives {vision size, text size} (e.g. tiles and total tokens); every pair
/// (v, t) of grid.vision x grid.text is a candidate cap. A candidate is planned by the epoch
/// planner (runtime/epoch_plan.hpp, epoch opts.epoch, options opts.plan) and priced by
/// estimated_epoch_time: the sum over steps of the slowest rank, a rank's micro-batch costing
/// opts.overhead (a fixed per-micro-batch cost: kernel launches, optimizer-free forward/backward
/// set-up) plus the sum of cost(proj(item)) over its items (default: the text size, i.e. tokens).
/// The result is the candidate of least estimated time among those whose mean items per
/// micro-batch lies within opts.tolerance (relative) of opts.target_items (when target_items > 0:
/// OmniBal's "target micro-batch size"). Ties go to the earlier candidate (vision-major order).
///
/// Complexity: candidates are visited in increasing order of a lower bound on their time,
/// (sum of costs + overhead * L) / ranks with L the candidate's lower bound on micro-batches
/// (O(n log n) each); the search stops when the bound exceeds the best time found, so it plans
/// at most every candidate (each one epoch plan, near-linear) and usually far fewer.
/// Guarantee: the returned caps have the least estimated time among all eligible candidates (the
/// pruning is exact: a pruned candidate's time is at least its bound). `proven_optimal` is true
/// (over the grid); `lower_bound` is the least bound of any eligible candidate.
/// Errors: an empty grid axis, a zero cap, ranks == 0, a negative or NaN overhead, tolerance < 0 ->
/// invalid_input; no eligible candidate (every one infeasible under oversize::error or off the
/// target) -> infeasible. Under oversize::error a candidate some item exceeds is infeasible and
/// skipped; oversize::truncate or own_bin apply per candidate as in the planner.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <ranges>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/stats.hpp"
#include "fulcrum/core/step_grid.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/detail/rank_bound.hpp"
#include "fulcrum/packing/multi.hpp"
#include "fulcrum/packing/rank_packing_result.hpp"
#include "fulcrum/runtime/epoch_plan.hpp"

namespace fulcrum {

/// Sum over steps of the slowest rank: a non-empty micro-batch costs `overhead` plus the sum of
/// item_time over its items; an empty one costs 0. O(items + steps * ranks).
template <class T>
[[nodiscard]] double estimated_epoch_time(const step_grid& grid, std::span<const T> item_time, double overhead = 0) {
  double total = 0;
  for (std::size_t s = 0; s < grid.steps(); ++s) {
    double slowest = 0;
    for (std::size_t r = 0; r < grid.ranks(); ++r) {
      const auto items = grid(s, r);
      if (items.empty()) continue;
      double t = overhead;
      for (const index_type i : items) t += static_cast<double>(item_time[i]);
      slowest = std::max(slowest, t);
    }
    total += slowest;
  }
  return total;
}

/// Default cost of search_caps: an item's text size (its second dimension, e.g. total tokens).
struct text_size_cost {
  [[nodiscard]] constexpr double operator()(const std::array<std::uint64_t, 2>& s) const noexcept {
    return static_cast<double>(s[1]);
  }
};

/// The candidate caps: every (vision[i], text[j]).
struct cap_grid {
  std::vector<std::uint64_t> vision;  ///< candidate vision caps (e.g. tiles)
  std::vector<std::uint64_t> text;    ///< candidate text caps (e.g. tokens)
};

struct cap_search_options {
  double overhead = 0;        ///< fixed time per micro-batch, in the cost's unit
  double target_items = 0;    ///< target mean items per micro-batch (0: any)
  double tolerance = 0.1;     ///< eligible when |mean items per micro-batch / target_items - 1| <= tolerance
  std::uint64_t epoch = 0;    ///< the epoch planned for each candidate
  epoch_plan_options plan{};  ///< epoch planner options (oversize policy, seed, ...)
};

/// One candidate of the search.
struct cap_candidate {
  std::array<std::uint64_t, 2> caps{};
  double lower_bound = 0;            ///< bound on its estimated time (sum of costs + overhead * L) / ranks
  bool feasible = true;              ///< false: an item exceeds it under oversize::error
  bool evaluated = false;            ///< planned (false: pruned by its bound, or infeasible)
  bool eligible = false;             ///< evaluated and on the target
  double epoch_time = 0;             ///< estimated time (when evaluated)
  std::size_t micro_batches = 0;     ///< non-empty micro-batches (when evaluated)
  double items_per_micro_batch = 0;  ///< mean (when evaluated)
};

/// Result of search_caps.
struct cap_search_result {
  std::array<std::uint64_t, 2> caps{};    ///< the best (vision, text) caps
  double epoch_time = 0;                  ///< their estimated epoch time
  double lower_bound = 0;                 ///< least time bound of any candidate not excluded by feasibility
  bool proven_optimal = true;             ///< the best over the grid (exact pruning)
  rank_packing plan;                      ///< the epoch plan at the best caps
  std::vector<cap_candidate> candidates;  ///< all candidates, vision-major order

  /// (epoch_time - lower_bound) / lower_bound (how far the best is from the cheapest bound).
  [[nodiscard]] double gap() const noexcept { return result_gap(epoch_time, lower_bound, false); }
  /// Loads of the best plan's micro-batches in the text dimension.
  [[nodiscard]] load_stats stats() const {
    std::vector<double> loads;
    for (std::size_t b = 0; plan.dims == 2 && 2 * b + 1 < plan.loads.size(); ++b)
      loads.push_back(static_cast<double>(plan.loads[2 * b + 1]));
    return summarize_loads(std::span<const double>(loads));
  }
};

/// OmniBal's cap search (see file docs).
template <std::ranges::random_access_range R, class Cost = text_size_cost, class Proj = std::identity>
requires std::ranges::sized_range<R> && std::regular_invocable<const Proj&, std::ranges::range_reference_t<R>> &&
    cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] cap_search_result search_caps(R&& items, const cap_grid& grid, std::size_t ranks,
                                            cap_search_options opts = {}, Cost cost = {}, Proj proj = {}) {
  constexpr const char* where = "search_caps";
  using projected = std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>;
  static_assert(detail::is_std_array<projected>::value && std::tuple_size_v<projected> == 2,
                "search_caps: the projection must give {vision size, text size} as a std::array of 2");
  const auto n = static_cast<std::size_t>(std::ranges::size(items));
  detail::validate_parts(where, "ranks", ranks, n);
  if (grid.vision.empty()) throw invalid_input(detail::describe(where, "grid.vision", 0, "needs at least one cap"));
  if (grid.text.empty()) throw invalid_input(detail::describe(where, "grid.text", 0, "needs at least one cap"));
  for (std::size_t i = 0; i < grid.vision.size(); ++i)
    if (grid.vision[i] == 0)
      throw invalid_input(detail::describe(where, "grid.vision", i, grid.vision[i], "must be positive"));
  for (std::size_t i = 0; i < grid.text.size(); ++i)
    if (grid.text[i] == 0)
      throw invalid_input(detail::describe(where, "grid.text", i, grid.text[i], "must be positive"));
  if (!(opts.overhead >= 0) || std::isinf(opts.overhead))
    throw invalid_input(detail::describe(where, "overhead", opts.overhead, "must be finite and >= 0"));
  if (!(opts.tolerance >= 0)) throw invalid_input(detail::describe(where, "tolerance", opts.tolerance, "must be >= 0"));
  if (!(opts.target_items >= 0) || std::isinf(opts.target_items))
    throw invalid_input(detail::describe(where, "target_items", opts.target_items, "must be finite and >= 0"));
  using size2 = std::array<std::uint64_t, 2>;
  std::vector<size2> sizes(n);
  {
    auto it = std::ranges::begin(items);
    for (std::size_t i = 0; i < n; ++i, ++it) {
      const projected v = std::invoke(proj, *it);
      for (std::size_t d = 0; d < 2; ++d)
        sizes[i][d] = detail::to_size_of_item(where, "sizes", i, d, v[d]);
    }
  }
  std::vector<cost_t> time = evaluate_costs(items, cost, proj, where);
  const cost_t total_time = detail::validate_costs(where, time);

  cap_search_result out;
  for (const std::uint64_t v : grid.vision)
    for (const std::uint64_t t : grid.text) out.candidates.push_back(cap_candidate{.caps = {v, t}});
  // Bounds per candidate (on the sizes as the oversize policy leaves them).
  for (auto& c : out.candidates) {
    std::vector<size2> s = sizes;
    std::size_t own = 0;
    for (auto& x : s)
      for (std::size_t d = 0; d < 2; ++d)
        if (x[d] > c.caps[d]) {
          if (opts.plan.oversize_policy == oversize::error)
            c.feasible = false;
          else if (opts.plan.oversize_policy == oversize::truncate)
            x[d] = c.caps[d];
          else
            ++own;  // own_bin: counted once per dimension over; a weaker, still valid bound
        }
    if (!c.feasible) continue;
    const std::uint64_t bins =
        std::max(multi_lower_bound<2>(s, c.caps), detail::coupled_lower_bound<2>(s, c.caps)) + (own > 0 ? 1 : 0);
    c.lower_bound = (total_time + detail::mul(opts.overhead, static_cast<double>(bins))) / static_cast<double>(ranks);
  }
  std::vector<std::size_t> order;
  for (std::size_t k = 0; k < out.candidates.size(); ++k)
    if (out.candidates[k].feasible) order.push_back(k);
  if (order.empty())
    throw infeasible(std::string(where) + ": every candidate cap is exceeded by some item (oversize policy error)");
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return out.candidates[a].lower_bound < out.candidates[b].lower_bound;
  });
  out.lower_bound = out.candidates[order.front()].lower_bound;
  std::size_t best = out.candidates.size();
  const std::span<const cost_t> times(time);
  for (const std::size_t k : order) {
    cap_candidate& c = out.candidates[k];
    if (best != out.candidates.size() && c.lower_bound > out.candidates[best].epoch_time) break;
    const auto planner = make_epoch_planner(sizes, c.caps, ranks, opts.plan);
    rank_packing p = planner.plan(opts.epoch);
    c.evaluated = true;
    c.micro_batches = p.used_bins;
    c.items_per_micro_batch = p.used_bins == 0 ? 0.0 : static_cast<double>(n) / static_cast<double>(p.used_bins);
    c.epoch_time = estimated_epoch_time(p.bins, times, opts.overhead);
    c.eligible =
        opts.target_items <= 0 || std::abs(c.items_per_micro_batch / opts.target_items - 1.0) <= opts.tolerance;
    if (!c.eligible) continue;
    if (best == out.candidates.size() || c.epoch_time < out.candidates[best].epoch_time ||
        (c.epoch_time == out.candidates[best].epoch_time && k < best)) {
      best = k;
      out.plan = std::move(p);
    }
  }
  if (best == out.candidates.size())
    throw infeasible(std::string(where) + ": no candidate cap gives a mean of " + std::to_string(opts.target_items) +
                     " items per micro-batch within tolerance " + std::to_string(opts.tolerance));
  out.caps = out.candidates[best].caps;
  out.epoch_time = out.candidates[best].epoch_time;
  return out;
}

}  // namespace fulcrum
