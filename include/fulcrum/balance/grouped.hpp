// SPDX-License-Identifier: Apache-2.0
/// @file balance/grouped.hpp
/// balance() under a *group* cost model: the cost of a part is a function of the whole part, not
/// the sum of its items' costs. A micro-batch padded to its longest sample costs count x longest
/// (`padded_cost`), or count x attention(longest) (`padded_attention_cost`); a user model is any
/// callable on the part's values.
///
///   partition balance(R&& items, size_t k, balance_options opts, GroupCost cost, Proj proj = {});
///
/// The same front door as balance.hpp (items, k, options, cost, proj; the same `partition`
/// result), chosen when `cost` is a group_cost_model: callable on a std::span<const double> (the
/// values proj(item) of one part, in index order) and NOT on a single value (core/group_cost.hpp).
/// The model must be monotone: adding an item to a part never lowers its cost.
///
/// Padded-form models (padded_cost, padded_attention_cost, any model with `cost_of(count,
/// longest)`): EXACT for every algorithm but karmarkar_karp and multifit. Some optimal plan gives
/// each part an interval of the values sorted descending, so the least makespan is found by
/// bisection over the doubles with an O(k) greedy feasibility check (free counts), or by a DP over
/// (part, parts holding ceil(n/k) items) for equal counts, O(k * (n mod k + 1)). O(n log n) in
/// all; proven_optimal is always true and lower_bound is the optimum.
/// Other group models (any monotone callable on the part's values):
///  - greedy        items by value descending (ties: lower index first), each to the part whose
///                  cost after taking it is least (ties: lower part index). O(n log n + n k)
///                  evaluations; an evaluation is O(1) for models with an incremental form
///                  (group_state, add, cost), O(part size) otherwise.
///  - local_search, automatic, complete
///                  greedy, then moves and swaps out of the costliest part while they lower it
///                  (each accepted step lowers the sorted vector of part costs, so it ends);
///                  opts.limits bounds the steps (nodes) and the time. O(steps x |P| x n)
///                  evaluations. There is no exact search for a general group model.
///  - karmarkar_karp, multifit: additive models only (differencing and bin capacities assume
///    sums); with a group model they throw invalid_input saying so.
/// Constraints: equal_counts (every part floor(n/k) or ceil(n/k) items: greedy over parts with
/// room, then swaps only) and part_capacity (no part above it: infeasible when the bound is
/// above it or the plan found is; proved for padded-form models).
/// Lower bound (partition::lower_bound), other group models: the model's own `lower_bound(values sorted descending, k)`
/// when it has one (padded models: max over m of ceil(m/k) x f(m-th largest value), and
/// sum_i f(value_i) / k less a 1e-12 relative margin for rounding), else the costliest single item
/// (valid for any monotone model); never below the empty part's cost. proven_optimal when the
/// makespan meets it. Loads are the model evaluated on each part's values in index order.
/// Errors: k == 0, a NaN / negative / infinite value -> invalid_input naming the item; a model
/// returning NaN, a negative or an infinite cost -> invalid_input naming the part.
/// Deterministic: nothing uses the clock unless opts.limits.time is set.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <ranges>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "fulcrum/balance/options.hpp"
#include "fulcrum/balance/partition.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/detail/chrono.hpp"
#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/group_cost.hpp"
#include "fulcrum/core/validate.hpp"

namespace fulcrum {

namespace detail {

/// Exact balancing under a padded-form model. Some optimal plan gives each part an interval of
/// the values sorted descending (parts ordered by their longest item: the items longer than a
/// part's longest all sit in the parts before it, so handing out the sorted items in the same
/// counts never raises a part's longest). Free counts: the least feasible makespan T is found by
/// bisection over the doubles (feasibility is monotone; each check packs greedily from the longest
/// item, O(k)); equal counts: a DP over (part, parts given ceil(n/k) so far), O(k * (n mod k + 1)).
template <padded_group_cost M>
class padded_exact {
 public:
  padded_exact(std::size_t k, const balance_options& opts, const M& model) : k_(k), opts_(opts), model_(model) {}

  /// The interval sizes of an optimal plan over the sorted order (size k), or empty when the
  /// equal-counts DP would be too large (the caller then runs the heuristic).
  std::vector<std::size_t> solve(std::span<const double> sorted) {
    sorted_ = sorted;
    return opts_.equal_counts ? equal_counts() : free_counts();
  }

