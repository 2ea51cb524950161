// SPDX-License-Identifier: Apache-2.0
/// @file dispatch/plan.hpp
/// The dispatcher's plan and its planners.
///
/// `dispatch_plan`: a `step_grid` (core/step_grid.hpp) of global sample indices; bins(s, r) is rank
/// r's micro-batch s, so every rank runs the same number of micro-batches (the same grid type as
/// pack_for_ranks' rank_packing and balance_two_level's two_level_partition). Global index of
/// sample i of rank r = (samples on ranks < r) + i.
///
/// A planner is any callable `planner(const planning_input<Meta>&)` returning one of
///   - `dispatch_plan` or `step_grid` (steps x ranks);
///   - anything whose `grid()` is a `const step_grid&`: `rank_packing` (pack_for_ranks) or
///     `two_level_partition` (balance_two_level).
/// Nothing else: a flat `partition` or `grouping` does not compile as a planner result, because its
/// layout would have to be guessed. Name the layout instead: `step_grid(parts, steps, ranks)` for
/// step-major parts (part s * ranks + r), `step_grid::from_rank_major(parts, steps, ranks)` for
/// rank-major ones (part r * steps + s), or `split_ranks_into_steps(per_rank, costs, steps)` for
/// one part per rank.
/// It must be deterministic: every rank calls it on identical input and must get the same plan
/// (the dispatcher checks this with a hash). `lpt_planner` (the default) balances the
/// ranks * micro_batches parts by LPT, O(n log n); ties break by index, so it is deterministic.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fulcrum/balance/partition.hpp"
#include "fulcrum/config.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/hash.hpp"
#include "fulcrum/core/step_grid.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

struct dispatch_plan {
  step_grid bins;  ///< steps x ranks bins of global sample indices: bins(s, r) = rank r's micro-batch s

  /// The grid (as rank_packing::grid() and two_level_partition::grid()).
  [[nodiscard]] const step_grid& grid() const noexcept { return bins; }
  /// Micro-batches per rank.
  [[nodiscard]] std::size_t steps() const noexcept { return bins.steps(); }
  /// Ranks.
  [[nodiscard]] std::size_t ranks() const noexcept { return bins.ranks(); }
  /// Global indices of rank r's micro-batch s.
  [[nodiscard]] std::span<const index_type> micro_batch(std::size_t rank, std::size_t step) const {
    return bins(step, rank);
  }
  /// dest[g] = rank that runs global sample g (n = number of samples). Throws invalid_input if a
  /// sample is missing, out of range or placed twice.
  [[nodiscard]] std::vector<index_type> destination(std::size_t n) const {
    constexpr index_type unset = std::numeric_limits<index_type>::max();
    std::vector<index_type> dest(n, unset);
    for (std::size_t s = 0; s < steps(); ++s)
      for (std::size_t r = 0; r < ranks(); ++r)
        for (const index_type g : bins(s, r)) {
          if (g >= n)
            throw invalid_input(detail::describe("dispatch_plan::destination", "index", g, "is not a sample"));
          if (dest[g] != unset)
            throw invalid_input(detail::describe("dispatch_plan::destination", "index", g, "appears twice"));
          dest[g] = static_cast<index_type>(r);
        }
    for (std::size_t g = 0; g < n; ++g)
      if (dest[g] == unset)
        throw invalid_input(detail::describe("dispatch_plan::destination", "sample", g, "is missing"));
    return dest;
  }
  friend bool operator==(const dispatch_plan&, const dispatch_plan&) = default;
};

/// Everything a planner may look at; identical on every rank.
template <class Meta>
struct planning_input {
  std::span<const Meta> meta;                ///< every sample's metadata, in global index order
  std::span<const cost_t> costs;             ///< cost model applied to meta
  std::span<const index_type> current_rank;  ///< rank holding each sample now
  std::span<const std::uint64_t> bytes;      ///< payload bytes of each sample
  std::size_t ranks = 1;
  std::size_t micro_batches = 1;   ///< micro-batches per rank asked for
  std::size_t ranks_per_node = 0;  ///< 0: all ranks on one node
};

/// 64-bit FNV-1a over (steps, ranks, offsets, indices): equal plans hash equal on every platform.
[[nodiscard]] inline std::uint64_t plan_hash(const dispatch_plan& plan) noexcept {
  return fnv1a64{}
      .integer(plan.steps())
      .integer(plan.ranks())
      .integers(plan.bins.groups().offsets())
      .integers(plan.bins.groups().indices())
      .value();
}

