// SPDX-License-Identifier: Apache-2.0
/// @file balance/detail/balance_impl.hpp
/// Definition of balance()'s span-level worker `detail::balance_costs` (declared in
/// balance/balance.hpp) and its phases: included by balance.hpp in header-only mode, compiled once
/// into fulcrum::compiled otherwise (src/balance.cpp). Algorithm guide: balance/balance.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/balance/balance.hpp"
#include "fulcrum/balance/complete.hpp"
#include "fulcrum/balance/detail/bounds.hpp"
#include "fulcrum/balance/detail/ffd.hpp"
#include "fulcrum/balance/detail/order.hpp"
#include "fulcrum/balance/detail/pair_resplit.hpp"
#include "fulcrum/balance/detail/sums.hpp"
#include "fulcrum/balance/karmarkar_karp.hpp"
#include "fulcrum/balance/local_search.hpp"
#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/balance/multifit.hpp"
#include "fulcrum/balance/options.hpp"
#include "fulcrum/balance/partition.hpp"
#include "fulcrum/config.hpp"
#include "fulcrum/core/detail/chrono.hpp"
#include "fulcrum/core/detail/scratch.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/options.hpp"
#include "fulcrum/core/validate.hpp"

namespace fulcrum::detail {

/// Largest part load of an assignment under the arithmetic rule (detail/sums.hpp: index order,
/// as make_partition sums).
template <class = void>
inline cost_t assignment_makespan(std::span<const cost_t> costs, std::span<const index_type> part_of, std::size_t k,
                                  scratch_vector<cost_t>& loads) {
  loads.assign(k, 0.0);
  part_loads(costs, part_of, loads);
  return max_load(loads);
}

/// balance_check_inputs; when `order` is given it also receives the items by cost descending
/// (radix_order_descending, after validation), from which the bound is read without a selection.
template <class = void>
inline cost_t balance_check_inputs_ordered(std::string_view where, std::span<const cost_t> costs, std::size_t k,
                                           const balance_options& opts, scratch_vector<index_type>* order,
                                           bool* sums_exact = nullptr) {
  require_parts(where, k, costs.size());
  cost_summary summary;  // validates the costs too (validate_costs' exceptions)
  if (order != nullptr)
    summary = summarize_costs(where, costs);
  else
    summary.sum = validate_costs(where, costs);  // the index-order sum
  if (!std::isfinite(summary.sum))
    throw invalid_input(describe(where, "costs", costs.size(), "their sum overflows a double: rescale the cost model"));
  const cost_t cap = opts.part_capacity;
  if (std::isnan(cap) || !(cap > 0))
    throw invalid_input(describe(where, "part_capacity", cap, "must be positive (infinity means no limit)"));
  cost_t lb = 0;
  if (order != nullptr) {
    *order = radix_order_descending(costs);
    lb = balance_lower_bound(costs, *order, k, opts.equal_counts, summary);
    if (sums_exact != nullptr) *sums_exact = k > 1 && !costs.empty() && summary.exact;
  } else {
    lb = balance_lower_bound(costs, k, opts.equal_counts);
  }
  if (cap < std::numeric_limits<cost_t>::infinity()) {
    for (std::size_t i = 0; i < costs.size(); ++i)
      if (costs[i] > cap) {
        std::string reason = "exceeds part_capacity = ";  // %.17g: what a stream of precision 17 writes
        append_value(reason, cap);
        reason += ": no part can hold it";
        throw infeasible(describe(where, "cost", i, costs[i], reason));
      }
    if (lb > cap) {
      std::string reason = "is below the makespan lower bound ";
      append_value(reason, lb);
      reason += " (max of sum/k, the largest cost, two of the k+1 largest, the equal-counts bound): no plan fits";
      throw infeasible(describe(where, "part_capacity", cap, reason));
    }
  }
  return lb;
}

/// Validates the balance inputs shared by every algorithm; returns the lower bound.
FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER cost_t balance_check_inputs(std::string_view where, std::span<const cost_t> costs, std::size_t k,
                                           const balance_options& opts) {
  return balance_check_inputs_ordered(where, costs, k, opts, nullptr);
}

/// The improvement budget of `automatic` (balance_options::limits): nodes = local-search steps
/// summed over its phases; the clock, when limits.time is set, is read before every 1024 steps.
/// Running the engine in chunks gives the same plan as one run (its state is the assignment).
template <class = void>
class basic_improvement_budget {
 public:
  explicit basic_improvement_budget(const search_limits& limits)
      : limits_(limits), start_(std::chrono::steady_clock::now()) {}