 private:
  cost_t cost(std::size_t count, std::size_t start) const {
    return count == 0 ? 0.0 : static_cast<cost_t>(model_.cost_of(count, sorted_[start]));
  }
  /// Most items a part starting at `start` may take within T (0 if not even one).
  std::size_t fit(cost_t t, std::size_t start) const {
    const std::size_t left = sorted_.size() - start;
    const cost_t one = cost(1, start);
    if (one > t) return 0;
    if (one <= 0 || cost(left, start) <= t) return left;
    auto c = static_cast<std::size_t>(std::min(static_cast<double>(left), std::floor(t / one)));
    c = std::max<std::size_t>(c, 1);
    while (c < left && cost(c + 1, start) <= t) ++c;
    while (c > 1 && cost(c, start) > t) --c;
    return c;
  }
  bool feasible(cost_t t, std::vector<std::size_t>* sizes) const {
    std::size_t pos = 0, parts = 0;
    if (sizes) sizes->assign(k_, 0);
    while (pos < sorted_.size()) {
      const std::size_t c = fit(t, pos);
      if (c == 0 || parts == k_) return false;
      if (sizes) (*sizes)[parts] = c;
      pos += c;
      ++parts;
    }
    return true;
  }
  std::vector<std::size_t> free_counts() const {
    std::vector<std::size_t> sizes(k_, 0);
    if (sorted_.empty()) return sizes;
    // Non-negative doubles order like their bit patterns: bisect on those.
    auto bits = [](double x) { return std::bit_cast<std::uint64_t>(x); };
    std::uint64_t lo = 0, hi = bits(cost(sorted_.size(), 0));  // hi: one part holds everything
    while (lo < hi) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      if (feasible(std::bit_cast<double>(mid), nullptr))
        hi = mid;
      else
        lo = mid + 1;
    }
    feasible(std::bit_cast<double>(hi), &sizes);
    return sizes;
  }
  std::vector<std::size_t> equal_counts() const {
    const std::size_t n = sorted_.size(), floor = n / k_, extra = n % k_;
    if (static_cast<double>(k_) * static_cast<double>(extra + 1) > 5e7) return {};
    const std::size_t width = extra + 1;
    constexpr cost_t inf = std::numeric_limits<cost_t>::infinity();
    std::vector<cost_t> best((k_ + 1) * width, inf);
    std::vector<unsigned char> took_ceil((k_ + 1) * width, 0);
    best[0] = 0;
    for (std::size_t j = 0; j < k_; ++j)
      for (std::size_t u = 0; u <= std::min(j, extra); ++u) {
        const cost_t here = best[j * width + u];
        if (here == inf) continue;
        const std::size_t start = j * floor + u;
        for (int ceil = 0; ceil <= 1; ++ceil) {
          const std::size_t next = u + static_cast<std::size_t>(ceil);
          if (next > extra) continue;
          const cost_t v = std::max(here, cost(floor + static_cast<std::size_t>(ceil), start));
          if (v < best[(j + 1) * width + next]) {
            best[(j + 1) * width + next] = v;
            took_ceil[(j + 1) * width + next] = static_cast<unsigned char>(ceil);
          }
        }
      }
    std::vector<std::size_t> sizes(k_);
    for (std::size_t j = k_, u = extra; j > 0; --j) {
      const bool ceil = took_ceil[j * width + u] != 0;
      sizes[j - 1] = floor + (ceil ? 1 : 0);
      u -= ceil ? 1 : 0;
    }
    return sizes;
  }

  std::span<const double> sorted_;
  std::size_t k_;
  const balance_options& opts_;
  const M& model_;
};

/// The incremental state type of M (an empty tag for models without one).
template <class M>
struct incremental_state {
  struct type {};
};
template <incremental_group_cost M>
struct incremental_state<M> {
  using type = typename M::group_state;
};

/// Group-model balancing on values (validated by the caller).
template <group_cost_model M>
class grouped_balancer {
 public:
  grouped_balancer(std::span<const double> values, std::size_t k, const balance_options& opts, const M& model)
      : values_(values), k_(k), opts_(opts), model_(model), parts_(values, model, k) {}

  partition run() {
    const std::size_t n = values_.size();
    std::vector<index_type> order(n);
    std::iota(order.begin(), order.end(), index_type{0});
    std::stable_sort(order.begin(), order.end(), [&](index_type x, index_type y) { return values_[x] > values_[y]; });
    std::vector<double> sorted(n);
    for (std::size_t i = 0; i < n; ++i) sorted[i] = values_[order[i]];
    const cost_t bound = lower_bound(sorted);
    if (bound > opts_.part_capacity)
      throw infeasible(describe("balance", "part_capacity", opts_.part_capacity,
                                "is below the group model's lower bound " + std::to_string(bound)));
    bool exact = false;
    if constexpr (padded_group_cost<M>) {
      const auto sizes = padded_exact<M>(k_, opts_, model_).solve(sorted);
      if (!sizes.empty()) {
        std::size_t pos = 0, at_ceil = 0;
        for (std::size_t g = 0; g < k_; ++g)
          for (std::size_t c = 0; c < sizes[g]; ++c) place(order[pos++], g, at_ceil, n);
        exact = true;
      }
    }
    if (!exact) {
      greedy(order);
      if (opts_.algorithm != balance_algorithm::greedy) improve(bound);
    }
    partition p;
    p.parts = grouping::from_groups(parts_.members());
    p.loads.resize(k_);
    for (std::size_t g = 0; g < k_; ++g) p.loads[g] = parts_.cost(g);
    p.makespan = *std::max_element(p.loads.begin(), p.loads.end());
    p.lower_bound = exact ? p.makespan : bound;  // the interval search proves its makespan optimal
    p.proven_optimal = exact || p.makespan <= bound;
    if (p.makespan > opts_.part_capacity)
      throw infeasible(describe("balance", "part_capacity", opts_.part_capacity,
                                "no plan found within it: the best has a part costing " + std::to_string(p.makespan) +
                                    " (group models have no exact search; lower bound " + std::to_string(bound) + ")"));
    return p;
  }

