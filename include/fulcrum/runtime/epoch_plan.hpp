// SPDX-License-Identifier: Apache-2.0
/// @file runtime/epoch_plan.hpp
/// `epoch_planner`: rank-aware packing of a map-style dataset that changes every epoch and that
/// every rank computes alone (docs/epoch_plans.md).
///
///   epoch_planner<D> make_epoch_planner(R&& items, Capacity capacity, std::size_t ranks,
///                                       epoch_plan_options opts = {}, Cost cost = {}, Proj proj = {});
///   rank_packing    planner.plan(epoch);                          // steps x ranks micro-batches
///   rank_schedule   planner.rank_plan(epoch, rank, first_step);   // one rank's, from a step on
///
/// What: plan(e) is a `rank_packing` (packing/rank_packing_result.hpp) whose `bins` step_grid gives
/// rank r's micro-batch at step s, with the guarantees of pack_for_ranks: every item exactly once,
/// every capacity held in every dimension, every rank the same number of micro-batches, empty bins
/// only in the last step, the bins of a step balanced (DistRatio and PadRatio reported). It is a
/// function of (items, capacity, ranks, options, seed, e) only, the same on every platform
/// (fulcrum::rng, integer packing, detail::mul in the balancing), so each rank derives it alone and
/// no epoch depends on an earlier one.
///
/// Different epochs, different packs: epoch e orders the items by a permutation drawn from
/// rng(mix(seed, e)); the rank-aware fill of pack_for_ranks (packing/detail/rank_fill.hpp) packs
/// them in that order (ties between equal sizes go to the earlier position, so equal-sized items
/// trade places); then a seeded repack in the manner of OmniBal's ISF re-packs the bins that are
/// not full in any dimension and keeps the result only when it has fewer bins
/// (runtime/detail/epoch_repack.hpp). Bins are dealt into steps and balanced inside each step as
/// pack_for_ranks does (packing/detail/rank_steps.hpp), and steps and ranks are shuffled with the
/// epoch's seed. On W1 (20k items) fewer than 5 % of one epoch's micro-batches recur in the next
/// (pack_for_ranks: 100 %), with bins within 1 % of the lower bound; on W3 the repack gets within
/// 0.3 % of the bound where the fill alone is 1-2 % over (docs/benchmarks.md, "Epoch plans").
///
/// Resume: plan(e) does not replay anything, so resuming at (epoch e, step s) costs one plan:
/// O(n K log C) fill + O(rounds * n * open) repack + O(n log n) step dealing + the in-step local
/// search (as pack_for_ranks), i.e. near-linear time and O(n) transient memory. rank_plan(e, r, s)
/// returns only rank r's micro-batches of steps s, s + 1, ... and keeps O(its share) memory after
/// the plan is built (the full plan is built and dropped inside the call).
///
/// Input as pack_for_ranks: items any random-access sized range; proj(item) an arithmetic size
/// (arithmetic capacity) or a std::array<T, D> of sizes (std::array capacity); `cost` defaults to
/// balance_sizes (balance every dimension), else cost(proj(item)) is balanced. Errors as
/// pack_for_ranks (invalid_input naming field and value; infeasible for an item over the capacity
/// under oversize::error), raised by make_epoch_planner; rank_plan: rank >= ranks -> invalid_input.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <numeric>
#include <ranges>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/core/validate.hpp"
#include "fulcrum/packing/detail/oversize.hpp"
#include "fulcrum/packing/detail/rank_bound.hpp"
#include "fulcrum/packing/detail/rank_steps.hpp"
#include "fulcrum/packing/detail/rank_packing_impl.hpp"  // make_rank_packing (also in compiled mode)
#include "fulcrum/packing/rank_packing.hpp"
#include "fulcrum/packing/rank_packing_result.hpp"
#include "fulcrum/runtime/detail/epoch_perturb.hpp"
#include "fulcrum/runtime/detail/epoch_repack.hpp"

