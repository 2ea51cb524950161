// SPDX-License-Identifier: Apache-2.0
/// @file balance/post_balance.hpp
/// Post-balancing with minimal movement (OrchMLLM's dispatcher, done better): samples already sit
/// on ranks (ranks grouped into nodes of `ranks_per_node`); return a balanced plan that keeps as
/// much data where it is as possible, minimising bytes moved between nodes first, then between
/// ranks of a node, and report the bytes moved.
///
/// What (docs/post_balance.md explains it step by step):
///  1. Target: a reference re-dispatch from scratch (LPT; `complete_balance` when
///     opts.balance.algorithm == complete). cap = its makespan * (1 + tolerance). The plan returned
///     never has a rank above cap, so its makespan is at most the reference's (times 1 + tolerance).
///  2. Shed and refill, for a ladder of margins m = 0, 0.05%, ..., 100%: every rank above
///     cap * (1 - m) sheds the items with the most cost per byte into its node's pool; a node whose
///     load still exceeds its ranks * cap * (1 - m) exports pool items (again most cost per byte)
///     to the lightest nodes, largest first; each node's pool is placed LPT-style onto its own
///     lightest ranks. A repair pass moves single items off ranks still above cap (cheapest move
///     first), and a return-home pass moves items back to their origin rank, or at least their
///     origin node, wherever that keeps every rank within cap. The cheapest feasible attempt wins,
///     compared by (inter-node bytes, intra-node bytes, samples moved).
///  3. Fallback (only if no attempt fits the cap): the reference partition's groups are mapped onto
///     ranks by two maximum-weight assignments (Hungarian, O(k^3); greedy above k = 512): groups
///     to nodes maximising bytes kept on their node, then within each node to ranks maximising
///     bytes kept on their rank, followed by the return-home pass. Its makespan equals the
///     reference's, so the cap always holds.
/// Complexity (worst case, default options): O(M (n log n + n C + k)) for M = 12 margins and
/// C = ranks_per_node + nodes (refill scans a node's ranks, exports scan the nodes), plus the
/// repair pass, capped at 2e7 examined pairs, and the swap-home pass, capped at 64 candidates per
/// moved item (detail::swap_home_scan). The Hungarian fallback adds O(k^3) for k <= 512
/// (O(k^2 log k) greedy above). bench/bench_growth.cpp measures the growth on adversarial inputs.
/// Guarantee: every sample placed exactly once; makespan <= reference makespan * (1 + tolerance);
/// movement never more than a full re-dispatch's in practice, and usually a small fraction (see
/// docs/benchmarks.md). Not an optimum of the movement objective (that is NP-hard).
/// Deterministic: ties break by index; no randomness.
///
/// Errors (invalid_input): k == 0; sizes of costs, current_rank and bytes differ; a current rank
/// not below `ranks`; ranks_per_node == 0; negative/NaN costs; negative, NaN or infinite
/// tolerance; total bytes overflowing 64 bits; opts.balance.equal_counts or a finite
/// opts.balance.part_capacity (not supported here: balance with complete_balance instead).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "fulcrum/balance/options.hpp"
#include "fulcrum/balance/partition.hpp"
#include "fulcrum/config.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

struct post_balance_options {
  balance_options balance;         ///< reference balancer: LPT, or complete_balance if algorithm == complete
  std::size_t ranks_per_node = 8;  ///< ranks r and r' share a node iff r / ranks_per_node == r' / ranks_per_node
  /// Allowed makespan over the reference re-dispatch, relative (0.01 = 1%). At 0 the plan must be
  /// as tight as LPT's (within 0.02% of the mean on W1), which forces far more movement.
  double tolerance = 0.01;
};

struct post_balance_result {
  partition plan;                            ///< plan.parts[r] = samples rank r holds after balancing
  std::uint64_t bytes_moved_inter_node = 0;  ///< bytes of samples whose node changes
  std::uint64_t bytes_moved_intra_node = 0;  ///< bytes of samples that change rank within their node
  std::size_t samples_moved = 0;             ///< samples whose rank changes
  cost_t target_makespan = 0;                ///< the cap: reference makespan * (1 + tolerance)
};

/// Balances samples over `ranks` starting from `current_rank`, moving as few bytes as possible
/// (inter-node first, then intra-node). See the file comment. Defined in
/// balance/detail/post_balance_impl.hpp (header-only) or in fulcrum::compiled.
FULCRUM_WORKER_TEMPLATE
[[nodiscard]] FULCRUM_WORKER post_balance_result post_balance(std::span<const cost_t> costs,
                                                              std::span<const index_type> current_rank,
                                                              std::span<const std::uint64_t> bytes, std::size_t ranks,
                                                              const post_balance_options& opts = {});

}  // namespace fulcrum

#if !defined(FULCRUM_COMPILED)
#include "fulcrum/balance/detail/post_balance_impl.hpp"
#endif