/// Splits each rank's items (part r of a k = ranks grouping, e.g. a balance() or post_balance()
/// partition's parts) into `steps` micro-batches by LPT on `costs`: the explicit conversion of a
/// one-part-per-rank plan to a grid. O(n log n). Deterministic (ties by index).
FULCRUM_WORKER_TEMPLATE
[[nodiscard]] FULCRUM_WORKER step_grid split_ranks_into_steps(const grouping& per_rank, std::span<const cost_t> costs,
                                                              std::size_t steps);

namespace detail {

/// lpt_planner's worker: LPT over ranks * micro_batches parts, read step-major.
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER step_grid lpt_step_grid(std::span<const cost_t> costs, std::size_t ranks, std::size_t micro_batches);

/// A planner result that holds a grid: `r.grid()` is a const step_grid& (rank_packing,
/// two_level_partition, dispatch_plan).
template <class R>
concept holds_step_grid = requires(const R& r) {
  { r.grid() } -> std::same_as<const step_grid&>;
};

/// Converts a planner's result to a dispatch_plan and validates it (every sample exactly once,
/// ranks = the communicator size). Throws invalid_input naming the problem otherwise.
template <class R, class Meta>
dispatch_plan to_dispatch_plan(R&& result, const planning_input<Meta>& in) {
  using T = std::remove_cvref_t<R>;
  dispatch_plan plan;
  if constexpr (std::is_same_v<T, dispatch_plan>) {
    plan = std::forward<R>(result);
  } else if constexpr (std::is_same_v<T, step_grid>) {
    plan.bins = std::forward<R>(result);
  } else if constexpr (holds_step_grid<T>) {
    plan.bins = result.grid();
  } else {
    static_assert(sizeof(T) == 0,
                  "a dispatch planner must return dispatch_plan, step_grid or a result holding one (rank_packing, "
                  "two_level_partition); for a flat partition name its layout: step_grid(p.parts, steps, ranks) "
                  "(step-major), step_grid::from_rank_major(p.parts, steps, ranks) or "
                  "split_ranks_into_steps(p.parts, costs, steps)");
  }
  if (plan.ranks() != in.ranks)
    throw invalid_input(describe("dispatch", "plan.ranks()", plan.ranks(), "differs from the communicator size"));
  std::vector<std::uint8_t> seen(in.costs.size(), 0);
  for (auto g : plan.bins.groups().indices()) {
    if (g >= seen.size()) throw invalid_input(describe("dispatch", "plan index", g, "is not a sample"));
    if (seen[g]++) throw invalid_input(describe("dispatch", "plan index", g, "is placed twice"));
  }
  for (std::size_t g = 0; g < seen.size(); ++g)
    if (!seen[g]) throw invalid_input(describe("dispatch", "sample", g, "is missing from the plan"));
  return plan;
}

}  // namespace detail

/// Default planner: LPT over ranks * micro_batches parts of the samples' costs, read step-major
/// (part s * ranks + r: rank r, step s). Makespan <= (4/3 - 1/(3k)) OPT over all micro-batches.
struct lpt_planner {
  template <class Meta>
  [[nodiscard]] step_grid operator()(const planning_input<Meta>& in) const {
    return detail::lpt_step_grid(in.costs, in.ranks, in.micro_batches);
  }
};

/// Wraps any `f(std::span<const cost_t> costs, std::size_t k) -> partition` (balance(), karmarkar_karp,
/// ...) as a planner over k = ranks * micro_batches parts, read step-major (part s * ranks + r:
/// rank r, step s; every part is one micro-batch, so any assignment of parts to cells is valid).
template <class F>
struct partition_planner {
  F balance_fn;
  template <class Meta>
  [[nodiscard]] step_grid operator()(const planning_input<Meta>& in) const {
    return step_grid(balance_fn(in.costs, in.ranks * in.micro_batches).parts, in.micro_batches, in.ranks);
  }
};
template <class F>
partition_planner(F) -> partition_planner<F>;

}  // namespace fulcrum

#if !defined(FULCRUM_COMPILED)
#include "fulcrum/dispatch/detail/plan_impl.hpp"
#endif
