// SPDX-License-Identifier: Apache-2.0
/// @file dispatch/dispatch.hpp
/// `dispatch`: distributed balancing of training samples over the ranks of any communicator.
///
/// What (collective; every rank calls it with its own local samples):
///   1. all_gather_v of every sample's metadata and payload size -> every rank knows all samples
///      in global order (rank 0's, then rank 1's, ...);
///   2. every rank prices the samples with the cost model and runs the same deterministic planner
///      (default: LPT over ranks x micro_batches parts; a planner returns a step_grid or a result
///      holding one, e.g. pack_for_ranks' or balance_two_level's, see plan.hpp) -> a steps x ranks
///      grid of micro-batches, the same on every rank;
///   3. all_reduce of (hash, ~hash) with max checks that every rank holds the same plan; if not,
///      every rank throws comm_error;
///   4. all_to_all_v moves each payload from the rank holding it to the rank that runs it;
///   5. each rank returns its micro-batches: samples (metadata + payload bytes) in plan order,
///      their global ids and origin, and the same number of micro-batches on every rank.
/// Every sample arrives exactly once with its bytes intact. Samples already on their target rank
/// are copied locally (they are in the all_to_all_v block a rank sends to itself).
///
/// Failures: a bad local input or a throwing cost model/planner on one rank calls the
/// communicator's abort() (so peers fail at once) and rethrows; peers get comm_error from their
/// next collective; a peer that stalls gives comm_error after the communicator's timeout. No
/// partial result is returned. A retry with a fresh communicator starts from the same local
/// samples and delivers everything exactly once.
///
/// Complexity: O(n log n) planning on every rank (n = all samples) + the payload bytes moved
/// once; 4 collectives (all_gather of counts, all_gather_v of metadata, all_reduce of the plan
/// hash, all_to_all_v of the payloads). Metadata is O(n) on every rank.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/detail/chrono.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/dispatch/plan.hpp"
#include "fulcrum/dispatch/sample_batch.hpp"

