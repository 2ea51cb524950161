// SPDX-License-Identifier: Apache-2.0
/// @file comm/detail/blocks.hpp
/// The per-rank block layout of the variable-size collectives, shared by the backends that stage
/// host buffers (comm/mpi.hpp, nccl/nccl_communicator.hpp): rank r's block starts at the sum of
/// the counts before it. O(ranks).
#pragma once

#include <cstddef>
#include <span>

namespace fulcrum::comm::detail {

/// Calls f(r, count, displacement) for every rank r of `counts`, displacement = counts[0] + ... +
/// counts[r-1] (all_gather_v's layout of the output).
template <class F>
void for_each_block(std::span<const std::size_t> counts, F&& f) {
  std::size_t at = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    f(r, counts[r], at);
    at += counts[r];
  }
}

/// all_to_all_v's layout: f(r, send_count, send_displacement, recv_count, recv_displacement) for
/// every rank r (send and recv have one entry per rank).
template <class F>
void for_each_exchange(std::span<const std::size_t> send, std::span<const std::size_t> recv, F&& f) {
  std::size_t sa = 0, ra = 0;
  for (std::size_t r = 0; r < send.size(); ++r) {
    f(r, send[r], sa, recv[r], ra);
    sa += send[r];
    ra += recv[r];
  }
}

}  // namespace fulcrum::comm::detail
