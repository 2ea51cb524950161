// SPDX-License-Identifier: Apache-2.0
/// @file comm/hierarchical.hpp
/// Node-wise (hierarchical) all-to-all over any communicator, a cost model that picks it or the
/// flat one, and a nonblocking start/test/wait form.
///
/// What: ranks r = node * ranks_per_node + local. `hierarchical_all_to_all_v` moves the same bytes
/// as all_to_all_v in two hops, both all_to_all_v calls on the same communicator with sparse count
/// matrices (rail-aligned, as NCCL's PXN and DeepEP's node-wise dispatch do):
///   hop 1 (intra-node only): rank (a, l) sends to its node peer (a, m) everything it has for the
///         ranks (b, m) of every node b, with a header of `nodes` 64-bit counts;
///   hop 2 (inter-node only, between rail peers): (a, m) forwards to (b, m) the blocks of every
///         (a, l), with a header of `ranks_per_node` counts; (b, m) unpacks them in source order.
/// Inter-node bytes are the same as a flat exchange's (plus the headers); inter-node messages
/// drop from p * (p - ranks_per_node) to p * (nodes - 1), each ranks_per_node times larger, and
/// no rank sends more inter-node bytes than it would flat in aggregate over its node. Whether
/// that wins depends on the sizes: `choose_exchange` evaluates both with an alpha-beta model
/// (per-message latency + bytes / bandwidth, intra 900 GB/s and inter 50 GB/s per rank by
/// default) on the k x k byte matrix every rank knows from the plan, the same choice on every
/// rank. Not done: a split()-based variant with node leaders (no communicator here has split).
/// Needs p % ranks_per_node == 0 (otherwise, or with one node, the flat exchange is used).
///
/// `hierarchical_communicator<C>` wraps a communicator so that its all_to_all_v is the two-hop one
/// (every other collective is forwarded): it passes the communicator conformance suite.
/// `exchange_handle` (start/test/wait): the exchange runs on a thread of its own (progress
/// thread); test() polls, wait() joins and rethrows its comm_error. The caller must not use the
/// communicator until wait() returns (thread_world: any thread may drive an endpoint; MPI: needs
/// MPI_THREAD_SERIALIZED or better).
/// Complexity: O(p + bytes) per rank and hop; 2 all_to_all_v calls.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum::comm {

namespace detail {

inline void put_u64(std::vector<std::byte>& buf, std::uint64_t v) {
  std::byte b[sizeof v];
  std::memcpy(b, &v, sizeof v);
  buf.insert(buf.end(), b, b + sizeof v);
}
inline std::uint64_t get_u64(std::span<const std::byte> buf, std::size_t at) {
  std::uint64_t v = 0;
  if (at + sizeof v > buf.size()) throw comm_error("hierarchical_all_to_all_v: truncated header");
  std::memcpy(&v, buf.data() + at, sizeof v);
  return v;
}

}  // namespace detail

