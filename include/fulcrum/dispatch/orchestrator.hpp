// SPDX-License-Identifier: Apache-2.0
/// @file dispatch/orchestrator.hpp
/// `orchestrate`: an N-phase plan for a multimodal training step (OrchMLLM's orchestrator): every
/// phase (e.g. vision encoder, audio encoder, LLM) is balanced over the same k data-parallel ranks
/// under its own cost model and item granularity, starting from where its data is, and the moves
/// between phases (and back, for gradients) are explicit route objects.
///
/// What (docs/orchestrator.md explains it with an example):
///  - A phase has items: one per sample, or (per_item) item j belongs to sample sample_of[j] (an image is an item of
///  the vision
///    phase; a sample's images may go to different encoder ranks). Per item: cost, input_bytes (raw
///    data that sits on the sample's origin rank), output_bytes (the result, sent to every phase
///    that `consumes` this one), and optionally memory with a per-rank memory_cap.
///  - A phase that consumes earlier phases has one item per sample (per_item false): the outputs
///    of a sample's items in those phases meet again at the sample's rank in this phase.
///  - Placement: an item's current rank is the rank holding the largest share of its input bytes
///    (its raw bytes at the origin, plus the outputs of the consumed phases where they were
///    computed; ties to the origin, then the lower rank). phase_mode::placement_aware balances
///    from there with post_balance (balance/post_balance.hpp: makespan <= LPT's * (1 + tolerance),
///    fewest inter-node then intra-node bytes moved); phase_mode::scratch uses LPT ignoring
///    placement; phase_mode::keep leaves every item where it is (no balancing, for baselines);
///    phase_mode::equal_count (an LLM phase whose kernels want equal sample counts) runs balance()
///    with equal_counts, then maps its parts onto ranks by a greedy maximum-weight matching on
///    the bytes already there (pairs by bytes descending, ties by part then rank), O(n + k^2 log k).
///    A memory_cap repair afterwards may leave a rank one item off the equal count.
///  - phase_mode::sequence_parallel (an LLM phase under Ulysses SP): ranks g*d .. g*d+d-1 form SP
///    group g (d = sp.degree, dividing k and ranks_per_node, so a group sits in one node); the group
///    is the balancing unit: post_balance over the k/d groups from each item's current group, then a
///    greedy token-cap repair (a group's padded tokens, sum of sp.padded(tokens[j]), at most
///    d * sp.per_gpu_tokens: a group above it moves its smallest item covering the excess, else its
///    largest, that fits elsewhere, to the least loaded group with room). costs[j]
///    must be the per-GPU SP cost of item j (make_sp_cost(sp, model, a2a)(tokens[j]): compute / d
///    plus the all-to-all volume), and every rank of a group reports the group's load (each GPU runs
///    1/d of every sequence). The route carries every item whole to one rank of its group (its
///    current rank if that is in the group, else the member with the fewest padded tokens so far,
///    items by padded tokens descending): the SP layer's first all-to-all scatters the 1/d shards
///    inside the group (intra-node). memory_cap must be 0 (the token cap is the SP memory cap).
///  - phase_mode::context_parallel (an LLM phase under context parallelism): ranks g*c .. g*c+c-1
///    form CP group g (c = cp_degree, dividing k and ranks_per_node). An item is a document of
///    tokens[j] tokens; its CP cost is cp.cost's per_token L + per_pair L(L+1)/2 + per_chunk (costs
///    is ignored). post_balance spreads these costs over the k/c groups from each item's current
///    group; then each group's documents (item index order) are sharded over its c ranks by
///    plan_context_parallel(tokens, c, cp) (parallel/context_parallel.hpp: short documents whole,
///    long ones split). `shards` lists every rank's chunks (document = item index), loads[r] is
///    rank r's CP cost recomputed from its chunks, cp_tokens[r] its real tokens, and rank[j] is the
///    group member holding most of item j's tokens (ties: lower rank; where later phases find its
///    output). Routes into the phase send each rank its shard bytes: item j's bytes are split over
///    its shards in proportion to their tokens (cumulative floors, exact in 128 bits), listed in
///    `entry_bytes`; reversed() brings every share back. memory_cap must be 0.
///  - Memory caps: ranks above memory_cap hand their largest-memory items, one at a time, to the
///    least loaded rank with room (greedy; a cap it cannot meet throws invalid_input).
///  - Routes, in execution order per phase: the raw route (origin -> phase rank, input_bytes) and
///    one route per consumed phase (producer rank -> consumer rank, output_bytes). A route's group
///    s * k + d lists the items rank s sends to rank d, in send order; the receiver stores them in
///    that order. `reversed()` is the backward route (gradients d -> s along the same lists).
///  - plan_hash: FNV-1a over every phase's ranks and every route: equal plans hash equal.
/// `orchestrate_distributed(comm, ...)` all-gathers every rank's local items (the only
/// communication), computes the plan on every rank, and checks the hashes agree (comm_error if not).
/// Complexity: per phase, post_balance's (or LPT's O(n log n)) + O(n + k^2) for the routes (k * k
/// groups; k <= orchestrator_max_ranks = 4096). Deterministic: no randomness, ties by index.
/// Errors (invalid_input naming phase and field): k == 0 or > 4096; per-item arrays of the wrong
/// size; sample_of out of range or set without per_item; consumes naming a phase that is not
/// earlier; a consuming phase with per_item; negative/NaN costs; an item above memory_cap or a cap the greedy cannot
/// meet; sequence_parallel with sp.degree 0 or not dividing k or ranks_per_node, tokens of the wrong
/// size, a memory_cap, an item or a cap above d * sp.per_gpu_tokens the greedy cannot meet;
/// context_parallel with cp_degree 0 or not dividing k or ranks_per_node, tokens of the wrong size
/// or above 2^31 - 1, a memory_cap, a negative or non-finite cp.cost coefficient.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fulcrum/balance/partition.hpp"
#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/parallel/context_parallel_result.hpp"
#include "fulcrum/parallel/sp_spec.hpp"