namespace fulcrum {

/// Options of the epoch planner.
struct epoch_plan_options {
  oversize oversize_policy = oversize::error;  ///< item over the capacity: error, truncate or own_bin
  std::size_t passes = 32;                     ///< in-step local-search passes (as pack_for_ranks)
  std::size_t repack_rounds = 50;              ///< seeded repack rounds of the bins that are not full (0: fill only)
  double full_slack = 0.022;                   ///< repack: a bin is full within full_slack * capacity of a capacity
  std::size_t chunks = 4;                      ///< the fill packs this many random slices apart (0 = 1)
  std::size_t perturb_rounds = 4;              ///< rounds of seeded swaps between random pairs of bins (0: none)
  bool shuffle = true;                         ///< shuffle the steps and the ranks inside a step (epoch-seeded)
  std::uint64_t seed = default_seed;           ///< with the epoch, decides the plan
};

/// One rank's micro-batches of an epoch from `first_step` on: micro_batches[k] is the rank's
/// micro-batch at step first_step + k (item indices, increasing).
struct rank_schedule {
  std::uint64_t epoch = 0;
  std::size_t rank = 0;
  std::size_t first_step = 0;
  std::size_t steps = 0;  ///< steps of the whole epoch (every rank runs this many)
  std::vector<std::vector<index_type>> micro_batches;
};

namespace detail {

/// The seed of stream `stream` of epoch `epoch` (splitmix64 finaliser of a combination).
[[nodiscard]] constexpr std::uint64_t epoch_seed(std::uint64_t seed, std::uint64_t epoch,
                                                 std::uint64_t stream) noexcept {
  rng mix(seed ^ (epoch * 0x9e3779b97f4a7c15ULL));
  std::uint64_t z = mix.next() ^ (stream * 0xd1b54a32d192ed03ULL);
  return rng(z).next();
}

}  // namespace detail

/// Plans epochs of a fixed dataset (see file docs). Built by make_epoch_planner.
template <std::size_t D>
class epoch_planner {
 public:
  epoch_planner(std::vector<size_vector<D>> sizes, const size_vector<D>& capacity, std::size_t ranks,
                const epoch_plan_options& opts, std::vector<cost_t> costs)
      : sizes_(std::move(sizes)), capacity_(capacity), ranks_(ranks), opts_(opts), costs_(std::move(costs)) {
    constexpr const char* where = "make_epoch_planner";
    detail::validate_parts(where, "ranks", ranks_, sizes_.size());
    for (std::size_t d = 0; d < D; ++d)
      if (capacity_[d] == 0)
        throw invalid_input(detail::describe(where, "capacity", d, capacity_[d], "must be positive"));
    if (!(opts_.full_slack >= 0 && opts_.full_slack < 1))
      throw invalid_input(detail::describe(where, "full_slack", opts_.full_slack, "must be in [0, 1)"));
    const detail::oversize_split split =
        detail::split_oversize<D>(where, std::span<size_vector<D>>(sizes_), capacity_, opts_.oversize_policy, true);
    regular_ = split.regular;
    own_ = split.own;
    std::vector<size_vector<D>> compact;
    compact.reserve(regular_.size());
    for (const index_type i : regular_) compact.push_back(sizes_[i]);
    lower_bound_ =
        std::max(multi_lower_bound<D>(compact, capacity_), detail::coupled_lower_bound<D>(compact, capacity_)) +
        own_.size();
  }

  [[nodiscard]] std::size_t size() const noexcept { return sizes_.size(); }
  [[nodiscard]] std::size_t ranks() const noexcept { return ranks_; }
  [[nodiscard]] const size_vector<D>& capacity() const noexcept { return capacity_; }
  /// Sizes as packed (after truncation under oversize::truncate).
  [[nodiscard]] std::span<const size_vector<D>> sizes() const noexcept { return sizes_; }
  [[nodiscard]] const epoch_plan_options& options() const noexcept { return opts_; }
  /// Lower bound on non-empty bins of any epoch (as rank_packing::lower_bound).
  [[nodiscard]] std::uint64_t lower_bound() const noexcept { return lower_bound_; }