/// Two-hop all_to_all_v (byte counts; see the file comment). Falls back to the flat exchange when
/// ranks_per_node is 0, >= size, or does not divide size.
template <communicator C>
void hierarchical_all_to_all_v(C& c, std::span<const std::byte> in, std::span<const std::size_t> send_counts,
                               std::span<std::byte> out, std::span<const std::size_t> recv_counts,
                               std::size_t ranks_per_node) {
  const std::size_t p = detail::size_of_comm(c), me = detail::rank_of(c);
  if (send_counts.size() != p)
    throw invalid_input(fulcrum::detail::describe("hierarchical_all_to_all_v", "send_counts.size()", send_counts.size(),
                                                  "must equal the communicator size"));
  if (recv_counts.size() != p)
    throw invalid_input(fulcrum::detail::describe("hierarchical_all_to_all_v", "recv_counts.size()", recv_counts.size(),
                                                  "must equal the communicator size"));
  const std::size_t g = ranks_per_node;
  if (g == 0 || g >= p || p % g != 0) {
    detail::all_to_all_v_bytes(c, in, send_counts, out, recv_counts);
    return;
  }
  const std::size_t nodes = p / g, a = me / g, l = me % g;
  std::vector<std::size_t> send_off(p + 1, 0), recv_off(p + 1, 0);
  for (std::size_t r = 0; r < p; ++r) {
    send_off[r + 1] = checked_add(send_off[r], send_counts[r], "hierarchical_all_to_all_v");
    recv_off[r + 1] = checked_add(recv_off[r], recv_counts[r], "hierarchical_all_to_all_v");
  }
  if (send_off[p] != in.size())
    throw invalid_input(fulcrum::detail::describe("hierarchical_all_to_all_v", "in.size()", in.size(),
                                                  "differs from the sum of send_counts"));
  if (recv_off[p] != out.size())
    throw invalid_input(fulcrum::detail::describe("hierarchical_all_to_all_v", "out.size()", out.size(),
                                                  "differs from the sum of recv_counts"));
  // Hop 1: to node peer (a, m): [nodes counts][block to (0, m)][block to (1, m)]...
  std::vector<std::byte> h1;
  std::vector<std::size_t> h1_counts(p, 0);
  for (std::size_t m = 0; m < g; ++m) {
    const std::size_t start = h1.size();
    for (std::size_t b = 0; b < nodes; ++b) detail::put_u64(h1, send_counts[b * g + m]);
    for (std::size_t b = 0; b < nodes; ++b) {
      const std::size_t d = b * g + m;
      h1.insert(h1.end(), in.begin() + static_cast<std::ptrdiff_t>(send_off[d]),
                in.begin() + static_cast<std::ptrdiff_t>(send_off[d + 1]));
    }
    h1_counts[a * g + m] = h1.size() - start;
  }
  // Receive sizes of hop 1 are not known in advance: exchange them (one count per node peer).
  std::vector<std::uint64_t> mine(h1_counts.begin() + static_cast<std::ptrdiff_t>(a * g),
                                  h1_counts.begin() + static_cast<std::ptrdiff_t>(a * g + g));
  const auto sizes = all_gather_v(c, mine);  // sizes.of(r)[m]: what r sends to its node peer m
  std::vector<std::size_t> r1_counts(p, 0);
  for (std::size_t j = 0; j < g; ++j) r1_counts[a * g + j] = static_cast<std::size_t>(sizes.of(a * g + j)[l]);
  std::size_t r1_total = 0;
  for (auto v : r1_counts) r1_total = checked_add(r1_total, v, "hierarchical_all_to_all_v");
  std::vector<std::byte> r1(r1_total);
  detail::all_to_all_v_bytes(c, std::span<const std::byte>(h1), std::span<const std::size_t>(h1_counts),
                             std::span<std::byte>(r1), std::span<const std::size_t>(r1_counts));
  // Parse hop 1: from each node peer (a, j), blocks for (b, l) for every node b.
  std::vector<std::vector<std::span<const std::byte>>> block(g, std::vector<std::span<const std::byte>>(nodes));
  {
    std::size_t at = 0;
    for (std::size_t j = 0; j < g; ++j) {
      const std::size_t end = at + r1_counts[a * g + j];
      std::size_t data = at + nodes * sizeof(std::uint64_t);
      for (std::size_t b = 0; b < nodes; ++b) {
        const auto len = static_cast<std::size_t>(detail::get_u64(r1, at + b * sizeof(std::uint64_t)));
        if (data + len > end) throw comm_error("hierarchical_all_to_all_v: hop 1 block overruns its message");
        block[j][b] = std::span<const std::byte>(r1).subspan(data, len);
        data += len;
      }
      at = end;
    }
  }
  // Hop 2: to rail peer (b, l): [g counts][block of (a, 0)][block of (a, 1)]...
  std::vector<std::byte> h2;
  std::vector<std::size_t> h2_counts(p, 0), r2_counts(p, 0);
  for (std::size_t b = 0; b < nodes; ++b) {
    const std::size_t start = h2.size();
    for (std::size_t j = 0; j < g; ++j) detail::put_u64(h2, block[j][b].size());
    for (std::size_t j = 0; j < g; ++j) h2.insert(h2.end(), block[j][b].begin(), block[j][b].end());
    h2_counts[b * g + l] = h2.size() - start;
  }
  // What (b, l) receives from (a', l): headers + the blocks of (a', j) -> me, known from recv_counts.
  for (std::size_t b = 0; b < nodes; ++b) {
    std::size_t len = g * sizeof(std::uint64_t);
    for (std::size_t j = 0; j < g; ++j) len += recv_counts[b * g + j];
    r2_counts[b * g + l] = len;
  }
  std::size_t r2_total = 0;
  for (auto v : r2_counts) r2_total = checked_add(r2_total, v, "hierarchical_all_to_all_v");
  std::vector<std::byte> r2(r2_total);
  detail::all_to_all_v_bytes(c, std::span<const std::byte>(h2), std::span<const std::size_t>(h2_counts),
                             std::span<std::byte>(r2), std::span<const std::size_t>(r2_counts));
  std::size_t at = 0;
  for (std::size_t b = 0; b < nodes; ++b) {
    std::size_t data = at + g * sizeof(std::uint64_t);
    for (std::size_t j = 0; j < g; ++j) {
      const std::size_t src = b * g + j;
      const auto len = static_cast<std::size_t>(detail::get_u64(r2, at + j * sizeof(std::uint64_t)));
      if (len != recv_counts[src])
        throw comm_error("hierarchical_all_to_all_v: rank " + std::to_string(src) + " sent " + std::to_string(len) +
                         " bytes to rank " + std::to_string(me) + ", recv_counts says " +
                         std::to_string(recv_counts[src]));
      if (len) std::memcpy(out.data() + recv_off[src], r2.data() + data, len);
      data += len;
    }
    at += r2_counts[b * g + l];
  }
}