 private:
  cost_t checked(cost_t c, std::size_t part) const {
    if (!(c >= 0) || std::isinf(c))
      throw invalid_input(describe("balance", "group cost of part", part, c, "must be finite and >= 0"));
    return c;
  }

  cost_t lower_bound(std::span<const double> sorted) const {
    cost_t bound = checked(static_cast<cost_t>(model_(std::span<const double>{})), 0);
    if constexpr (group_cost_with_bound<M>) {
      bound = std::max(bound, static_cast<cost_t>(model_.lower_bound(sorted, k_)));
    } else {
      for (double v : sorted) bound = std::max(bound, static_cast<cost_t>(model_(std::span<const double>(&v, 1))));
    }
    return bound;
  }

  bool may_grow(std::size_t g, std::size_t at_ceil) const {
    if (!opts_.equal_counts) return true;
    const std::size_t n = values_.size(), floor = n / k_, extra = n % k_;
    const std::size_t size = parts_.members()[g].size();
    return size < floor || (size == floor && at_ceil < extra);
  }

  void greedy(std::span<const index_type> order) {
    const std::size_t n = values_.size();
    std::size_t at_ceil = 0;  // parts holding ceil(n/k) items (equal_counts)
    // Part g's cost with item i added: O(1) through the incremental form when the model has one.
    std::vector<typename incremental_state<M>::type> state(incremental_group_cost<M> ? k_ : 0);
    auto with = [&](std::size_t g, index_type i) -> cost_t {
      if constexpr (incremental_group_cost<M>) {
        auto s = state[g];
        model_.add(s, values_[i]);
        return model_.cost(s);
      } else {
        return parts_.cost_with(g, group_parts<M>::none, i);
      }
    };
    for (index_type i : order) {
      std::size_t best = k_;
      cost_t best_cost = 0;
      for (std::size_t g = 0; g < k_; ++g) {
        if (!may_grow(g, at_ceil)) continue;
        const cost_t c = with(g, i);
        if (best == k_ || c < best_cost) best = g, best_cost = c;
      }
      place(i, best, at_ceil, n);
      if constexpr (incremental_group_cost<M>) model_.add(state[best], values_[i]);
    }
  }

  void place(index_type i, std::size_t g, std::size_t& at_ceil, std::size_t n) {
    parts_.insert(i, g);
    if (opts_.equal_counts && n % k_ != 0 && parts_.members()[g].size() == n / k_ + 1) ++at_ceil;
  }

  /// Moves (not under equal_counts) and swaps out of the costliest part (file docs).
  void improve(cost_t bound) {
    const bool moves = !opts_.equal_counts;
    parts_.improve(
        bound, opts_.limits.nodes, opts_.limits.time, [&](index_type, std::size_t, std::size_t) { return moves; },
        [](index_type, std::size_t, index_type, std::size_t) { return true; },
        [](index_type, std::size_t, std::size_t) {});
  }

  std::span<const double> values_;
  std::size_t k_;
  const balance_options& opts_;
  const M& model_;
  group_parts<M> parts_;
};

}  // namespace detail

/// Balances `items` onto k parts under the group model `cost` applied to proj(item) (file docs).
template <std::ranges::random_access_range R, class GroupCost, class Proj = std::identity>
requires group_cost_model<GroupCost> &&
    arithmetic<std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] partition balance(R&& items, std::size_t k, balance_options opts, GroupCost cost, Proj proj = {}) {
  const auto n = static_cast<std::size_t>(std::ranges::size(items));
  detail::validate_parts("balance", "k", k, n);
  if (opts.algorithm == balance_algorithm::karmarkar_karp || opts.algorithm == balance_algorithm::multifit)
    throw invalid_input(detail::describe("balance", "algorithm", to_string(opts.algorithm),
                                         "supports additive cost models only; a group cost model takes greedy, "
                                         "local_search, complete or automatic"));
  if (std::isnan(opts.part_capacity) || !(opts.part_capacity > 0))
    throw invalid_input(detail::describe("balance", "part_capacity", opts.part_capacity, "must be > 0"));
  std::vector<double> values;
  values.reserve(n);
  std::size_t i = 0;
  for (auto&& item : items) {
    const auto v = static_cast<double>(std::invoke(proj, item));
    detail::require_non_negative("balance", "value", i++, v);
    values.push_back(v);
  }
  const auto model = detail::group_model_of(cost);
  return detail::grouped_balancer<std::remove_cvref_t<decltype(model)>>(values, k, opts, model).run();
}

}  // namespace fulcrum
