// SPDX-License-Identifier: Apache-2.0
/// @file dispatch/plan.hpp
/// The dispatcher's plan and its planners.
///
/// `dispatch_plan`: `steps * ranks` bins of global sample indices; bin `s * ranks + r` is rank r's
/// micro-batch s, so every rank runs the same number of micro-batches (the same layout as
/// pack_for_ranks' rank_packing). Global index of sample i of rank r = (samples on ranks < r) + i.
///
/// A planner is any callable `planner(const planning_input<Meta>&)` returning one of
///   - `dispatch_plan`;
///   - a `partition` (e.g. from lpt or balance) with `ranks * micro_batches` parts: part p becomes
///     rank p % ranks, step p / ranks; or with `ranks` parts: each rank's items are then split into
///     `micro_batches` micro-batches by LPT;
///   - anything with members `bins` (grouping), `steps` and `ranks` (e.g. rank_packing).
/// It must be deterministic: every rank calls it on identical input and must get the same plan
/// (the dispatcher checks this with a hash). `lpt_planner` (the default) balances the
/// ranks * micro_batches parts by LPT, O(n log n); ties break by index, so it is deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/balance/partition.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

struct dispatch_plan {
  grouping bins;           ///< steps * ranks bins of global sample indices
  std::size_t steps = 0;   ///< micro-batches per rank
  std::size_t ranks = 0;

  /// Global indices of rank r's micro-batch s.
  [[nodiscard]] std::span<const index_type> micro_batch(std::size_t rank, std::size_t step) const {
    return bins[step * ranks + rank];
  }
  /// dest[g] = rank that runs global sample g (n = number of samples).
  [[nodiscard]] std::vector<index_type> destination(std::size_t n) const {
    const auto bin_of = bins.assignment(n);
    std::vector<index_type> dest(n);
    for (std::size_t g = 0; g < n; ++g) dest[g] = static_cast<index_type>(bin_of[g] % ranks);
    return dest;
  }
  friend bool operator==(const dispatch_plan&, const dispatch_plan&) = default;
};

/// Everything a planner may look at; identical on every rank.
template <class Meta>
struct planning_input {
  std::span<const Meta> meta;                 ///< every sample's metadata, in global index order
  std::span<const cost_t> costs;              ///< cost model applied to meta
  std::span<const index_type> current_rank;   ///< rank holding each sample now
  std::span<const std::uint64_t> bytes;       ///< payload bytes of each sample
  std::size_t ranks = 1;
  std::size_t micro_batches = 1;              ///< micro-batches per rank asked for
  std::size_t ranks_per_node = 0;             ///< 0: all ranks on one node
};

/// 64-bit FNV-1a over (steps, ranks, offsets, indices): equal plans hash equal on every platform.
[[nodiscard]] inline std::uint64_t plan_hash(const dispatch_plan& plan) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&](std::uint64_t v) {
    for (int b = 0; b < 8; ++b) {
      h ^= (v >> (8 * b)) & 0xffu;
      h *= 0x100000001b3ULL;
    }
  };
  mix(plan.steps);
  mix(plan.ranks);
  for (auto o : plan.bins.offsets()) mix(o);
  for (auto i : plan.bins.indices()) mix(i);
  return h;
}