  /// The plan of epoch `epoch` (see file docs).
  [[nodiscard]] rank_packing plan(std::uint64_t epoch) const {
    // Items in the epoch's order; the fill, then the repack.
    std::vector<index_type> order = regular_;
    rng(detail::epoch_seed(opts_.seed, epoch, 0)).shuffle(std::span<index_type>(order));
    const std::span<const size_vector<D>> sizes(sizes_);
    // The fill packs `chunks` slices of the order apart (items of one epoch's bin meet in another
    // epoch only if they land in the same slice again), then the repack works on all bins.
    detail::epoch_bins bins;
    const std::size_t chunks = std::max<std::size_t>(1, std::min(opts_.chunks, order.size()));
    for (std::size_t c = 0; c < chunks; ++c) {
      const std::size_t from = order.size() * c / chunks, to = order.size() * (c + 1) / chunks;
      detail::epoch_bins part =
          detail::epoch_fill<D>(sizes, std::span<const index_type>(order).subspan(from, to - from), capacity_);
      for (auto& b : part) bins.push_back(std::move(b));
    }
    bins = detail::epoch_repack<D>(sizes, capacity_, std::move(bins), detail::epoch_seed(opts_.seed, epoch, 1),
                                   {.rounds = opts_.repack_rounds,
                                    .slack = opts_.full_slack,
                                    .open = 4,
                                    .lower_bound = lower_bound_ - own_.size()});
    detail::epoch_perturb<D>(sizes, capacity_, bins, detail::epoch_seed(opts_.seed, epoch, 3), opts_.perturb_rounds);
    for (const index_type i : own_) bins.push_back({i});
    // Steps, balanced as pack_for_ranks balances them.
    detail::rank_state<D> st;
    st.sizes = sizes;
    st.capacity = capacity_;
    st.costs = costs_;
    st.ranks = ranks_;
    st.bins = std::move(bins);
    const std::size_t used = st.bins.size();
    const std::size_t steps = (used + ranks_ - 1) / ranks_;
    st.bins.resize(steps * ranks_);
    detail::rank_recompute(st);
    if (costs_.empty()) {
      for (std::size_t d = 0; d < D; ++d) st.norm.push_back(static_cast<double>(capacity_[d]));
    } else {
      double total = 0;
      for (const double c : st.cost_loads) total += c;
      st.norm.push_back(used > 0 && total > 0 ? total / static_cast<double>(used) : 1.0);
    }
    detail::rank_order_bins(st);
    for (std::size_t s = 0; s < steps; ++s) detail::rank_balance_step(st, s * ranks_, opts_.passes);
    // Shuffle steps (a last step with empty bins stays last) and ranks inside each step.
    std::vector<std::vector<index_type>> out(steps * ranks_);
    std::vector<std::size_t> step_order(steps);
    std::iota(step_order.begin(), step_order.end(), std::size_t{0});
    rng gen(detail::epoch_seed(opts_.seed, epoch, 2));
    if (opts_.shuffle && steps > 0)
      gen.shuffle(std::span<std::size_t>(step_order.data(), used < steps * ranks_ ? steps - 1 : steps));
    std::vector<std::size_t> rank_order(ranks_);
    for (std::size_t s = 0; s < steps; ++s) {
      std::iota(rank_order.begin(), rank_order.end(), std::size_t{0});
      if (opts_.shuffle) gen.shuffle(std::span<std::size_t>(rank_order));
      for (std::size_t r = 0; r < ranks_; ++r)
        out[s * ranks_ + r] = std::move(st.bins[step_order[s] * ranks_ + rank_order[r]]);
    }
    return detail::make_rank_packing<D>(out, steps, ranks_, sizes, capacity_, costs_, lower_bound_);
  }