namespace fulcrum {

struct dispatch_options {
  std::size_t micro_batches = 1;   ///< micro-batches per rank (passed to the planner)
  std::size_t ranks_per_node = 0;  ///< ranks per node for the byte statistics (0: one node)
};

/// Where a received sample came from.
struct sample_id {
  index_type global = 0;        ///< index in the global order (rank 0's samples first)
  index_type origin_rank = 0;   ///< rank that held it before the dispatch
  index_type origin_index = 0;  ///< its index in that rank's local batch
  friend bool operator==(const sample_id&, const sample_id&) = default;
};

/// Bytes moved by a plan (the same numbers on every rank: they describe the whole job).
struct dispatch_traffic {
  std::uint64_t bytes_total = 0;       ///< all payload bytes
  std::uint64_t bytes_moved = 0;       ///< payload bytes that change rank
  std::uint64_t bytes_inter_node = 0;  ///< payload bytes that change node
  std::uint64_t samples_moved = 0;     ///< samples that change rank
};

template <class Meta>
struct dispatch_result {
  sample_batch<Meta> samples;      ///< this rank's samples, micro-batch by micro-batch, in plan order
  std::vector<sample_id> ids;      ///< ids[i]: origin of samples[i]
  grouping micro_batches;          ///< plan.steps() groups of indices into `samples` (same count on every rank)
  dispatch_plan plan;              ///< the global plan (identical on every rank)
  std::vector<cost_t> costs;       ///< cost of every sample, global order
  std::vector<index_type> origin;  ///< origin rank of every sample, global order
  std::uint64_t plan_hash = 0;
  dispatch_traffic traffic;
  double planning_seconds = 0;  ///< wall time of pricing + planning + validation on this rank
  double exchange_seconds = 0;  ///< wall time of the payload all_to_all_v on this rank
};

namespace detail {

/// Metadata record sent in the all_gather_v: the user's Meta plus the payload size.
template <class Meta>
struct wire_meta {
  Meta meta;
  std::uint64_t bytes;
};

inline std::size_t node_of(std::size_t rank, std::size_t ranks_per_node) {
  return ranks_per_node == 0 ? 0 : rank / ranks_per_node;
}

inline dispatch_traffic traffic_of(std::span<const index_type> from, std::span<const index_type> to,
                                   std::span<const std::uint64_t> bytes, std::size_t ranks_per_node) {
  dispatch_traffic t;
  for (std::size_t g = 0; g < from.size(); ++g) {
    t.bytes_total = checked_add(t.bytes_total, bytes[g], "dispatch bytes");
    if (from[g] != to[g]) {
      ++t.samples_moved;
      t.bytes_moved = checked_add(t.bytes_moved, bytes[g], "dispatch bytes");
      if (node_of(from[g], ranks_per_node) != node_of(to[g], ranks_per_node))
        t.bytes_inter_node = checked_add(t.bytes_inter_node, bytes[g], "dispatch bytes");
    }
  }
  return t;
}

}  // namespace detail

/// Dispatches this rank's `local` samples (see the file comment). `cost(meta)` prices a sample;
/// `planner(planning_input<Meta>)` builds the plan (default lpt_planner).
template <communicator C, transferable Meta, class Cost, class Planner = lpt_planner>
[[nodiscard]] dispatch_result<Meta> dispatch(C& c, const sample_batch<Meta>& local, Cost cost,
                                             dispatch_options opts = {}, Planner planner = {}) {
  using clock = std::chrono::steady_clock;
  const std::size_t p = comm::size(c), me = comm::rank(c);
  if (opts.micro_batches == 0)
    detail::abort_on_error(
        c, [] { throw invalid_input(detail::describe("dispatch", "micro_batches", 0, "need at least one")); },
        "dispatch");
  if (local.size() > std::numeric_limits<index_type>::max())
    detail::abort_on_error(
        c, [&] { throw invalid_input(detail::describe("dispatch", "local samples", local.size(), "too many")); },
        "dispatch");

  // 1. Everyone learns every sample's metadata and payload size.
  std::vector<detail::wire_meta<Meta>> mine(local.size());
  for (std::size_t i = 0; i < local.size(); ++i) mine[i] = {local.meta(i), local.payloads().size_of(i)};
  const auto all = comm::all_gather_v(c, mine);
  const std::size_t n = all.values.size();

  dispatch_result<Meta> out;
  const auto t0 = clock::now();
  std::vector<Meta> metas(n);
  std::vector<std::uint64_t> bytes(n);
  detail::abort_on_error(c, [&] {
    if (n > std::numeric_limits<index_type>::max())
      throw invalid_input(detail::describe("dispatch", "samples", n, "more samples than index_type can address"));
    out.origin.resize(n);
    for (std::size_t r = 0; r < p; ++r)
      for (std::size_t g = all.offsets[r]; g < all.offsets[r + 1]; ++g) out.origin[g] = static_cast<index_type>(r);
    for (std::size_t g = 0; g < n; ++g) {
      metas[g] = all.values[g].meta;
      bytes[g] = all.values[g].bytes;
    }
    // 2. The same plan on every rank.
    out.costs = evaluate_costs(metas, cost, std::identity{}, "dispatch");
    const planning_input<Meta> in{metas, out.costs, out.origin, bytes, p, opts.micro_batches, opts.ranks_per_node};
    out.plan = detail::to_dispatch_plan(planner(in), in);
    out.plan_hash = plan_hash(out.plan);
  }, "dispatch");
  out.planning_seconds = std::chrono::duration<double>(clock::now() - t0).count();

  // 3. Check that every rank holds the same plan.
  const std::uint64_t h[2] = {out.plan_hash, ~out.plan_hash};
  std::uint64_t hmax[2] = {0, 0};
  comm::all_reduce(c, std::span<const std::uint64_t>(h), std::span<std::uint64_t>(hmax), max_op{});
  if (hmax[0] != h[0] || hmax[1] != h[1])
    throw comm_error("dispatch: ranks computed different plans (plan hash " + std::to_string(out.plan_hash) +
                     " on rank " + std::to_string(me) + "; is the planner or cost model non-deterministic?)");

  // 4. Exchange payloads: to each destination, this rank's samples in that rank's plan order.
  std::vector<std::size_t> send_counts(p, 0), recv_counts(p, 0);
  std::vector<std::byte> send;
  std::size_t recv_samples = 0;
  detail::abort_on_error(c, [&] {
    const auto dest = out.plan.destination(n);
    out.traffic = detail::traffic_of(out.origin, dest, bytes, opts.ranks_per_node);
    std::size_t send_total = 0;
    for (std::size_t g = all.offsets[me]; g < all.offsets[me + 1]; ++g) send_total += bytes[g];
    send.reserve(send_total);
    const std::size_t base = all.offsets[me];
    for (std::size_t d = 0; d < p; ++d)
      for (std::size_t s = 0; s < out.plan.steps(); ++s)
        for (index_type g : out.plan.micro_batch(d, s)) {
          if (out.origin[g] == me) {
            const auto payload = local.payload(g - base);
            send.insert(send.end(), payload.begin(), payload.end());
            send_counts[d] += payload.size();
          }
          if (d == me) {
            recv_counts[out.origin[g]] += bytes[g];
            ++recv_samples;
          }
        }
  }, "dispatch");
  std::size_t recv_total = 0;
  for (auto r : recv_counts) recv_total = checked_add(recv_total, r, "dispatch");
  std::vector<std::byte> recv(recv_total);
  const auto t1 = clock::now();
  comm::all_to_all_v(c, send, send_counts, recv, recv_counts);
  out.exchange_seconds = std::chrono::duration<double>(clock::now() - t1).count();

  // 5. Unpack in plan order: block s holds the samples from rank s, in this rank's plan order.
  std::vector<std::size_t> cursor(p, 0);
  for (std::size_t s = 1; s < p; ++s) cursor[s] = cursor[s - 1] + recv_counts[s - 1];
  out.samples.reserve(recv_samples, recv_total);
  out.ids.reserve(recv_samples);
  std::vector<std::size_t> offsets{0};
  std::vector<index_type> indices;
  indices.reserve(recv_samples);
  for (std::size_t s = 0; s < out.plan.steps(); ++s) {
    for (index_type g : out.plan.micro_batch(me, s)) {
      const auto from = out.origin[g];
      const auto len = static_cast<std::size_t>(bytes[g]);
      indices.push_back(static_cast<index_type>(out.samples.size()));
      out.samples.push_back(metas[g], std::span<const std::byte>(recv).subspan(cursor[from], len));
      out.ids.push_back({g, from, static_cast<index_type>(g - all.offsets[from])});
      cursor[from] += len;
    }
    offsets.push_back(indices.size());
  }
  out.micro_batches = grouping(std::move(offsets), std::move(indices));
  return out;
}

/// The library's one argument order (items, options, cost, planner): the same as
/// dispatch(c, local, cost, opts, planner).
template <communicator C, transferable Meta, class Cost, class Planner = lpt_planner>
requires std::invocable<const Cost&, const Meta&>
[[nodiscard]] dispatch_result<Meta> dispatch(C& c, const sample_batch<Meta>& local, dispatch_options opts, Cost cost,
                                             Planner planner = {}) {
  return dispatch(c, local, std::move(cost), opts, std::move(planner));
}

/// dispatch with the default LPT planner and options.
template <communicator C, transferable Meta, class Cost>
[[nodiscard]] dispatch_result<Meta> dispatch(C& c, const sample_batch<Meta>& local, Cost cost,
                                             std::size_t micro_batches) {
  dispatch_options opts;
  opts.micro_batches = micro_batches;
  return dispatch(c, local, cost, opts, lpt_planner{});
}

}  // namespace fulcrum