namespace detail {

/// Splits each rank's items (parts of a k = ranks partition) into `steps` micro-batches by LPT.
inline dispatch_plan split_ranks_into_steps(const grouping& per_rank, std::span<const cost_t> costs, std::size_t steps) {
  const std::size_t ranks = per_rank.size();
  std::vector<std::vector<index_type>> bins(steps * ranks);
  std::vector<cost_t> local;
  for (std::size_t r = 0; r < ranks; ++r) {
    const auto items = per_rank[r];
    local.assign(items.size(), 0);
    for (std::size_t i = 0; i < items.size(); ++i) local[i] = costs[items[i]];
    const auto step_of = lpt_assign(local, steps);
    for (std::size_t i = 0; i < items.size(); ++i) bins[step_of[i] * ranks + r].push_back(items[i]);
  }
  return {grouping::from_groups(bins), steps, ranks};
}

template <class R>
concept rank_packing_like = requires(const R& r) {
  { r.bins } -> std::convertible_to<const grouping&>;
  { r.steps } -> std::convertible_to<std::size_t>;
  { r.ranks } -> std::convertible_to<std::size_t>;
};

/// Converts a planner's result to a dispatch_plan and validates it (every sample exactly once,
/// bin count = steps * ranks). Throws invalid_input naming the problem otherwise.
template <class R, class Meta>
dispatch_plan to_dispatch_plan(R&& result, const planning_input<Meta>& in) {
  using T = std::remove_cvref_t<R>;
  dispatch_plan plan;
  if constexpr (std::is_same_v<T, dispatch_plan>) {
    plan = std::forward<R>(result);
  } else if constexpr (std::is_same_v<T, partition>) {
    const std::size_t k = result.parts.size();
    if (k == in.ranks * in.micro_batches) {
      std::vector<std::vector<index_type>> bins(k);
      for (std::size_t p = 0; p < k; ++p) {
        const auto items = result.parts[p];
        bins[p].assign(items.begin(), items.end());  // part p: rank p % ranks, step p / ranks
      }
      plan = {grouping::from_groups(bins), in.micro_batches, in.ranks};
    } else if (k == in.ranks) {
      plan = split_ranks_into_steps(result.parts, in.costs, in.micro_batches);
    } else {
      throw invalid_input(describe("dispatch", "planner partition parts", k,
                                   "must equal ranks or ranks * micro_batches"));
    }
  } else if constexpr (rank_packing_like<T>) {
    plan = {result.bins, static_cast<std::size_t>(result.steps), static_cast<std::size_t>(result.ranks)};
  } else {
    static_assert(sizeof(T) == 0, "a dispatch planner must return dispatch_plan, partition or a rank_packing-like type");
  }
  if (plan.ranks != in.ranks) throw invalid_input(describe("dispatch", "plan.ranks", plan.ranks, "differs from the communicator size"));
  if (plan.bins.size() != plan.steps * plan.ranks)
    throw invalid_input(describe("dispatch", "plan.bins.size()", plan.bins.size(), "must equal steps * ranks"));
  std::vector<std::uint8_t> seen(in.costs.size(), 0);
  for (auto g : plan.bins.indices()) {
    if (g >= seen.size()) throw invalid_input(describe("dispatch", "plan index", g, "is not a sample"));
    if (seen[g]++) throw invalid_input(describe("dispatch", "plan index", g, "is placed twice"));
  }
  for (std::size_t g = 0; g < seen.size(); ++g)
    if (!seen[g]) throw invalid_input(describe("dispatch", "sample", g, "is missing from the plan"));
  return plan;
}

}  // namespace detail

/// Default planner: LPT over ranks * micro_batches parts of the samples' costs (part p: rank
/// p % ranks, step p / ranks). Makespan <= (4/3 - 1/(3k)) OPT over all micro-batches.
struct lpt_planner {
  template <class Meta>
  [[nodiscard]] partition operator()(const planning_input<Meta>& in) const {
    return lpt(in.costs, in.ranks * in.micro_batches);
  }
};

/// Wraps any `f(std::span<const cost_t> costs, std::size_t k) -> partition` (balance(), karmarkar_karp,
/// ...) as a planner over ranks * micro_batches parts.
template <class F>
struct partition_planner {
  F balance_fn;
  template <class Meta>
  [[nodiscard]] partition operator()(const planning_input<Meta>& in) const {
    return balance_fn(in.costs, in.ranks * in.micro_batches);
  }
};
template <class F>
partition_planner(F) -> partition_planner<F>;

}  // namespace fulcrum
