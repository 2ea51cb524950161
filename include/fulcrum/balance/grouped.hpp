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
/// values proj(item) of one part, in index order) and NOT on a single value. The model must be
/// monotone: adding an item to a part never lowers its cost.
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
#include "fulcrum/core/validate.hpp"

namespace fulcrum {

/// M prices a whole part from its items' values (see file docs); it does not price one value.
template <class M>
concept group_cost_model = std::regular_invocable<const M&, std::span<const double>> &&
    arithmetic<std::invoke_result_t<const M&, std::span<const double>>> && !cost_model_for<M, double>;

/// A group model with an O(1) incremental form: `cost(state)` after `add(state, v)` for each value
/// of a part equals the model on that part's values, bit for bit.
template <class M>
concept incremental_group_cost = group_cost_model<M> && std::default_initializable<typename M::group_state> &&
    requires(const M& m, typename M::group_state& s, const typename M::group_state& cs, double v) {
  m.add(s, v);
  { m.cost(cs) } -> std::convertible_to<cost_t>;
};

/// A group model that states a lower bound on the best makespan over k parts, given the values
/// sorted descending.
template <class M>
concept group_cost_with_bound = requires(const M& m, std::span<const double> sorted_desc, std::size_t k) {
  { m.lower_bound(sorted_desc, k) } -> std::convertible_to<cost_t>;
};

/// A group model of the padded form: a part of `count` items whose longest value is `longest`
/// costs `m.cost_of(count, longest)` (bit for bit what the model gives on the part's values),
/// non-decreasing in both. For these, balance() is exact (see file docs).
template <class M>
concept padded_group_cost = group_cost_model<M> && requires(const M& m, std::size_t count, double longest) {
  { m.cost_of(count, longest) } -> std::convertible_to<cost_t>;
};

namespace detail {

/// max over m of ceil(m/k) * f(v_m) and (sum_i f(v_i)) / k (less a 1e-12 margin): a lower bound for
/// any model whose part cost is count * f(longest) with f non-decreasing (padded models).
template <class F>
cost_t padded_lower_bound(std::span<const double> sorted_desc, std::size_t k, F f) {
  cost_t best = 0, sum = 0;
  for (std::size_t m = 1; m <= sorted_desc.size(); ++m) {
    const double fv = f(sorted_desc[m - 1]);
    const double count = static_cast<double>((m + k - 1) / k);
    best = std::max(best, count * fv);
    sum += fv;
  }
  return std::max(best, sum / static_cast<double>(k) * (1.0 - 1e-12));
}

}  // namespace detail

/// Padded micro-batch under a length model f: count x f(longest). f = attention_cost{a, b, c}.
struct padded_attention_cost {
  double a = 1.0;
  double b = 1.0 / 4096.0;
  double c = 0.0;

  struct group_state {
    double longest = 0;
    std::size_t count = 0;
  };
  void add(group_state& s, double v) const noexcept {
    s.longest = std::max(s.longest, v);
    ++s.count;
  }
  [[nodiscard]] cost_t cost_of(std::size_t count, double longest) const noexcept {
    return count == 0 ? 0.0 : static_cast<double>(count) * attention_cost{a, b, c}(longest);
  }
  [[nodiscard]] cost_t cost(const group_state& s) const noexcept { return cost_of(s.count, s.longest); }
  [[nodiscard]] cost_t operator()(std::span<const double> values) const noexcept {
    group_state s;
    for (double v : values) add(s, v);
    return cost(s);
  }
  [[nodiscard]] cost_t lower_bound(std::span<const double> sorted_desc, std::size_t k) const {
    return detail::padded_lower_bound(sorted_desc, k, [this](double v) { return attention_cost{a, b, c}(v); });
  }
};

namespace detail {

/// The padded-model hooks for padded_cost (core/cost_model.hpp), which keeps its range form.
struct padded_cost_group {
  double per_token = 1.0;
  struct group_state {
    double longest = 0;
    std::size_t count = 0;
  };
  void add(group_state& s, double v) const noexcept {
    s.longest = std::max(s.longest, v);
    ++s.count;
  }
  [[nodiscard]] cost_t cost_of(std::size_t count, double longest) const noexcept {
    return per_token * longest * static_cast<double>(count);
  }
  [[nodiscard]] cost_t cost(const group_state& s) const noexcept { return cost_of(s.count, s.longest); }
  [[nodiscard]] cost_t operator()(std::span<const double> values) const { return padded_cost{per_token}(values); }
  [[nodiscard]] cost_t lower_bound(std::span<const double> sorted_desc, std::size_t k) const {
    return padded_lower_bound(sorted_desc, k, [this](double v) { return per_token * v; });
  }
};

/// padded_cost is balanced through its hooks; any other model as it is.
template <class M>
auto group_model_of(const M& m) {
  if constexpr (std::same_as<M, padded_cost>)
    return padded_cost_group{m.per_token};
  else
    return m;
}

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

/// Group-model balancing on values (validated by the caller).
template <group_cost_model M>
class grouped_balancer {
 public:
  grouped_balancer(std::span<const double> values, std::size_t k, const balance_options& opts, const M& model)
      : values_(values), k_(k), opts_(opts), model_(model), part_of_(values.size(), 0), members_(k) {}

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
    p.parts = grouping::from_assignment(std::span<const index_type>(part_of_), k_);
    p.loads.resize(k_);
    for (std::size_t g = 0; g < k_; ++g) p.loads[g] = part_cost(g);
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