/// A communicator whose all_to_all_v is hierarchical_all_to_all_v (everything else forwarded).
template <communicator C>
class hierarchical_communicator {
 public:
  hierarchical_communicator(C& inner, std::size_t ranks_per_node) : inner_(&inner), g_(ranks_per_node) {}
  [[nodiscard]] std::size_t rank() const { return detail::rank_of(*inner_); }
  [[nodiscard]] std::size_t size() const { return detail::size_of_comm(*inner_); }
  [[nodiscard]] std::size_t ranks_per_node() const noexcept { return g_; }
  [[nodiscard]] C& inner() noexcept { return *inner_; }
  void barrier() { detail::barrier_bytes(*inner_); }
  void broadcast(std::span<std::byte> buf, std::size_t root) { detail::broadcast_bytes(*inner_, buf, root); }
  void all_gather(std::span<const std::byte> in, std::span<std::byte> out) { detail::gather_bytes(*inner_, in, out); }
  void all_gather_v(std::span<const std::byte> in, std::span<std::byte> out, std::span<const std::size_t> counts) {
    detail::gather_v_bytes(*inner_, in, out, counts);
  }
  void all_reduce(std::span<const std::byte> in, std::span<std::byte> out, datatype dt, reduce_kind kind) {
    detail::all_reduce_bytes(*inner_, in, out, dt, kind);
  }
  void all_to_all_v(std::span<const std::byte> in, std::span<const std::size_t> send_counts, std::span<std::byte> out,
                    std::span<const std::size_t> recv_counts) {
    hierarchical_all_to_all_v(*inner_, in, send_counts, out, recv_counts, g_);
  }
  void abort(std::string_view reason) noexcept { comm::abort(*inner_, reason); }

 private:
  C* inner_;
  std::size_t g_;
};

/// The alpha-beta model of an exchange (seconds = messages * latency + bytes / bandwidth, per
/// rank, the slowest rank counting; a rank's intra- and inter-node traffic overlap).
struct bandwidth_model {
  double intra_bytes_per_s = 900e9;  ///< per rank, within a node (NVLink class)
  double inter_bytes_per_s = 50e9;   ///< per rank, between nodes (one 400 Gb/s NIC per GPU)
  double intra_latency_s = 3e-6;     ///< per message
  double inter_latency_s = 10e-6;    ///< per message
};

enum class exchange_method : std::uint8_t { flat, hierarchical };

struct exchange_estimate {
  exchange_method method = exchange_method::flat;  ///< the faster of the two
  double flat_seconds = 0;
  double hierarchical_seconds = 0;
  std::uint64_t inter_node_bytes = 0;     ///< payload bytes crossing nodes (equal for both)
  std::uint64_t flat_inter_messages = 0;  ///< non-empty inter-node messages, flat
  std::uint64_t hier_inter_messages = 0;  ///< non-empty inter-node messages, hierarchical
};

