// SPDX-License-Identifier: Apache-2.0
/// @file core/group_cost.hpp
/// Group cost models: the cost of a part (a rank's batch, a micro-batch) as a function of the whole
/// part rather than the sum of its items' costs, as balance() (balance/grouped.hpp) and
/// pack_for_ranks() (packing/rank_packing_grouped.hpp) take them.
///
/// - group_cost_model<M>: M is callable on a std::span<const double> (the values of one part, in
///   index order) and returns an arithmetic cost; it does not price a single value (additive models
///   do, and go through the additive front doors). It must be monotone: adding an item never lowers
///   the part's cost.
/// - optional hooks: an O(1) incremental form (group_state, add, cost: incremental_group_cost), a
///   lower bound on the best makespan over k parts (lower_bound(sorted descending, k):
///   group_cost_with_bound), and the padded form cost_of(count, longest) (padded_group_cost).
/// - padded_attention_cost{a, b, c}: count x (a L + b L^2 + c) at the part's longest L (a padded
///   micro-batch under attention); padded_cost (core/cost_model.hpp, count x longest x per_token)
///   gets the same hooks through detail::group_model_of.
/// - detail::group_parts: parts priced by a model, and the min-max local search both front doors use.
/// Determinism: products through plain multiplications in a fixed order; no clock unless a time
/// limit is given.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "fulcrum/concepts/cost_model.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/detail/chrono.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"

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

/// The incremental state of the padded models: the longest value so far and the count.
struct padded_state {
  double longest = 0;
  std::size_t count = 0;
  void add(double v) noexcept {
    longest = std::max(longest, v);
    ++count;
  }
};

}  // namespace detail

/// Padded micro-batch under a length model f: count x f(longest). f = attention_cost{a, b, c}.
struct padded_attention_cost {
  double a = 1.0;
  double b = 1.0 / 4096.0;
  double c = 0.0;

  using group_state = detail::padded_state;
  void add(group_state& s, double v) const noexcept { s.add(v); }
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
  using group_state = padded_state;
  void add(group_state& s, double v) const noexcept { s.add(v); }
  [[nodiscard]] cost_t cost_of(std::size_t count, double longest) const noexcept {
    return per_token * longest * static_cast<double>(count);
  }
  [[nodiscard]] cost_t cost(const group_state& s) const noexcept { return cost_of(s.count, s.longest); }
  [[nodiscard]] cost_t operator()(std::span<const double> values) const { return padded_cost{per_token}(values); }
  [[nodiscard]] cost_t lower_bound(std::span<const double> sorted_desc, std::size_t k) const {
    return padded_lower_bound(sorted_desc, k, [this](double v) { return per_token * v; });
  }
};

/// padded_cost is balanced through its hooks; any other model as it is (padded coefficients checked).
/// Throws invalid_input naming a padded model's coefficient that is negative or not finite.
inline void check_coefficient(std::string_view field, double v) {
  if (!(v >= 0) || std::isinf(v))
    throw invalid_input(describe("group cost model", field, v, "must be finite and >= 0"));
}

template <class M>
auto group_model_of(const M& m) {
  if constexpr (std::same_as<M, padded_cost>) {
    check_coefficient("per_token", m.per_token);
    return padded_cost_group{m.per_token};
  } else {
    if constexpr (std::same_as<M, padded_attention_cost>) {
      check_coefficient("a", m.a);
      check_coefficient("b", m.b);
      check_coefficient("c", m.c);
    }
    return m;
  }
}

/// Parts of items (index order within a part) priced by a group model, and the min-max local
/// search shared by balance() and pack_for_ranks() under group models: moves and swaps out of the
/// costliest part while one lowers it; each accepted step lowers the sorted vector of part costs.
template <group_cost_model M>
class group_parts {
 public:
  static constexpr index_type none = std::numeric_limits<index_type>::max();

  /// `where` names the front door in error messages.
  group_parts(std::span<const double> values, const M& model, std::size_t parts, std::string_view where = "balance")
      : values_(values), model_(model), members_(parts), where_(where) {}

  [[nodiscard]] const std::vector<std::vector<index_type>>& members() const noexcept { return members_; }
  [[nodiscard]] std::size_t size() const noexcept { return members_.size(); }