  /// The model on part g's values in index order (members_ is kept sorted).
  cost_t part_cost(std::size_t g) {
    scratch_.clear();
    for (index_type i : members_[g]) scratch_.push_back(values_[i]);
    return checked(static_cast<cost_t>(model_(std::span<const double>(scratch_))), g);
  }
  /// The model on part g's values with `out` removed (if not none) and `in` added (if not none).
  cost_t part_cost_with(std::size_t g, index_type out, index_type in) {
    scratch_.clear();
    bool placed = in == none;
    for (index_type i : members_[g]) {
      if (!placed && in < i) {
        scratch_.push_back(values_[in]);
        placed = true;
      }
      if (i != out) scratch_.push_back(values_[i]);
    }
    if (!placed) scratch_.push_back(values_[in]);
    return checked(static_cast<cost_t>(model_(std::span<const double>(scratch_))), g);
  }

  bool may_grow(std::size_t g, std::size_t at_ceil) const {
    if (!opts_.equal_counts) return true;
    const std::size_t n = values_.size(), floor = n / k_, extra = n % k_;
    return members_[g].size() < floor || (members_[g].size() == floor && at_ceil < extra);
  }

  void greedy(std::span<const index_type> order) {
    const std::size_t n = values_.size();
    std::size_t at_ceil = 0;  // parts holding ceil(n/k) items (equal_counts)
    if constexpr (incremental_group_cost<M>) {
      std::vector<typename M::group_state> state(k_);
      for (index_type i : order) {
        std::size_t best = k_;
        cost_t best_cost = 0;
        for (std::size_t g = 0; g < k_; ++g) {
          if (!may_grow(g, at_ceil)) continue;
          auto s = state[g];
          model_.add(s, values_[i]);
          const cost_t c = model_.cost(s);
          if (best == k_ || c < best_cost) best = g, best_cost = c;
        }
        place(i, best, at_ceil, n);
        model_.add(state[best], values_[i]);
      }
    } else {
      for (index_type i : order) {
        std::size_t best = k_;
        cost_t best_cost = 0;
        for (std::size_t g = 0; g < k_; ++g) {
          if (!may_grow(g, at_ceil)) continue;
          const cost_t c = part_cost_with(g, none, i);
          if (best == k_ || c < best_cost) best = g, best_cost = c;
        }
        place(i, best, at_ceil, n);
      }
    }
  }

  void place(index_type i, std::size_t g, std::size_t& at_ceil, std::size_t n) {
    auto& m = members_[g];
    m.insert(std::upper_bound(m.begin(), m.end(), i), i);
    part_of_[i] = static_cast<index_type>(g);
    if (opts_.equal_counts && n % k_ != 0 && m.size() == n / k_ + 1) ++at_ceil;
  }

  void move(index_type i, std::size_t from, std::size_t to) {
    auto& f = members_[from];
    f.erase(std::lower_bound(f.begin(), f.end(), i));
    auto& t = members_[to];
    t.insert(std::upper_bound(t.begin(), t.end(), i), i);
    part_of_[i] = static_cast<index_type>(to);
  }

  /// Moves and swaps out of the costliest part while one lowers it (see file docs).
  void improve(cost_t bound) {
    const auto start = std::chrono::steady_clock::now();
    const bool timed = opts_.limits.time != std::chrono::milliseconds::max();
    std::vector<cost_t> cost(k_);
    for (std::size_t g = 0; g < k_; ++g) cost[g] = part_cost(g);
    for (std::uint64_t step = 0; step < opts_.limits.nodes; ++step) {
      if (timed && step % 64 == 0 && std::chrono::steady_clock::now() - start >= opts_.limits.time) return;
      const auto top = static_cast<std::size_t>(std::max_element(cost.begin(), cost.end()) - cost.begin());
      if (cost[top] <= bound) return;
      if (!improve_once(top, cost)) return;
    }
  }

  bool improve_once(std::size_t top, std::vector<cost_t>& cost) {
    const std::vector<index_type> from = members_[top];
    for (std::size_t g = 0; g < k_; ++g) {
      if (g == top) continue;
      for (index_type a : from) {
        if (!opts_.equal_counts) {  // move a: top -> g
          const cost_t ct = part_cost_with(top, a, none), cg = part_cost_with(g, none, a);
          if (std::max(ct, cg) < cost[top]) {
            move(a, top, g);
            cost[top] = ct, cost[g] = cg;
            return true;
          }
        }
        const std::vector<index_type> other = members_[g];
        for (index_type b : other) {  // swap a <-> b
          if (values_[b] >= values_[a]) continue;
          const cost_t ct = part_cost_with(top, a, b), cg = part_cost_with(g, b, a);
          if (std::max(ct, cg) < cost[top]) {
            move(a, top, g);
            move(b, g, top);
            cost[top] = ct, cost[g] = cg;
            return true;
          }
        }
      }
    }
    return false;
  }

  static constexpr index_type none = std::numeric_limits<index_type>::max();
  std::span<const double> values_;
  std::size_t k_;
  const balance_options& opts_;
  const M& model_;
  std::vector<index_type> part_of_;
  std::vector<std::vector<index_type>> members_;
  std::vector<double> scratch_;
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
