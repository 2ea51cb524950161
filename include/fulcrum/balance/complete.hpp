// SPDX-License-Identifier: Apache-2.0
/// @file balance/complete.hpp
/// Exact and anytime multiway number partitioning (P||Cmax): split n items onto k parts so that
/// the largest part cost (the makespan) is minimal.
///
/// What: an LPT incumbent, then one of two complete searches:
///  - bin completion (detail/complete_bin_completion.hpp; Korf's approach) when there are no count
///    constraints and n <= 2048: a sequence of decisions "k parts of load <= C?", first at C = the
///    lower bound (a perfect plan proves itself at once; an infeasible answer raises the bound by
///    one for integral costs), then top-down at C = best - 1 until a decision is infeasible;
///  - otherwise (equal_counts, or larger n) branch and bound (detail/complete_search.hpp): items
///    placed largest first onto parts in increasing load order, symmetry breaking (parts with
///    equal load are tried once), an incumbent cut and a wasted-space bound.
/// Both stop at the lower bound max(sum/k rounded up for integral costs, max item, c_(k) + c_(k+1)),
/// when the search is exhausted, or when `opts.limits` hits (nodes: items placed).
/// Integral costs (every sum below 2^53) without equal_counts first get pack_exact's machinery for
/// the decision version "k bins of capacity C" (detail::complete_strengthen): a binary search over
/// C in [bound, LPT - 1] raises the bound to C + 1 for each checked C with Martello-Toth L2 > k
/// (sound for every C on its own: a plan at C is a plan at every larger C), then FFD, MBS' and the
/// pool search (packing/detail/exact_primal.hpp; C <= 2^22, at most 2M DP words and 1/20 of the
/// time limit) at C = the raised bound: a packing into <= k bins is optimal at once. The search
/// below keeps its own node and time budget (so the whole call may run ~5% over `limits.time`).
///
/// Constraints: `opts.equal_counts` (every part gets floor(n/k) or ceil(n/k) items) and
/// `opts.part_capacity` (no part above it) are both supported, also together.
///
/// Guarantee: `proven_optimal` is set only with a proof: the makespan reaches the lower bound, or
/// the search tree was exhausted (then `lower_bound` is set to the makespan). When a limit hits, the
/// best plan so far is returned with the static lower bound, so `gap()` is a proven gap. The node
/// limit is deterministic (same plan everywhere); the time limit is not.
/// Floating point: every decision follows the arithmetic rule of balance/detail/sums.hpp: loads are
/// summed in item index order, a plan fits iff every load <= part_capacity, is better iff its
/// makespan is smaller, and "optimal" means no plan has a smaller makespan under that rule (no
/// tolerance). When every sum is exact (whole numbers, halves, ... below 2^53) bin completion
/// decides; otherwise the branch and bound prunes with limits grown by the rounding margin and
/// checks each plan it reaches in index order, so a capped search finds every plan the rule
/// accepts at the cap.
///
/// Complexity: O(n log n) to sort and seed, then O(k) per search node; exponential in the worst
/// case (the problem is strongly NP-hard), bounded by `opts.limits`. Memory O(n + k). Easy in practice when items are
/// many and small relative to sum/k (a perfect plan is then found at once); hard for few items with many digits.
///
/// Errors: k == 0, NaN/negative/infinite costs, NaN or non-positive capacity -> invalid_input;
/// an item above the capacity, a total above k * capacity, or a search that proves no plan fits
/// the capacity (or finds none within the limits) -> infeasible.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <queue>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/balance/detail/bounds.hpp"
#include "fulcrum/balance/detail/complete_bin_completion.hpp"
#include "fulcrum/balance/detail/complete_search.hpp"
#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/balance/options.hpp"
#include "fulcrum/balance/partition.hpp"
#include "fulcrum/core/bounds.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/packing/bounds.hpp"
#include "fulcrum/packing/detail/exact_primal.hpp"

