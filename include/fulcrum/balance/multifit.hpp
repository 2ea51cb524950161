// SPDX-License-Identifier: Apache-2.0
/// @file balance/multifit.hpp
/// MULTIFIT (Coffman, Garey, Johnson 1978): bisection on a part capacity C, testing each C with
/// first-fit decreasing into k bins.
///
/// What: sort items by cost (descending, ties by index). If FFD fits everything into k bins of
/// capacity lb = makespan_lower_bound, that plan is optimal. Otherwise bisect C between lb
/// (infeasible for FFD) and C_u = max(2 sum / k, max cost) (FFD always succeeds there; if
/// floating-point rounding says otherwise, C_u doubles until it does), for `iterations` steps or
/// until the interval is below 1e-12 relative. Returns the FFD plan of the smallest feasible C.
/// With `equal_counts`, FFD only uses bins with room for one more item (floor(n/k) or
/// ceil(n/k) items per bin), and the bisection starts from the count-restricted LPT plan (kept
/// when no smaller capacity passes: count-limited FFD often needs far more than 2 sum / k).
///
/// Complexity: O(n) radix sort + O(iterations * n log k) (FFD finds the first fitting bin with a
/// segment tree, detail/ffd.hpp). Memory O(n + k).
/// Guarantee: makespan <= (1.22 + 2^-iterations) OPT (Coffman-Garey-Johnson; Yue 1990 tightened
/// FFD's factor to 13/11 + 2^-iterations) without count limits; with them, never worse than the
/// count-restricted LPT. Deterministic.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <ranges>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/balance/detail/ffd.hpp"
#include "fulcrum/balance/detail/bounds.hpp"
#include "fulcrum/balance/detail/order.hpp"
#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/balance/partition.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/detail/scratch.hpp"

namespace fulcrum {

struct multifit_options {
  std::size_t iterations = 16;  ///< bisection steps after the first feasible capacity
  bool equal_counts = false;    ///< every part gets floor(n/k) or ceil(n/k) items
};

namespace detail {
/// Multifit on items already in cost-descending order; writes part_of and returns the capacity
/// of the plan found (always succeeds).
template <class = void>
inline cost_t multifit_ordered(std::span<const cost_t> costs, std::span<const index_type> order, std::size_t k,
                               const multifit_options& opts, cost_t lower_bound, std::span<index_type> part_of) {
  const std::size_t n = costs.size();
  if (n == 0) return 0;
  const count_limits limits = opts.equal_counts ? count_limits::equal(n, k) : count_limits{};
  first_fit_decreasing ffd(k);
  if (ffd.run(costs, order, lower_bound, limits, part_of)) return lower_bound;  // optimal
  cost_t sum = 0, largest = 0;
  for (cost_t c : costs) sum += c, largest = std::max(largest, c);
  scratch_vector<index_type> trial(n);
  cost_t hi = 0;
  if (opts.equal_counts) {
    // Count-limited FFD may need a far larger capacity than 2 sum/k (the first bins fill up by
    // cost with few items, the last ones run out of slots), so start from the count-restricted
    // LPT plan and keep it unless FFD finds a lower capacity.
    scratch_vector<cost_t> loads(k, 0.0);
    lpt_equal_counts_into(costs, order, loads, part_of);
    for (cost_t l : loads) hi = std::max(hi, l);
  } else {
    hi = std::max({2 * sum / static_cast<cost_t>(k), largest, lower_bound});
    while (!ffd.run(costs, order, hi, limits, part_of)) hi = std::max(2 * hi, sum);
  }
  cost_t lo = lower_bound;
  for (std::size_t it = 0; it < opts.iterations && hi - lo > 1e-12 * hi; ++it) {
    const cost_t mid = lo + (hi - lo) / 2;
    if (ffd.run(costs, order, mid, limits, trial)) {
      hi = mid;
      std::copy(trial.begin(), trial.end(), part_of.begin());
    } else {
      lo = mid;
    }
  }
  return hi;
}
}  // namespace detail

/// Multifit assignment on precomputed costs: result[i] = part of item i.
template <class = void>
[[nodiscard]] inline std::vector<index_type> multifit_assign(std::span<const cost_t> costs, std::size_t k,
                                                             const multifit_options& opts = {}) {
  detail::require_parts("multifit", k, costs.size());
  detail::require_costs("multifit", costs);
  std::vector<index_type> part_of(costs.size(), 0);
  const auto order = detail::radix_order_descending(costs);
  detail::multifit_ordered(costs, order, k, opts, detail::balance_lower_bound(costs, k, false), part_of);
  return part_of;
}

/// Multifit on precomputed costs, with loads, makespan and lower bound.
template <class = void>
[[nodiscard]] inline partition multifit(std::span<const cost_t> costs, std::size_t k, const multifit_options& opts = {}) {
  const auto part_of = multifit_assign(costs, k, opts);
  return detail::make_partition(part_of, costs, k, detail::balance_lower_bound(costs, k, false));
}

/// Multifit on any random-access range of items, priced by `cost(proj(item))`.
template <std::ranges::random_access_range R, class Cost = identity_cost, class Proj = std::identity>
  requires cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] partition multifit(R&& items, std::size_t k, Cost cost = {}, Proj proj = {}, const multifit_options& opts = {}) {
  detail::require_parts("multifit", k, static_cast<std::size_t>(std::ranges::size(items)));
  const auto costs = evaluate_costs(items, cost, proj, "multifit");
  return multifit(std::span<const cost_t>(costs), k, opts);
}

/// The same in the library's argument order (items, k, options, cost, proj), as balance().
template <std::ranges::random_access_range R, class Cost = identity_cost, class Proj = std::identity>
  requires cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] partition multifit(R&& items, std::size_t k, const multifit_options& opts, Cost cost = {},
                                 Proj proj = {}) {
  return multifit(std::forward<R>(items), k, std::move(cost), std::move(proj), opts);
}

}  // namespace fulcrum