  /// Runs `engine` for at most opts.max_steps steps, within what is left of the budget.
  /// Returns the steps taken (0: the engine's assignment is still the one it started from).
  std::uint64_t run(local_search_engine& engine, local_search_options opts) {
    const bool timed = limits_.time != std::chrono::milliseconds::max();
    std::uint64_t left = std::min(opts.max_steps, limits_.nodes - std::min(used_, limits_.nodes));
    std::uint64_t taken = 0;
    while (left > 0) {
      if (timed && out_of_time()) return taken;
      opts.max_steps = timed ? std::min<std::uint64_t>(left, 1024) : left;
      const std::uint64_t steps = engine.run(opts);
      used_ += steps;
      taken += steps;
      left -= steps;
      if (steps < opts.max_steps) return taken;  // local optimum
    }
    return taken;
  }

  /// Steps a phase may still take, at most `cap` (0 once the time limit passed).
  [[nodiscard]] std::uint64_t left(std::uint64_t cap) const {
    if (limits_.time != std::chrono::milliseconds::max() && out_of_time()) return 0;
    return std::min(cap, limits_.nodes - std::min(used_, limits_.nodes));
  }
  /// Counts `steps` taken by a phase run outside run().
  void spend(std::uint64_t steps) { used_ += steps; }

  /// Whether no step is left (nodes used up, or the time limit passed).
  [[nodiscard]] bool spent() const {
    return used_ >= limits_.nodes || (limits_.time != std::chrono::milliseconds::max() && out_of_time());
  }

 private:
  [[nodiscard]] bool out_of_time() const { return std::chrono::steady_clock::now() - start_ >= limits_.time; }