namespace fulcrum {

namespace detail {

/// LPT that respects equal counts (largest item to the lightest part that still has room).
/// Returns the part of each item in sorted order. Capacity is not enforced here.
template <class = void>
inline std::vector<index_type> complete_initial_lpt(const complete_problem& p, cost_t& makespan) {
  const std::size_t n = p.cost.size(), k = p.k;
  std::vector<index_type> part(n);
  std::vector<cost_t> load(k, 0);
  std::vector<std::size_t> count(k, 0);
  std::size_t ceil_used = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t best = k;
    for (std::size_t j = 0; j < k; ++j) {
      if (p.equal_counts) {
        if (count[j] >= p.count_ceil) continue;
        if (count[j] >= p.count_floor && ceil_used >= p.ceil_parts) continue;
      }
      if (best == k || load[j] < load[best]) best = j;
    }
    part[i] = static_cast<index_type>(best);
    load[best] += p.cost[i];
    ++count[best];
    if (p.equal_counts && p.count_ceil > p.count_floor && count[best] == p.count_ceil) ++ceil_used;
  }
  makespan = 0;
  for (cost_t l : load) makespan = std::max(makespan, l);
  return part;
}

/// Items up to which the unconstrained search uses bin completion (its recursion depth is <= n + k).
inline constexpr std::size_t bin_completion_max_items = 2048;

/// Optimisation by a sequence of bin-completion decisions: first C = lower bound (a perfect plan,
/// if one exists, proves itself optimal at once), then top-down C = best - 1 (integral) or the
/// next double below best until a decision is infeasible (the incumbent is optimal) or the limits
/// hit. Only used when every sum is exact (p.exact), so its placement-order sums are the rule's.
template <class = void>
inline complete_outcome complete_by_bin_completion(const complete_problem& p, std::vector<index_type> incumbent,
                                                   cost_t incumbent_makespan) {
  complete_outcome out;
  out.part_of_sorted = std::move(incumbent);
  out.makespan = out.part_of_sorted.empty() ? std::numeric_limits<cost_t>::infinity() : incumbent_makespan;
  auto meets = [&](cost_t mk) { return mk < std::numeric_limits<cost_t>::infinity() && mk <= p.lower_bound; };
  if (meets(out.makespan)) {
    out.reached_bound = true;
    return out;
  }
  const auto start = std::chrono::steady_clock::now();
  bin_completion bc(p.cost, p.k, p.exact, p.limits, start, out.nodes);
  auto makespan_of = [&](const std::vector<index_type>& part) { return p.index_makespan(part); };
  std::vector<index_type> plan;
  // Bottom: the lower bound itself, with half of the node budget.
  {
    search_limits half = p.limits;
    half.nodes = p.limits.nodes / 2;
    bin_completion first(p.cost, p.k, p.exact, half, start, out.nodes);
    const cost_t C = std::min(p.capacity, p.lower_bound);
    const auto d = first.decide(C, plan);
    if (d == decision::feasible) {
      out.part_of_sorted = plan;
      out.makespan = makespan_of(plan);
      out.reached_bound = true;
      return out;
    }
    if (d == decision::infeasible && C >= p.capacity) {
      out.exhausted = true;  // not even the capacity admits a plan
      out.part_of_sorted.clear();
      return out;
    }
    if (d == decision::infeasible && p.integral) out.proven_lower_bound = C + 1;
  }
  // Top-down.
  while (true) {
    const cost_t C = p.target_below(out.makespan);
    const auto d = bc.decide(C, plan);
    if (d == decision::limit) return out;
    if (d == decision::infeasible) {
      out.exhausted = true;
      return out;
    }
    out.part_of_sorted = plan;
    out.makespan = makespan_of(plan);
    if (meets(out.makespan)) {
      out.reached_bound = true;
      return out;
    }
  }
}

/// The bin-packing machinery of pack_exact applied to the decision version "k parts of load <= C?"
/// (bin packing into k bins of capacity C), for integral costs without count constraints.
/// Bound: L2(costs, C) > k proves that no plan has makespan <= C, so makespan >= C + 1. Valid for
/// every C on its own (feasibility at C implies feasibility at every larger C), so a binary search
/// over C in [bound, hi] that raises the bound only to C + 1 for a C it checked is sound.
/// Primal: FFD, MBS' and the pool search at C = the raised bound; a packing into <= k bins is a
/// plan of makespan <= bound, i.e. optimal. Returns true and fills `plan` (part of each sorted
/// item) in that case. O(n log n · log(hi - bound)) for the bound, budgeted work for the primal.
template <class = void>
inline bool complete_strengthen(const complete_problem& p, std::uint64_t hi, cost_t& bound,
                                std::vector<index_type>& plan, std::chrono::steady_clock::time_point start) {
  const std::size_t n = p.cost.size();
  std::vector<std::uint64_t> sizes(n);
  for (std::size_t i = 0; i < n; ++i) sizes[i] = static_cast<std::uint64_t>(p.cost[i]);
  auto lo = static_cast<std::uint64_t>(std::ceil(bound));
  if (lo == 0) return false;  // bound 0: every cost is 0, nothing to raise or pack
  while (lo <= hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    if (lower_bound_l2(std::span<const std::uint64_t>(sizes), mid) > p.k)
      lo = mid + 1;  // proven: no plan of makespan <= mid
    else if (mid == 0)
      break;
    else
      hi = mid - 1;
  }
  bound = std::max(bound, static_cast<cost_t>(lo));
  if (bound > p.capacity) return false;
  const std::uint64_t C = lo;
  std::vector<index_type> positive;
  for (std::size_t i = 0; i < n; ++i)
    if (sizes[i] > 0) positive.push_back(static_cast<index_type>(i));
  if (positive.empty() || sizes[positive.front()] > C) return false;
  exact::bin_list best = exact::first_fit_decreasing(sizes, positive, C);
  auto take = [&](exact::bin_list&& candidate) {
    if (!candidate.empty() && candidate.size() < best.size()) best = std::move(candidate);
  };
  if (best.size() > p.k) take(exact::minimum_bin_slack(sizes, positive, C, 2000));
  if (best.size() > p.k && C <= (std::uint64_t{1} << 22)) {
    // Pool search with restarts (new seed, twice the work), a small deterministic work cap (about
    // 2 ms; the search below keeps its own budget) and 1/20 of the time limit.
    const std::uint64_t cap = std::min<std::uint64_t>(
        2'000'000,
        p.limits.nodes > std::numeric_limits<std::uint64_t>::max() / 20 ? p.limits.nodes : p.limits.nodes * 20);
    exact::primal_budget budget;
    budget.work = cap;
    if (p.limits.time < std::chrono::hours(24 * 365)) {  // no overflow of the clock
      budget.has_deadline = true;
      budget.deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(p.limits.time / 20);
    }
    std::uint64_t slice = std::max<std::uint64_t>(cap / 8, 1);
    for (std::uint64_t attempt = 0; best.size() > p.k && budget.work > 0 && !budget.time_up(); ++attempt) {
      exact::pool_search ls(sizes, C, 0xc0111e7eULL + 0xd1b54a32d192ed03ULL * attempt);
      exact::primal_budget part = budget;
      part.work = std::min(slice, budget.work);
      const std::uint64_t given = part.work;
      take(ls.run(best, p.k, part));
      if (part.work == given) break;
      budget.work -= given - part.work;
      if (slice <= std::numeric_limits<std::uint64_t>::max() / 2) slice *= 2;
    }
  }
  if (best.size() > p.k) return false;
  // Check independently of the heuristics: every positive item once, every load <= C.
  std::vector<index_type> part(n, 0);
  std::vector<std::uint64_t> load(p.k, 0);
  std::vector<std::uint8_t> seen(n, 0);
  std::size_t placed = 0;
  for (std::size_t b = 0; b < best.size(); ++b)
    for (index_type i : best[b]) {
      if (i >= n || seen[i] || sizes[i] == 0) return false;
      seen[i] = 1;
      ++placed;
      part[i] = static_cast<index_type>(b);
      load[b] += sizes[i];
      if (load[b] > C) return false;
    }
  if (placed != positive.size()) return false;
  plan = std::move(part);
  return true;
}

/// complete_balance's body; `strong` = false skips complete_strengthen (the solver as it was
/// before it, kept for the number-partitioning benchmark's comparison).
template <class = void>
[[nodiscard]] inline partition complete_balance_impl(std::span<const cost_t> costs, std::size_t k,
                                                     const balance_options& opts, bool strong) {
  constexpr const char* where = "complete_balance";
  detail::require_parts(where, k, costs.size());
  detail::require_costs(where, costs);
  const cost_t capacity = opts.part_capacity;
  if (std::isnan(capacity) || !(capacity > 0))
    throw invalid_input(detail::describe(where, "part_capacity", capacity, "must be positive"));
  const std::size_t n = costs.size();

  detail::complete_problem prob;
  prob.k = k;
  prob.capacity = capacity;
  prob.limits = opts.limits;
  prob.input = costs;
  prob.item = detail::order_by_cost_descending(costs);
  const auto& order = prob.item;
  prob.cost.resize(n);
  for (std::size_t i = 0; i < n; ++i) prob.cost[i] = costs[order[i]];

  cost_t total = 0;
  bool integral = true;
  for (cost_t c : prob.cost) {
    total += c;
    if (c != std::floor(c)) integral = false;
  }
  integral = integral && total < 0x1p53;
  prob.integral = integral;
  prob.exact = integral || detail::sums_are_exact(costs);
  if (opts.equal_counts) {
    prob.equal_counts = true;
    prob.count_floor = n / k;
    prob.ceil_parts = n % k;
    prob.count_ceil = prob.count_floor + (prob.ceil_parts > 0 ? 1 : 0);
  }

  // Lower bound: sound under the arithmetic rule (detail/bounds.hpp), rounded up for integral costs.
  const cost_t lb = detail::balance_lower_bound(costs, k, opts.equal_counts);
  prob.lower_bound = lb;

  if (capacity < std::numeric_limits<cost_t>::infinity()) {
    for (std::size_t i = 0; i < n; ++i)
      if (costs[i] > capacity) throw infeasible(detail::describe(where, "cost", i, costs[i], "exceeds part_capacity"));
    if (lb > capacity)
      throw infeasible(
          detail::describe(where, "part_capacity", capacity,
                           "is below the makespan lower bound (sum / k, or two of the k+1 largest items)"));
  }

  cost_t lpt_makespan = 0;
  auto incumbent = detail::complete_initial_lpt(prob, lpt_makespan);
  lpt_makespan = prob.index_makespan(incumbent);   // the rule's makespan
  if (lpt_makespan > capacity) incumbent.clear();  // not a feasible start

  detail::complete_outcome out;
  cost_t bound = lb;
  if (strong && integral && !opts.equal_counts && k > 1 && n > k) {
    const cost_t top = incumbent.empty() ? std::floor(capacity) : lpt_makespan - 1;
    std::vector<index_type> plan;
    if (detail::complete_strengthen(prob, static_cast<std::uint64_t>(std::max<cost_t>(top, 0)), bound, plan,
                                    std::chrono::steady_clock::now())) {
      out.part_of_sorted = std::move(plan);
      out.reached_bound = true;
    } else if (bound > capacity) {
      out.exhausted = true;  // proven: no plan within the capacity
    } else if (!incumbent.empty() && lpt_makespan <= bound) {
      out.part_of_sorted = std::move(incumbent);
      out.reached_bound = true;
    }
    prob.lower_bound = bound;
  }
  if (out.reached_bound || out.exhausted) {
    // decided above
  } else if (prob.exact && !opts.equal_counts && n <= detail::bin_completion_max_items && k > 1 && n > k) {
    out = detail::complete_by_bin_completion(prob, std::move(incumbent), lpt_makespan);
  } else {
    detail::complete_search search(prob);
    out = search.run(std::move(incumbent), lpt_makespan);
  }
  if (out.part_of_sorted.size() != n || (n > 0 && out.part_of_sorted.empty())) {
    if (out.exhausted)
      throw infeasible(detail::describe(where, "part_capacity", capacity, "no assignment keeps every part within it"));
    throw infeasible(detail::describe(where, "part_capacity", capacity,
                                      "no assignment within it found before the search limits hit"));
  }
  std::vector<index_type> part_of(n);
  for (std::size_t i = 0; i < n; ++i) part_of[order[i]] = out.part_of_sorted[i];
  partition p = detail::make_partition(part_of, costs, k, std::max(bound, out.proven_lower_bound));
  if (out.exhausted || out.reached_bound) {
    p.proven_optimal = true;
    // Exhaustion proves the incumbent optimal under the rule (its makespan was taken in index
    // order, as make_partition's).
    p.lower_bound = out.exhausted ? p.makespan : std::min(p.lower_bound, p.makespan);
  }
  return p;
}

}  // namespace detail

/// Exact / anytime balancing of `costs` onto k parts (see the file comment).
template <class = void>
[[nodiscard]] inline partition complete_balance(std::span<const cost_t> costs, std::size_t k,
                                                const balance_options& opts = {}) {
  return detail::complete_balance_impl(costs, k, opts, true);
}

}  // namespace fulcrum