  /// Rank `rank`'s micro-batches of epoch `epoch` from step `first_step` on (resume point); a
  /// first_step at or past the epoch's steps gives none. Builds plan(epoch) and keeps this rank's share.
  [[nodiscard]] rank_schedule rank_plan(std::uint64_t epoch, std::size_t rank, std::size_t first_step = 0) const {
    if (rank >= ranks_)
      throw invalid_input(detail::describe("epoch_planner::rank_plan", "rank", rank,
                                           "must be below ranks = " + std::to_string(ranks_)));
    const rank_packing p = plan(epoch);
    rank_schedule out;
    out.epoch = epoch;
    out.rank = rank;
    out.first_step = first_step;
    out.steps = p.steps();
    for (std::size_t s = first_step; s < p.steps(); ++s) {
      const auto items = p.bins(s, rank);
      out.micro_batches.emplace_back(items.begin(), items.end());
    }
    return out;
  }

 private:
  std::vector<size_vector<D>> sizes_;
  size_vector<D> capacity_{};
  std::size_t ranks_ = 0;
  epoch_plan_options opts_;
  std::vector<cost_t> costs_;
  std::vector<index_type> regular_, own_;
  std::uint64_t lower_bound_ = 0;
};

/// Builds an epoch planner over `items` (see file docs): validates once, then plan(epoch) and
/// rank_plan(epoch, rank, step) for any epoch.
template <std::ranges::random_access_range R, class Capacity, class Cost = balance_sizes, class Proj = std::identity>
requires std::ranges::sized_range<R> && std::regular_invocable<const Proj&, std::ranges::range_reference_t<R>> &&
    (std::same_as<Cost, balance_sizes> ||
     cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>)
        [[nodiscard]] auto make_epoch_planner(R&& items, Capacity capacity, std::size_t ranks,
                                              epoch_plan_options opts = {}, Cost cost = {}, Proj proj = {}) {
  constexpr const char* where = "make_epoch_planner";
  using projected = std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>;
  const auto n = static_cast<std::size_t>(std::ranges::size(items));
  detail::validate_parts(where, "ranks", ranks, n);
  std::vector<cost_t> costs;
  if constexpr (!std::is_same_v<Cost, balance_sizes>) {
    costs = evaluate_costs(items, cost, proj, where);
    (void)detail::validate_costs(where, costs);
  }
  if constexpr (detail::is_std_array<projected>::value) {
    static_assert(
        detail::is_std_array<Capacity>::value,
        "make_epoch_planner: multi-constraint sizes (std::array) need a std::array capacity of the same dimension");
    constexpr std::size_t D = std::tuple_size_v<projected>;
    static_assert(std::tuple_size_v<Capacity> == D,
                  "make_epoch_planner: sizes and capacity have mismatched dimensions");
    size_vector<D> cap{};
    for (std::size_t d = 0; d < D; ++d) {
      cap[d] = detail::to_size(where, "capacity", d, capacity[d]);
      if (cap[d] == 0) throw invalid_input(detail::describe(where, "capacity", d, cap[d], "must be positive"));
    }
    std::vector<size_vector<D>> sizes(n);
    auto it = std::ranges::begin(items);
    for (std::size_t i = 0; i < n; ++i, ++it) {
      const projected v = std::invoke(proj, *it);
      for (std::size_t d = 0; d < D; ++d)
        sizes[i][d] = detail::to_size_of_item(where, "sizes", i, d, v[d]);
    }
    return epoch_planner<D>(std::move(sizes), cap, ranks, opts, std::move(costs));
  } else {
    static_assert(std::is_arithmetic_v<projected> && !std::is_same_v<projected, bool>,
                  "make_epoch_planner: the projection must give an arithmetic size or a std::array of sizes");
    static_assert(std::is_arithmetic_v<Capacity> && !std::is_same_v<Capacity, bool>,
                  "make_epoch_planner: one-dimensional sizes need an arithmetic capacity");
    const size_vector<1> cap{detail::to_capacity(where, capacity)};
    std::vector<size_vector<1>> sizes(n);
    auto it = std::ranges::begin(items);
    for (std::size_t i = 0; i < n; ++i, ++it)
      sizes[i] = size_vector<1>{detail::to_size(where, "sizes", i, std::invoke(proj, *it))};
    return epoch_planner<1>(std::move(sizes), cap, ranks, opts, std::move(costs));
  }
}

}  // namespace fulcrum