  search_limits limits_;
  std::chrono::steady_clock::time_point start_;
  std::uint64_t used_ = 0;
};
using improvement_budget = basic_improvement_budget<>;

/// The plan of one heuristic, by algorithm, on items already in cost-descending order.
template <class = void>
inline void balance_heuristic(balance_algorithm algorithm, std::span<const cost_t> costs,
                              std::span<const index_type> order, std::size_t k, const balance_options& opts, cost_t lb,
                              bool sums_exact, std::span<index_type> part_of) {
  const std::size_t n = costs.size();
  scratch_vector<cost_t> loads(k, 0.0);
  const auto greedy = [&] {
    std::fill(loads.begin(), loads.end(), 0.0);
    if (opts.equal_counts)
      lpt_equal_counts_into(costs, order, loads, part_of);
    else
      lpt_into(costs, order, loads, part_of);
  };
  const auto kk = [&] {
    if (!opts.equal_counts) {
      const auto a = karmarkar_karp_solver(costs, k).run(order);
      std::copy(a.begin(), a.end(), part_of.begin());
      return;
    }
    // The chunked equal-count variant is coarse when n/k is small: polish with count-keeping
    // local search.
    const auto a = karmarkar_karp_equal_counts(costs, k, order);
    local_search_engine engine(costs, k, a, order, sums_exact);
    engine.run(local_search_options{1'000'000, std::numeric_limits<std::size_t>::max(), true});
    engine.assignment(part_of);
  };
  switch (algorithm) {
    case balance_algorithm::greedy:
      greedy();
      return;
    case balance_algorithm::karmarkar_karp:
      kk();
      return;
    case balance_algorithm::multifit:
      multifit_ordered(costs, order, k, multifit_options{16, opts.equal_counts}, lb, part_of);
      return;
    case balance_algorithm::local_search: {
      greedy();
      local_search_engine engine(costs, k, part_of, order, sums_exact);
      engine.run(local_search_options{1'000'000, std::numeric_limits<std::size_t>::max(), opts.equal_counts});
      engine.assignment(part_of);
      return;
    }
    case balance_algorithm::automatic: {
      greedy();
      // Exact sums: every load computed in any order has the index-order bits (no pass over the items).
      const cost_t greedy_makespan = sums_exact ? max_load(loads) : assignment_makespan(costs, part_of, k, loads);
      if (greedy_makespan <= lb) return;
      improvement_budget budget(opts.limits);
      const local_search_options quick{64 + 8 * static_cast<std::uint64_t>(k), 8, opts.equal_counts};
      local_search_engine engine(costs, k, part_of, order, sums_exact);
      // No step taken: the engine's assignment is the one it started from (no rewrite, no new sums).
      cost_t first = greedy_makespan;
      if (budget.run(engine, quick) > 0) {
        engine.assignment(part_of);
        first = sums_exact ? engine.makespan() : assignment_makespan(costs, part_of, k, loads);
      }
      if (first <= lb || budget.spent()) return;
      // Karmarkar-Karp as a second start: up to 16384 items, or 131072 with equal counts (the
      // chunked variant is cheap there); above that its time outgrows what it adds.
      std::optional<local_search_engine> second;
      if (n <= 16384 || (opts.equal_counts && n <= 131072)) {
        scratch_vector<index_type> other;
        auto a = opts.equal_counts ? karmarkar_karp_equal_counts(costs, k, order)
                                   : karmarkar_karp_solver(costs, k).run(order);
        second.emplace(costs, k, a, order, sums_exact);
        const bool moved = budget.run(*second, quick) > 0;
        cost_t other_makespan = 0;
        if (sums_exact) {  // the engine's loads are the index-order ones: no assignment to sum
          other_makespan = second->makespan();
          if (other_makespan < first) {
            if (moved)
              second->assignment(part_of);
            else
              std::copy(a.begin(), a.end(), part_of.begin());
          }
        } else {
          if (moved) {
            other.resize(n);
            second->assignment(other);
          } else {
            other.swap(a);  // no step taken: the engine's assignment is `a`
          }
          other_makespan = assignment_makespan(costs, other, k, loads);
          if (other_makespan < first) std::copy(other.begin(), other.end(), part_of.begin());
        }
        if (!(other_makespan < first)) second.reset();
        if (std::min(first, other_makespan) <= lb || budget.spent()) return;  // the kept plan's makespan
      }
      // Last: re-split the heaviest part with a partner (detail/pair_resplit.hpp), starting from
      // the kept engine's parts, already in cost order.
      local_search_engine& kept = second ? *second : engine;
      pair_resplit resplit(costs, k, part_of, kept.release_parts_by_cost(), opts.equal_counts, sums_exact);
      budget.spend(resplit.run(lb, budget.left(k), 8));
      return;
    }
    case balance_algorithm::complete:
      break;  // handled by the caller
  }
}

template <class = void>
inline std::string capacity_text(cost_t cap, cost_t best, cost_t lb) {
  // append_value writes %.17g: what a stream of precision 17 writes
  std::string out = "no plan with every part within it was found (best makespan ";
  append_value(out, best);
  out += ", lower bound ";
  append_value(out, lb);
  out += ")";
  (void)cap;
  return out;
}

FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER void balance_check_parts(std::size_t k, std::size_t n) {
  require_parts("balance", k, n);
}

FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER void balance_costs_into(std::span<const cost_t> costs, std::size_t k, const balance_options& opts,
                                       workspace* ws, partition& out) {
  constexpr std::string_view where = "balance";
  const workspace_scope scope(ws);  // every scratch buffer below comes from ws (when given)
  scratch_vector<index_type> order;
  bool sums_exact = false;  // sums_are_exact(costs), from the bound's pass
  const cost_t lb = balance_check_inputs_ordered(
      where, costs, k, opts, opts.algorithm == balance_algorithm::complete ? nullptr : &order, &sums_exact);
  if (opts.algorithm == balance_algorithm::complete) {
    out = complete_balance(costs, k, opts);
    out.lower_bound = std::max(out.lower_bound, std::min(lb, out.makespan));
    out.proven_optimal = out.proven_optimal || out.makespan <= out.lower_bound;
    return;
  }
  const std::size_t n = costs.size();
  scratch_vector<index_type> part_of(n, 0);
  balance_heuristic(opts.algorithm, costs, order, k, opts, lb, sums_exact, part_of);

  const cost_t cap = opts.part_capacity;
  scratch_vector<cost_t> loads;
  if (cap < std::numeric_limits<cost_t>::infinity() && assignment_makespan(costs, part_of, k, loads) > cap) {
    const local_search_options polish{1'000'000, std::numeric_limits<std::size_t>::max(), opts.equal_counts};
    const cost_t best_before = assignment_makespan(costs, part_of, k, loads);
    bool found = false;
    // 1. FFD at exactly the capacity (the multifit test), then local search.
    scratch_vector<index_type> trial(n, 0);
    first_fit_decreasing ffd(k);
    const count_limits limits = opts.equal_counts ? count_limits::equal(n, k) : count_limits{};
    if (ffd.run(costs, order, cap, limits, trial)) {
      local_search_engine engine(costs, k, trial, order, sums_exact);
      engine.run(polish);
      engine.assignment(trial);
      found = assignment_makespan(costs, trial, k, loads) <= cap;
    }
    // 2. Karmarkar-Karp + local search.
    if (!found) {
      trial =
          opts.equal_counts ? karmarkar_karp_equal_counts(costs, k, order) : karmarkar_karp_solver(costs, k).run(order);
      local_search_engine engine(costs, k, trial, order, sums_exact);
      engine.run(polish);
      engine.assignment(trial);
      found = assignment_makespan(costs, trial, k, loads) <= cap;
    }
    if (found) {
      part_of.swap(trial);
    } else {
      // 3. The complete search decides (it throws infeasible with its reason if nothing fits).
      try {
        out = complete_balance(costs, k, opts);
        out.lower_bound = std::max(out.lower_bound, std::min(lb, out.makespan));
        out.proven_optimal = out.proven_optimal || out.makespan <= out.lower_bound;
        return;
      } catch (const infeasible& e) {
        throw infeasible(describe(where, "part_capacity", cap, capacity_text(cap, best_before, lb)) +
                         "; complete search: " + e.what());
      }
    }
  }
  make_partition_into(out, part_of, costs, k, lb);
}

FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER partition balance_costs(std::span<const cost_t> costs, std::size_t k, const balance_options& opts) {
  partition out;
  balance_costs_into(costs, k, opts, nullptr, out);
  return out;
}

}  // namespace fulcrum::detail
