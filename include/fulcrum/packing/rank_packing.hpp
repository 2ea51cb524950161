// SPDX-License-Identifier: Apache-2.0
/// @file packing/rank_packing.hpp
/// `pack_for_ranks`: rank-aware packing for data-parallel training (contract, docs/design.md) —
/// OmniBal's balanced dynamic mini-batches, done without dropping or padding anything.
///
///   rank_packing pack_for_ranks(R&& items, Capacity capacity, std::size_t ranks,
///                               rank_pack_options opts = {}, Cost cost = {}, Proj proj = {});
///
/// Output: a `rank_packing` (packing/rank_packing_result.hpp) whose `bins` is a step_grid of
/// steps x ranks bins; bins(s, r) is rank r's micro-batch at step s, so
/// every rank runs the same number of micro-batches (unequal counts hang NCCL collectives). Every
/// item is placed exactly once, every bin holds the capacity in every dimension, and empty bins
/// occur only in the last step. Within a step the bins are balanced in every dimension (sizes
/// normalised by capacity), or under `cost` when one is given.
///
/// Algorithm (deterministic; ties by item index; `opts.seed` only shuffles the order of steps and of
/// ranks inside a step):
///  1. Fill bins one at a time (detail/rank_fill.hpp): open with the largest remaining item by
///     dominant normalised size, then add, among the best offer of each coarse-size class, the item
///     that keeps the bin's fill fractions of the tight dimensions in step (so the binding dimension
///     fills up without starving the other). O(n K log C) for K coarse classes (e.g. the image
///     counts 0..8). Where the classes do not apply (a coarse capacity of
///     4096 or more, or a fine capacity of 2^24 or more) multi_best_fit_decreasing packs instead.
///  2. steps = ceil(bins / ranks); the bin count is padded with empty bins to steps * ranks.
///  3. Bins are sorted by their loads (coarsest dimension first, descending; by cost under a cost
///     model) and consecutive groups of `ranks` bins form the steps, so a step's bins start alike;
///     the empty bins land in the last step.
///  4. In every step a local search moves and swaps items between two bins of the step (never over a
///     capacity, never emptying a bin) while it lowers the step's sum of squared normalised deviations
///     from the step mean; in the last step this also spreads items into its empty bins. Up to 16
///     ranks every pair of bins is examined per pass; beyond, each bin pairs with the 9 bins around
///     its mirror position in the step's order by deviation (heavy with light), O(ranks) pairs.
///  5. Steps (all but a last step that holds empty bins) and the ranks inside each step are shuffled
///     with opts.seed when opts.shuffle is true, so training does not see steps sorted by size.
///     Swaps between two bins try every pair of items while |A| * |B| <= 16384; larger bins
///     (thousands of small items) use a sorted search: each item of A tries the 8 items of B
///     nearest the best swap partner by a key (exact in one balance dimension), O(m log m) per pair.
/// Time O(n K log C + n log n + steps * passes * P * m * (log m + D)) worst case for m items per bin
/// and P pairs per pass (ranks^2 / 2 up to 16 ranks, about 9 ranks beyond); with m^2 <= 16384
/// the full O(m^2 D) swap scan runs, which is the same order.
///
/// Metrics (OmniBal): DistRatio per step = sum_r (X_max - X_r) / (X_max * ranks), averaged over
/// steps (`dist_ratio`, `dist_ratio_of_loads`); PadRatio = 1 - used / (bins * capacity) per
/// dimension (`pad_ratio`, see there for why this and not OmniBal's within-batch padding). The
/// result carries both for every dimension, the L2 lower bound on bins and step_lower_bound().
///
/// Input: items are any random-access sized range; `proj(item)` gives an arithmetic size (capacity
/// arithmetic) or a std::array<T, D> of sizes (capacity std::array of the same D; a different D is
/// a compile-time error). `cost` defaults to `balance_sizes` (balance every size dimension); any
/// other cost must be a cost_model_for the projected value and is called as cost(proj(item)), the
/// same rule as balance() (for a ViT + LLM model on {images, tokens}, price the std::array the
/// projection gives), and then only the per-bin cost is balanced (costs see the sizes before any
/// truncation). Errors: ranks == 0 or above fulcrum::max_parts (2^24, core/validate.hpp), a cost sum
/// that overflows a double, a zero capacity, negative,
/// NaN or fractional sizes, a negative or NaN cost -> invalid_input naming field, index and value;
/// an item over the capacity -> infeasible naming it (opts.oversize_policy: `truncate` counts it as
/// the capacity in that dimension; `own_bin` gives it a bin of its own, over capacity by design).
/// Empty input: 0 steps, 0 bins.
///
/// Per-step use (a trainer plans one global batch on every step): the overload
///
///   void pack_for_ranks(R&& items, Capacity capacity, std::size_t ranks, rank_packing_workspace& ws,
///                       rank_packing& out, rank_pack_options opts = {}, Cost cost = {}, Proj proj = {});
///
/// writes the same plan into a caller-owned `out` and keeps every buffer in the caller-owned
/// `rank_packing_workspace` `ws`: once both have served a batch of similar shape (same D, about the
/// same items and bins), a call makes no heap allocation at all (bench/bench_rank_step.cpp counts
/// them; tests/unit/packing/test_rank_workspace.cpp asserts zero). Plans are bit-identical to the
/// value-returning overload's. Exceptions: where the fill classes do not apply (step 1's fallback to
/// multi_best_fit_decreasing) that packer still allocates; error paths allocate their messages. A
/// workspace is not thread-safe: one per thread. On an exception `out` is unspecified (it stays a
/// valid object) and `ws` stays usable.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <ranges>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/core/step_grid.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/core/validate.hpp"
#include "fulcrum/packing/detail/rank_workspace.hpp"
#include "fulcrum/packing/multi.hpp"
#include "fulcrum/packing/pack.hpp"
#include "fulcrum/packing/packing.hpp"
#include "fulcrum/packing/rank_packing_result.hpp"

