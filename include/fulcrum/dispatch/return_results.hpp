// SPDX-License-Identifier: Apache-2.0
/// @file dispatch/return_results.hpp
/// `return_results`: the reverse exchange after a dispatch. Each rank computed one result per
/// sample it received (e.g. the vision encoder's embeddings of its images); the results go back
/// to the rank that owns each sample for the next phase: by default the sample's origin rank,
/// or any `next_owner[g]` (e.g. the rank of the LLM-phase plan), as OrchMLLM's orchestrator
/// does between the vision and the language phase.
///
/// Two all_to_all_v: result sizes (8 bytes per sample), then result bytes. Every result arrives
/// exactly once; a rank receives its results ordered by global sample index (for the default
/// owner: its own local order). O(n + bytes) per rank, plus an O(n) sort of the sent indices.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/dispatch/dispatch.hpp"
#include "fulcrum/dispatch/sample_batch.hpp"

namespace fulcrum {

struct returned_results {
  std::vector<index_type> global;  ///< global indices of the samples this rank owns next, ascending
  byte_table results;              ///< results[i] belongs to sample global[i]
};

/// `results[i]` is the result of `dispatched.samples` item i. `next_owner` (global order, one
/// rank per sample) defaults to each sample's origin rank.
template <communicator C, class Meta>
[[nodiscard]] returned_results return_results(C& c, const dispatch_result<Meta>& dispatched, const byte_table& results,
                                              std::span<const index_type> next_owner = {}) {
  const std::size_t p = comm::size(c), me = comm::rank(c);
  const std::size_t n = dispatched.origin.size();
  std::vector<std::size_t> send_n(p, 0), recv_n(p, 0);
  std::vector<std::uint64_t> sizes_out;
  std::vector<std::byte> bytes_out;
  std::vector<index_type> holder;
  std::vector<std::size_t> mine_sorted;
  returned_results ret;
  detail::abort_on_error(c, [&] {
    if (results.size() != dispatched.samples.size())
      throw invalid_input(detail::describe("return_results", "results.size()", results.size(),
                                           "must equal the number of dispatched samples"));
    if (!next_owner.empty() && next_owner.size() != n)
      throw invalid_input(detail::describe("return_results", "next_owner.size()", next_owner.size(),
                                           "must equal the number of samples"));
    for (std::size_t g = 0; g < next_owner.size(); ++g)
      if (next_owner[g] >= p)
        throw invalid_input(detail::describe("return_results", "next_owner", g, next_owner[g], "is not a rank"));
    auto owner = [&](std::size_t g) -> std::size_t {
      return next_owner.empty() ? dispatched.origin[g] : next_owner[g];
    };
    holder = dispatched.plan.destination(n);
    // What this rank sends: its received samples, grouped by owner, ascending global index.
    mine_sorted.resize(dispatched.ids.size());
    for (std::size_t i = 0; i < mine_sorted.size(); ++i) mine_sorted[i] = i;
    std::sort(mine_sorted.begin(), mine_sorted.end(), [&](std::size_t a, std::size_t b) {
      const auto oa = owner(dispatched.ids[a].global), ob = owner(dispatched.ids[b].global);
      return oa != ob ? oa < ob : dispatched.ids[a].global < dispatched.ids[b].global;
    });
    sizes_out.reserve(mine_sorted.size());
    for (std::size_t i : mine_sorted) {
      ++send_n[owner(dispatched.ids[i].global)];
      sizes_out.push_back(results.size_of(i));
    }
    for (std::size_t g = 0; g < n; ++g)
      if (owner(g) == me) {
        ++recv_n[holder[g]];
        ret.global.push_back(static_cast<index_type>(g));
      }
  }, "dispatch");
  // 1. Result sizes.
  std::size_t recv_total = 0;
  for (auto r : recv_n) recv_total += r;
  std::vector<std::uint64_t> sizes_in(recv_total);
  comm::all_to_all_v(c, sizes_out, send_n, sizes_in, recv_n);
  // 2. Result bytes.
  std::vector<std::size_t> send_b(p, 0), recv_b(p, 0);
  std::vector<std::size_t> first(p, 0);  // index into sizes_in of source s's block
  detail::abort_on_error(c, [&] {
    std::size_t k = 0;
    for (std::size_t d = 0; d < p; ++d)
      for (std::size_t j = 0; j < send_n[d]; ++j, ++k) {
        const auto one = results[mine_sorted[k]];
        bytes_out.insert(bytes_out.end(), one.begin(), one.end());
        send_b[d] += one.size();
      }
    k = 0;
    for (std::size_t s = 0; s < p; ++s) {
      first[s] = k;
      for (std::size_t j = 0; j < recv_n[s]; ++j, ++k)
        recv_b[s] = checked_add(recv_b[s], sizes_in[k], "return_results");
    }
  }, "dispatch");
  std::size_t bytes_total = 0;
  for (auto b : recv_b) bytes_total = checked_add(bytes_total, b, "return_results");
  std::vector<std::byte> bytes_in(bytes_total);
  comm::all_to_all_v(c, bytes_out, send_b, bytes_in, recv_b);
  // 3. Assemble in ascending global order; each source's block is ascending too.
  std::vector<std::size_t> at_byte(p, 0), at_size(first);
  for (std::size_t s = 1; s < p; ++s) at_byte[s] = at_byte[s - 1] + recv_b[s - 1];
  ret.results.reserve(ret.global.size(), bytes_total);
  for (index_type g : ret.global) {
    const auto s = holder[g];
    const auto len = static_cast<std::size_t>(sizes_in[at_size[s]++]);
    ret.results.push_back(std::span<const std::byte>(bytes_in).subspan(at_byte[s], len));
    at_byte[s] += len;
  }
  return ret;
}

}  // namespace fulcrum