  /// The model on part g's values in index order.
  cost_t cost(std::size_t g) { return cost_with(g, none, none); }
  /// The model on part g's values with `out` removed (unless none) and `in` added (unless none).
  cost_t cost_with(std::size_t g, index_type out, index_type in) {
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
    const auto c = static_cast<cost_t>(model_(std::span<const double>(scratch_)));
    if (!(c >= 0) || std::isinf(c))
      throw invalid_input(describe(where_, "group cost of part", g, c, "must be finite and >= 0"));
    return c;
  }
  void insert(index_type i, std::size_t g) {
    auto& m = members_[g];
    m.insert(std::upper_bound(m.begin(), m.end(), i), i);
  }
  void move(index_type i, std::size_t from, std::size_t to) {
    auto& f = members_[from];
    f.erase(std::lower_bound(f.begin(), f.end(), i));
    insert(i, to);
  }

  /// Local search (see class docs) until no step helps, the costliest part meets `bound`, or the
  /// budget (steps, time; time max() = no clock) runs out. can_move(i, from, to) and
  /// can_swap(a, from, b, to) veto steps (counts, capacities); moved(i, from, to) is told of each.
  template <class CanMove, class CanSwap, class Moved>
  void improve(cost_t bound, std::uint64_t max_steps, std::chrono::milliseconds time, CanMove can_move,
               CanSwap can_swap, Moved moved) {
    const auto start = std::chrono::steady_clock::now();
    const bool timed = time != std::chrono::milliseconds::max();
    std::vector<cost_t> costs(size());
    for (std::size_t g = 0; g < size(); ++g) costs[g] = cost(g);
    for (std::uint64_t step = 0; step < max_steps; ++step) {
      if (timed && step % 64 == 0 && std::chrono::steady_clock::now() - start >= time) return;
      const auto top = static_cast<std::size_t>(std::max_element(costs.begin(), costs.end()) - costs.begin());
      if (costs[top] <= bound || !improve_once(top, costs, can_move, can_swap, moved)) return;
    }
  }

 private:
  template <class CanMove, class CanSwap, class Moved>
  bool improve_once(std::size_t top, std::vector<cost_t>& costs, CanMove& can_move, CanSwap& can_swap, Moved& moved) {
    const std::vector<index_type> from = members_[top];
    for (std::size_t g = 0; g < size(); ++g) {
      if (g == top) continue;
      for (index_type a : from) {
        if (can_move(a, top, g)) {
          const cost_t ct = cost_with(top, a, none), cg = cost_with(g, none, a);
          if (std::max(ct, cg) < costs[top]) {
            move(a, top, g);
            moved(a, top, g);
            costs[top] = ct, costs[g] = cg;
            return true;
          }
        }
        const std::vector<index_type> other = members_[g];
        for (index_type b : other) {
          if (values_[b] >= values_[a] || !can_swap(a, top, b, g)) continue;
          const cost_t ct = cost_with(top, a, b), cg = cost_with(g, b, a);
          if (std::max(ct, cg) < costs[top]) {
            move(a, top, g);
            move(b, g, top);
            moved(a, top, g);
            moved(b, g, top);
            costs[top] = ct, costs[g] = cg;
            return true;
          }
        }
      }
    }
    return false;
  }

  std::span<const double> values_;
  const M& model_;
  std::vector<std::vector<index_type>> members_;
  std::vector<double> scratch_;
  std::string_view where_;
};

/// Evens one step's `bins` (item indices in index order) under the model with group_parts' search:
/// a move never empties or fills a bin; fits(bin, out, in) says whether `bin` may give up `out`
/// (group_parts<M>::none: nothing) and take `in`; moved(i, from, to) reports every item moved. The
/// bins are written back and costs[b] receives bin b's group cost. Shared by pack_for_ranks() and
/// the streaming batcher under group models.
template <group_cost_model M, class Fits, class Moved>
void even_bins(std::span<std::vector<index_type>> bins, std::span<cost_t> costs, std::span<const double> values,
               const M& model, std::uint64_t max_steps, std::string_view where, Fits fits, Moved moved) {
  constexpr index_type none = group_parts<M>::none;
  group_parts<M> parts(values, model, bins.size(), where);
  for (std::size_t b = 0; b < bins.size(); ++b)
    for (const index_type i : bins[b]) parts.insert(i, b);
  parts.improve(
      0.0, max_steps, std::chrono::milliseconds::max(),
      [&](index_type i, std::size_t from, std::size_t to) {
        return parts.members()[from].size() > 1 && !parts.members()[to].empty() && fits(to, none, i);
      },
      [&](index_type a, std::size_t from, index_type b, std::size_t to) { return fits(from, a, b) && fits(to, b, a); },
      moved);
  for (std::size_t b = 0; b < bins.size(); ++b) {
    bins[b] = parts.members()[b];
    costs[b] = parts.cost(b);
  }
}

}  // namespace detail

}  // namespace fulcrum
