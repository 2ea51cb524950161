// SPDX-License-Identifier: Apache-2.0
/// @file balance/balance.hpp
/// `balance()`: the front door for balancing n items onto k parts (ranks, or micro-batches).
/// Contract (docs/design.md):
///   partition balance(R&& items, size_t k, balance_options opts = {}, Cost cost = {}, Proj proj = {});
///
/// Algorithms (`opts.algorithm`; guide in docs/balance.md):
///  - greedy          LPT, O(n + n log k) after an O(n) radix sort; <= 4/3 OPT.
///  - karmarkar_karp  k-way largest differencing (balance/karmarkar_karp.hpp).
///  - multifit        bisection on capacity with FFD (balance/multifit.hpp); <= 13/11 OPT + 2^-16.
///  - local_search    LPT, then moves and swaps from the heaviest part (balance/local_search.hpp).
///  - complete        anytime exact search (balance/complete.hpp): proves optimality or returns
///                    the best plan within opts.limits with its proven gap.
///  - automatic       the fast path: LPT, then (unless LPT already meets the lower bound) local
///                    search trying the 8 lightest partners per step; for n <= 16384 (131072 with
///                    equal counts) also Karmarkar-Karp + local search, keeping the better plan
///                    (ties: LPT's); then, while above the bound, at most k pairwise re-splits
///                    (the heaviest part and a light partner split again by two-way differencing,
///                    detail/pair_resplit.hpp). W1 N=65536 k=64 under 24576 L + L^2: 3e-9 above
///                    the bound (1.3e-9 with equal counts).
///
/// Constraints:
///  - equal_counts: every part gets floor(n/k) or ceil(n/k) items. greedy/automatic use LPT over
///    parts with room, karmarkar_karp the chunked equal-size variant followed by count-keeping
///    local search (the chunked variant alone is coarse when n/k is small), multifit FFD over bins
///    with room (never worse than the count-restricted LPT), local_search only count-keeping moves
///    and swaps; complete searches under the counts.
///  - part_capacity: no part above it. An item above it, or a lower bound above it, throws
///    `infeasible` at once. If the chosen heuristic's plan exceeds it, balance() tries FFD at
///    exactly that capacity (then local search), Karmarkar-Karp + local search, and finally the
///    complete search under opts.limits; if none fits, `infeasible` says so and why.
///
/// Arithmetic (balance/detail/sums.hpp, docs/balance.md): loads are index-order sums, a plan fits
/// iff every load <= part_capacity, lower bounds never exceed the optimum under that rule; every
/// algorithm's capacity, bound and optimality decisions follow it, bit for bit.
/// Limits (core/validate.hpp): 1 <= k <= fulcrum::max_parts (2^24), checked before allocating.
/// Result: loads summed per part in index order, makespan, the strongest lower bound known
/// (detail/bounds.hpp: core bound, rounded up for integral costs, plus an equal-counts bound) and
/// proven_optimal (makespan meets the bound, or the complete search proved it).
/// Errors: k == 0, NaN/negative/infinite costs, NaN or non-positive part_capacity -> invalid_input.
/// Limits: opts.limits bounds `complete`, the improvement phase of `automatic` (nodes = local-search
/// steps, summed over its phases; `nodes = 0` gives plain LPT) and the complete search deciding
/// part_capacity; proven_optimal stays a proof (makespan at the bound, or an exhausted search).
/// Deterministic: nothing here uses the clock unless opts.limits.time is set.
/// Per-step use (a trainer balancing one global batch on every step): the overload
///   void balance(R&& items, size_t k, workspace& ws, partition& out, balance_options opts = {},
///                Cost cost = {}, Proj proj = {});
/// writes the same plan into a caller-owned `out` (its storage reused) and takes every temporary
/// buffer, the evaluated costs included, from the caller-owned `ws` (core/workspace.hpp): once both
/// have served a batch of similar shape, a call makes no heap allocation for the algorithms that
/// `automatic` runs (LPT, local search, Karmarkar-Karp, the re-splits; counted in
/// tests/unit/balance/test_balance_workspace.cpp), and the memory is not handed back to the kernel
/// between calls. `complete`, and the fallbacks that decide a part_capacity, still allocate. On an
/// exception `out` is unspecified (a valid object) and `ws` stays usable.
/// Compile cost: the costs are evaluated once into a std::vector<cost_t> and handed to one
/// non-template worker (`detail::balance_costs`), defined in balance/detail/balance_impl.hpp
/// (header-only mode) or built once in the fulcrum::compiled library (fulcrum/config.hpp).
#pragma once

#include <cstddef>
#include <functional>
#include <ranges>
#include <span>
#include <string_view>
#include <type_traits>

#include "fulcrum/balance/options.hpp"
#include "fulcrum/balance/partition.hpp"
#include "fulcrum/config.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/detail/scratch.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/workspace.hpp"

namespace fulcrum {

namespace detail {

/// k >= 1 and k, n addressable by index_type (invalid_input otherwise).
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER void balance_check_parts(std::size_t k, std::size_t n);
/// Validates the balance inputs shared by every algorithm (k, costs, part_capacity); returns the
/// makespan lower bound.
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER cost_t balance_check_inputs(std::string_view where, std::span<const cost_t> costs, std::size_t k,
                                           const balance_options& opts);
/// balance() on precomputed costs (validated here): the span-level worker.
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER partition balance_costs(std::span<const cost_t> costs, std::size_t k, const balance_options& opts);
/// The same into `out`, with every scratch buffer from `ws` (null: the heap) and `out`'s storage reused.
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER void balance_costs_into(std::span<const cost_t> costs, std::size_t k, const balance_options& opts,
                                       workspace* ws, partition& out);

}  // namespace detail

/// Balances `items` onto k parts under `cost(proj(item))` (see the file comment).
template <std::ranges::random_access_range R, class Cost = identity_cost, class Proj = std::identity>
  requires cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] partition balance(R&& items, std::size_t k, balance_options opts = {}, Cost cost = {}, Proj proj = {}) {
  detail::balance_check_parts(k, static_cast<std::size_t>(std::ranges::size(items)));
  const auto costs = evaluate_costs(items, cost, proj, "balance", opts.executor);
  return detail::balance_costs(costs, k, opts);
}

/// balance() into a caller-owned `out` with the caller-owned scratch memory `ws` (see the file
/// comment, "Per-step use"): the same plan as the overload above, bit for bit.
template <std::ranges::random_access_range R, class Cost = identity_cost, class Proj = std::identity>
  requires cost_model_for<Cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
void balance(R&& items, std::size_t k, workspace& ws, partition& out, balance_options opts = {}, Cost cost = {},
             Proj proj = {}) {
  detail::balance_check_parts(k, static_cast<std::size_t>(std::ranges::size(items)));
  const detail::workspace_scope scope(&ws);  // the costs come from ws too
  detail::scratch_vector<cost_t> costs;
  detail::evaluate_costs_into(costs, items, cost, proj, "balance", opts.executor);
  detail::balance_costs_into(costs, k, opts, &ws, out);
}

}  // namespace fulcrum

#if !defined(FULCRUM_COMPILED)
#include "fulcrum/balance/detail/balance_impl.hpp"
#endif