namespace fulcrum {

/// Largest k orchestrate accepts: every route has k * k groups.
inline constexpr std::size_t orchestrator_max_ranks = 4096;

/// How a phase is balanced.
enum class phase_mode : std::uint8_t {
  placement_aware,  ///< post_balance from the items' current ranks (default)
  scratch,          ///< LPT from scratch, ignoring where the data is
  keep,             ///< no balancing: every item stays on its current rank
  equal_count,  ///< balance() with equal_counts (floor/ceil(n/k) items per rank), parts relabelled to keep bytes home
  sequence_parallel,  ///< the unit is an SP group of sp.degree ranks (Ulysses); see the file comment
  context_parallel    ///< the unit is a CP group of cp_degree ranks, documents sharded over it; see the file comment
};

/// One phase of the step (see the file comment). Per-item arrays may be empty (= all zero), except costs.
struct orchestrator_phase {
  std::string name;
  bool per_item = false;                    ///< true: items listed by sample_of; false: item i is sample i
  std::vector<index_type> sample_of;        ///< per_item: item -> sample (must be empty otherwise)
  std::vector<cost_t> costs;                ///< per item: work in this phase
  std::vector<std::uint64_t> input_bytes;   ///< per item: raw bytes on the sample's origin rank
  std::vector<std::uint64_t> output_bytes;  ///< per item: result bytes sent to consuming phases
  std::vector<std::uint64_t> memory;        ///< per item: activation memory (with memory_cap)
  std::uint64_t memory_cap = 0;             ///< per rank; 0 = no cap
  std::vector<std::size_t> consumes;        ///< earlier phases whose outputs this phase receives
  phase_mode mode = phase_mode::placement_aware;
  /// sequence_parallel only: degree = ranks per SP group (divides ranks and ranks_per_node);
  /// per_gpu_tokens = token cap of one GPU for the phase, after padding (0 = no cap).
  sp_spec sp{};
  std::vector<std::uint64_t> tokens;  ///< sequence_parallel / context_parallel only: per item, its sequence length
  std::size_t cp_degree = 1;          ///< context_parallel only: ranks per CP group (divides ranks and ranks_per_node)
  cp_options cp{};                    ///< context_parallel only: sharding method and CP cost model
};

struct orchestrator_options {
  std::size_t ranks = 1;           ///< k data-parallel ranks
  std::size_t ranks_per_node = 0;  ///< 0: one node holds every rank
  double tolerance = 0.01;         ///< post_balance slack over the LPT makespan
};

/// Where every item of one phase runs.
struct phase_assignment {
  std::string name;
  std::vector<index_type> current_rank;    ///< per item: rank holding most of its input before the phase
  std::vector<index_type> rank;            ///< per item: rank that runs it
  std::vector<index_type> slot;            ///< per item: position in its rank's batch (item index order)
  grouping per_rank;                       ///< k groups: the items of rank r in slot order
  std::vector<cost_t> loads;               ///< per rank: summed cost
  std::vector<cost_t> loads_before;        ///< per rank: summed cost at current_rank (no balancing)
  std::vector<std::uint64_t> memory;       ///< per rank: summed memory
  std::size_t sp_degree = 1;               ///< ranks per balancing unit (sequence_parallel: sp.degree)
  std::vector<std::uint64_t> sp_tokens;    ///< sequence_parallel: per rank, padded tokens of its group / degree
  std::vector<std::size_t> shard_offsets;  ///< context_parallel: k + 1; rank r's chunks are shards[offsets[r] .. [r+1])
  std::vector<cp_chunk> shards;            ///< context_parallel: chunks by rank (document = item index)
  std::vector<std::uint64_t> cp_tokens;    ///< context_parallel: per rank, real tokens of its chunks
  [[nodiscard]] cost_t makespan() const noexcept;
  [[nodiscard]] cost_t makespan_before() const noexcept;
  [[nodiscard]] cost_t mean() const noexcept;
};

/// Items moving between two placements; the route of a step's exchange (see the file comment).
struct phase_route {
  static constexpr std::size_t origin = std::numeric_limits<std::size_t>::max();
  std::size_t from_phase = origin;  ///< producer phase, or `origin` (raw data on the origin ranks)
  std::size_t to_phase = 0;         ///< consumer phase
  bool backward = false;            ///< true for a reversed() route (gradients)
  std::size_t ranks = 0;
  grouping lists;                         ///< k*k groups: s*k + d = items (of the sending side's phase) s sends to d
  std::vector<std::uint64_t> bytes;       ///< k*k: bytes s sends to d
  std::vector<std::uint64_t> item_bytes;  ///< per item of the sending side's phase: its bytes
  /// Per entry of lists.indices(): the bytes that entry carries (a shard share, when the route
  /// goes into a context_parallel phase, whose items are split over the ranks of their group);
  /// empty: every entry carries its item's item_bytes whole.
  std::vector<std::uint64_t> entry_bytes;
  std::uint64_t bytes_total = 0;  ///< all bytes of the route (kept ones included)
  std::uint64_t bytes_moved = 0;  ///< bytes that change rank
  std::uint64_t bytes_inter_node = 0;
  /// Items of group (s, d).
  [[nodiscard]] std::span<const index_type> between(std::size_t s, std::size_t d) const { return lists[s * ranks + d]; }
  /// The backward route: group d*k + s lists what d sends back to s, in the same order.
  [[nodiscard]] phase_route reversed() const;
};

struct orchestrator_plan {
  std::size_t ranks = 0;
  std::size_t ranks_per_node = 0;
  std::vector<index_type> origin;        ///< per sample: rank holding it before the step
  std::vector<phase_assignment> phases;  ///< one per phase, in order
  std::vector<phase_route> routes;       ///< forward routes in execution order
  std::uint64_t hash = 0;                ///< plan_hash of everything above
};

/// Plans every phase over opts.ranks ranks; origin[s] = rank holding sample s. See the file comment.
[[nodiscard]] inline orchestrator_plan orchestrate(std::span<const index_type> origin,
                                                   std::span<const orchestrator_phase> phases,
                                                   const orchestrator_options& opts);

/// 64-bit FNV-1a over the plan's ranks, phases and routes.
[[nodiscard]] inline std::uint64_t plan_hash(const orchestrator_plan& plan) noexcept;

/// orchestrate on every rank of `c` from this rank's local items: `local_phases[p]` holds this
/// rank's items of phase p with sample_of = local sample indices (< local_samples) and the same
/// name, consumes, memory_cap, mode, sp, cp_degree and cp on every rank. Items are ordered rank by
/// rank, samples too (global sample = local samples of lower ranks + local index). Collective: one all_gather, one
/// all_gather_v per phase, one all_reduce of the plan hash (comm_error if the ranks disagree). A
/// bad local input aborts the communicator (peers get comm_error) and throws invalid_input.
/// `global_phases` (optional) receives the gathered phases, as the plan saw them.
template <communicator C>
[[nodiscard]] orchestrator_plan orchestrate_distributed(C& c, std::size_t local_samples,
                                                        std::span<const orchestrator_phase> local_phases,
                                                        orchestrator_options opts,
                                                        std::vector<orchestrator_phase>* global_phases = nullptr);

}  // namespace fulcrum

#include "fulcrum/dispatch/detail/orchestrator_impl.hpp"