/// Times both exchanges of the k x k byte matrix (bytes[s * k + d] = s -> d) under `model`.
/// Deterministic: every rank holding the same matrix makes the same choice (ties: flat).
[[nodiscard]] inline exchange_estimate choose_exchange(std::span<const std::uint64_t> bytes, std::size_t k,
                                                       std::size_t ranks_per_node, const bandwidth_model& model = {}) {
  if (bytes.size() != k * k)
    throw invalid_input(fulcrum::detail::describe("choose_exchange", "bytes.size()", bytes.size(), "must be k * k"));
  exchange_estimate e;
  const std::size_t g = ranks_per_node == 0 ? k : ranks_per_node;
  auto node = [&](std::size_t r) { return r / g; };
  // Per rank: time = max(intra part, inter part) of what it sends and receives.
  auto time_of = [&](const std::vector<double>& intra_b, const std::vector<double>& inter_b,
                     const std::vector<double>& intra_m, const std::vector<double>& inter_m) {
    double t = 0;
    for (std::size_t r = 0; r < k; ++r)
      t = std::max(t, std::max(intra_m[r] * model.intra_latency_s + intra_b[r] / model.intra_bytes_per_s,
                               inter_m[r] * model.inter_latency_s + inter_b[r] / model.inter_bytes_per_s));
    return t;
  };
  std::vector<double> ib(k, 0), eb(k, 0), im(k, 0), em(k, 0);
  for (std::size_t s = 0; s < k; ++s)
    for (std::size_t d = 0; d < k; ++d) {
      const auto b = bytes[s * k + d];
      if (s == d || b == 0) continue;
      const auto x = static_cast<double>(b);
      if (node(s) == node(d)) {
        ib[s] += x;  // sender and receiver both pay
        ib[d] += x;
        im[s] += 1;
      } else {
        e.inter_node_bytes += b;
        ++e.flat_inter_messages;
        eb[s] += x;
        eb[d] += x;
        em[s] += 1;
      }
    }
  e.flat_seconds = time_of(ib, eb, im, em);
  const bool possible = ranks_per_node != 0 && g < k && k % g == 0;
  if (!possible) {
    e.hierarchical_seconds = e.flat_seconds;
    e.hier_inter_messages = e.flat_inter_messages;
    return e;
  }
  const std::size_t nodes = k / g;
  // Hop 1: (a, l) -> (a, m) carries everything for (*, m); hop 2: (a, m) -> (b, m) for b != a.
  std::vector<double> h1b(k, 0), h1m(k, 0), h2b(k, 0), h2m(k, 0);
  for (std::size_t s = 0; s < k; ++s)
    for (std::size_t m = 0; m < g; ++m) {
      const std::size_t relay = node(s) * g + m;
      double x = 0;
      for (std::size_t b = 0; b < nodes; ++b) x += static_cast<double>(bytes[s * k + b * g + m]);
      if (relay == s || x == 0) continue;
      h1b[s] += x;
      h1b[relay] += x;
      h1m[s] += 1;
    }
  for (std::size_t relay = 0; relay < k; ++relay)
    for (std::size_t b = 0; b < nodes; ++b) {
      if (b == node(relay)) continue;
      const std::size_t d = b * g + relay % g;
      double x = 0;
      for (std::size_t j = 0; j < g; ++j) x += static_cast<double>(bytes[(node(relay) * g + j) * k + d]);
      if (x == 0) continue;
      ++e.hier_inter_messages;
      h2b[relay] += x;
      h2b[d] += x;
      h2m[relay] += 1;
    }
  const std::vector<double> none(k, 0);
  e.hierarchical_seconds = time_of(h1b, none, h1m, none) + time_of(none, h2b, none, h2m);
  e.method = e.hierarchical_seconds < e.flat_seconds ? exchange_method::hierarchical : exchange_method::flat;
  return e;
}

/// A nonblocking exchange: the all_to_all_v runs on a progress thread (see the file comment).
class exchange_handle {
 public:
  exchange_handle() = default;
  exchange_handle(const exchange_handle&) = delete;
  exchange_handle& operator=(const exchange_handle&) = delete;
  exchange_handle(exchange_handle&&) = delete;
  exchange_handle& operator=(exchange_handle&&) = delete;
  ~exchange_handle() {
    if (thread_.joinable()) thread_.join();
  }
  /// True once the exchange has finished (successfully or not); never blocks.
  [[nodiscard]] bool test() const noexcept { return done_.load(std::memory_order_acquire); }
  /// Blocks until the exchange finished; rethrows its exception (comm_error on a failed peer).
  void wait() {
    if (thread_.joinable()) thread_.join();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

  /// Starts the exchange (byte counts) on the progress thread. The buffers and `c` must stay
  /// alive and untouched until wait() returns.
  template <communicator C>
  void start(C& c, std::span<const std::byte> in, std::span<const std::size_t> send_counts, std::span<std::byte> out,
             std::span<const std::size_t> recv_counts, exchange_method method, std::size_t ranks_per_node) {
    if (thread_.joinable()) throw invalid_input("exchange_handle::start: an exchange is already in flight");
    done_.store(false, std::memory_order_release);
    error_ = nullptr;
    exchange_handle& h = *this;
    thread_ = std::thread([&h, &c, in, send_counts, out, recv_counts, method, ranks_per_node] {
      try {
        if (method == exchange_method::hierarchical)
          hierarchical_all_to_all_v(c, in, send_counts, out, recv_counts, ranks_per_node);
        else
          detail::all_to_all_v_bytes(c, in, send_counts, out, recv_counts);
      } catch (...) {
        h.error_ = std::current_exception();
      }
      h.done_.store(true, std::memory_order_release);
    });
  }

 private:
  std::thread thread_;
  std::atomic<bool> done_{true};
  std::exception_ptr error_;
};

}  // namespace fulcrum::comm