namespace fulcrum {

/// Default cost of pack_for_ranks: balance every size dimension (normalised by its capacity).
struct balance_sizes {};

struct rank_pack_options {
  oversize oversize_policy = oversize::error;  ///< item over the capacity: error, truncate or own_bin
  std::size_t passes = 32;                     ///< local-search passes per step (each pass: every pair of bins)
  bool shuffle = true;                         ///< shuffle the steps and the ranks inside a step (seeded)
  std::uint64_t seed = default_seed;           ///< for the shuffle
};

/// Caller-owned, reusable storage of pack_for_ranks (see the file docs): holds every buffer of a
/// call, for the size dimension D of the last call (a call with another D replaces it). Move-only.
class rank_packing_workspace {
 public:
  rank_packing_workspace() = default;

  /// The storage for D dimensions (created on first use or when D changes). Internal.
  template <std::size_t D>
  [[nodiscard]] detail::rank_workspace<D>& storage() {
    if (dims_ != D || impl_ == nullptr) {
      impl_ = std::make_unique<detail::rank_workspace<D>>();
      dims_ = D;
    }
    return static_cast<detail::rank_workspace<D>&>(*impl_);
  }

 private:
  std::unique_ptr<detail::rank_workspace_base> impl_;
  std::size_t dims_ = 0;
};

namespace detail {

/// pack_for_ranks on the validated sizes and costs of a workspace, written into `out`
/// (packing/detail/rank_packing_impl.hpp).
template <std::size_t D>
void pack_for_ranks_into(rank_workspace<D>& w, rank_packing& out, const size_vector<D>& capacity, std::size_t ranks,
                         const rank_pack_options& opts);

#if defined(FULCRUM_COMPILED)
// Built once in fulcrum::compiled (src/pack.cpp) for D = 1..multi_compiled_max_dims.
#define FULCRUM_RANK_PACK_EXTERN(D)                                                                                  \
  extern template void pack_for_ranks_into<D>(rank_workspace<D>&, rank_packing&, const size_vector<D>&, std::size_t, \
                                              const rank_pack_options&);
FULCRUM_RANK_PACK_EXTERN(1)
FULCRUM_RANK_PACK_EXTERN(2)
FULCRUM_RANK_PACK_EXTERN(3)
FULCRUM_RANK_PACK_EXTERN(4)
FULCRUM_RANK_PACK_EXTERN(5)
FULCRUM_RANK_PACK_EXTERN(6)
FULCRUM_RANK_PACK_EXTERN(7)
FULCRUM_RANK_PACK_EXTERN(8)
#undef FULCRUM_RANK_PACK_EXTERN
#endif

}  // namespace detail

/// Rank-aware packing (see file docs).
template <std::ranges::random_access_range R, class Capacity, class Cost = balance_sizes, class Proj = std::identity>
  requires std::ranges::sized_range<R> && std::regular_invocable<const Proj&, std::ranges::range_reference_t<R>> &&
           (std::same_as<Cost, balance_sizes> ||
            cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>)
[[nodiscard]] rank_packing pack_for_ranks(R&& items, Capacity capacity, std::size_t ranks, rank_pack_options opts = {},
                                          Cost cost = {}, Proj proj = {}) {
  // One lowering for both overloads: a fresh workspace, the same plan.
  rank_packing_workspace workspace;
  rank_packing out;
  pack_for_ranks(std::forward<R>(items), capacity, ranks, workspace, out, std::move(opts), std::move(cost),
                 std::move(proj));
  return out;
}

/// Rank-aware packing into a caller-owned result with a reusable workspace (see file docs): the
/// same plan as the overload above, no heap allocation in steady state.
template <std::ranges::random_access_range R, class Capacity, class Cost = balance_sizes, class Proj = std::identity>
requires std::ranges::sized_range<R> && std::regular_invocable<const Proj&, std::ranges::range_reference_t<R>> &&
    (std::same_as<Cost, balance_sizes> ||
     cost_model_for<
         Cost, std::remove_cvref_t<std::invoke_result_t<
                   const Proj&, std::ranges::range_reference_t<R>>>>)void pack_for_ranks(R&& items, Capacity capacity,
                                                                                         std::size_t ranks,
                                                                                         rank_packing_workspace& ws,
                                                                                         rank_packing& out,
                                                                                         rank_pack_options opts = {},
                                                                                         Cost cost = {},
                                                                                         Proj proj = {}) {
  constexpr const char* where = "pack_for_ranks";
  using projected = std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>;
  const auto n = static_cast<std::size_t>(std::ranges::size(items));
  detail::validate_parts(where, "ranks", ranks, n);  // 1..max_parts, before any allocation
  auto fill = [&]<std::size_t D>(detail::rank_workspace<D>& w, auto&& size_at) {
    // Costs first, then sizes: the errors of the overload above, in the same order.
    w.costs.clear();
    if constexpr (!std::is_same_v<Cost, balance_sizes>) {
      auto it = std::ranges::begin(items);
      for (std::size_t i = 0; i < n; ++i, ++it) {
        const auto c = static_cast<cost_t>(std::invoke(cost, std::invoke(proj, *it)));  // as evaluate_costs
        detail::require_non_negative(where, "cost", i, c);
        w.costs.push_back(c);
      }
      (void)detail::validate_costs(where, w.costs);
    }
    w.sizes.resize(n);
    auto it = std::ranges::begin(items);
    for (std::size_t i = 0; i < n; ++i, ++it) w.sizes[i] = size_at(i, std::invoke(proj, *it));
  };
  if constexpr (detail::is_std_array<projected>::value) {
    static_assert(
        detail::is_std_array<Capacity>::value,
        "pack_for_ranks: multi-constraint sizes (std::array) need a std::array capacity of the same dimension");
    constexpr std::size_t D = std::tuple_size_v<projected>;
    static_assert(std::tuple_size_v<Capacity> == D, "pack_for_ranks: sizes and capacity have mismatched dimensions");
#if defined(FULCRUM_COMPILED)
    static_assert(D >= 1 && D <= multi_compiled_max_dims,
                  "pack_for_ranks: fulcrum::compiled holds rank packing for 1..8 dimensions; include "
                  "<fulcrum/packing/detail/rank_packing_impl.hpp> for more");
#endif
    size_vector<D> cap{};
    for (std::size_t d = 0; d < D; ++d) {
      cap[d] = detail::to_size(where, "capacity", d, capacity[d]);
      if (cap[d] == 0) throw invalid_input(detail::describe(where, "capacity", d, cap[d], "must be positive"));
    }
    auto& w = ws.storage<D>();
    fill(w, [&](std::size_t i, const projected& v) {
      size_vector<D> s{};
      for (std::size_t d = 0; d < D; ++d) s[d] = detail::to_size_of_item(where, "sizes", i, d, v[d]);
      return s;
    });
    detail::pack_for_ranks_into<D>(w, out, cap, ranks, opts);
  } else {
    static_assert(std::is_arithmetic_v<projected> && !std::is_same_v<projected, bool>,
                  "pack_for_ranks: the projection must give an arithmetic size or a std::array of sizes");
    static_assert(std::is_arithmetic_v<Capacity> && !std::is_same_v<Capacity, bool>,
                  "pack_for_ranks: one-dimensional sizes need an arithmetic capacity");
    const size_vector<1> cap{detail::to_capacity(where, capacity)};
    auto& w = ws.storage<1>();
    fill(w, [&](std::size_t i, const projected& v) { return size_vector<1>{detail::to_size(where, "sizes", i, v)}; });
    detail::pack_for_ranks_into<1>(w, out, cap, ranks, opts);
  }
}

}  // namespace fulcrum

#if !defined(FULCRUM_COMPILED)
#include "fulcrum/packing/detail/rank_packing_impl.hpp"
#endif
