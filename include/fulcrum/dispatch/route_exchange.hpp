// SPDX-License-Identifier: Apache-2.0
/// @file dispatch/route_exchange.hpp
/// `exchange_along`: moves real payloads along one route of an orchestrator plan
/// (dispatch/orchestrator.hpp), forward or backward (`route.reversed()`), with the flat or the
/// hierarchical all-to-all (comm/hierarchical.hpp); `start_exchange_along` is the nonblocking form.
///
/// What (collective): rank s packs, for every d, the payloads of route.between(s, d) in list order
/// (`payload_of(item)` returns them; each must have route.item_bytes[item] bytes, else
/// invalid_input naming the item, after aborting the communicator); one all_to_all_v; rank d
/// unpacks, sender by sender, in list order. Receive sizes come from the plan, so no size exchange.
/// The result lists every item received with its sender and bytes: exactly the items of
/// route.between(*, me), each once. O(k + bytes) per rank plus the exchange.
/// Routes with entry_bytes (into a context_parallel phase: an item split over several ranks):
/// payload_of(item) returns every byte of the item this rank sends along the route (forward: the
/// whole item; backward: the shares it holds, in ascending destination order); the entries take
/// consecutive slices of it, destination by destination in ascending order, each entry_bytes long,
/// and the receiver gets one payload per entry (the backward route returns an item's shares
/// sender by sender, in ascending order, which is the order of its bytes). O(items) more per rank.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/comm/hierarchical.hpp"
#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/dispatch/orchestrator.hpp"
#include "fulcrum/dispatch/sample_batch.hpp"

namespace fulcrum {

/// What one rank received along a route.
struct route_delivery {
  std::vector<index_type> items;  ///< items (of the sending side's phase), sender by sender, in list order
  std::vector<index_type> from;   ///< from[i]: rank that sent items[i]
  byte_table payloads;            ///< payloads[i]: bytes of items[i]
};

/// A route exchange in flight: buffers and the progress thread (see start_exchange_along).
struct pending_route_exchange {
  std::vector<std::byte> send, recv;
  std::vector<std::size_t> send_counts, recv_counts;
  comm::exchange_handle handle;
  const phase_route* route = nullptr;
  std::size_t me = 0;
  [[nodiscard]] bool test() const noexcept { return handle.test(); }
  /// Waits for the exchange and unpacks it (rethrows comm_error from the exchange).
  [[nodiscard]] route_delivery wait() {
    handle.wait();
    route_delivery out;
    const std::size_t k = route->ranks;
    std::size_t at = 0;
    for (std::size_t s = 0; s < k; ++s)
      for (std::size_t y = 0; y < route->between(s, me).size(); ++y) {
        const index_type i = route->between(s, me)[y];
        const auto len = static_cast<std::size_t>(route->entry_bytes.empty()
                                                      ? route->item_bytes[i]
                                                      : route->entry_bytes[route->lists.offsets()[s * k + me] + y]);
        out.items.push_back(i);
        out.from.push_back(static_cast<index_type>(s));
        out.payloads.push_back(std::span<const std::byte>(recv).subspan(at, len));
        at += len;
      }
    return out;
  }
};

namespace detail {

template <communicator C, class PayloadOf>
void pack_route(C& c, const phase_route& route, PayloadOf& payload_of, pending_route_exchange& x) {
  const std::size_t k = route.ranks, me = comm::rank(c);
  if (comm::size(c) != k) {
    comm::abort(c, "exchange_along: the route's ranks differ from the communicator size");
    throw invalid_input(describe("exchange_along", "route.ranks", k, "differs from the communicator size"));
  }
  x.route = &route;
  x.me = me;
  x.send_counts.assign(k, 0);
  x.recv_counts.assign(k, 0);
  try {
    if (!route.entry_bytes.empty()) {
      // Every entry takes the next slice of its item's payload, destinations ascending.
      std::vector<std::uint64_t> total(route.item_bytes.size(), 0), taken(route.item_bytes.size(), 0);
      for (std::size_t d = 0; d < k; ++d) {
        const std::size_t first = route.lists.offsets()[me * k + d];
        const auto g = route.between(me, d);
        for (std::size_t y = 0; y < g.size(); ++y) total[g[y]] += route.entry_bytes[first + y];
      }
      std::vector<std::span<const std::byte>> held(route.item_bytes.size());
      std::vector<char> got(route.item_bytes.size(), 0);
      for (std::size_t d = 0; d < k; ++d) {
        const std::size_t first = route.lists.offsets()[me * k + d];
        const auto g = route.between(me, d);
        for (std::size_t y = 0; y < g.size(); ++y) {
          const index_type i = g[y];
          if (got[i] == 0) {
            got[i] = 1;
            held[i] = payload_of(i);
            if (held[i].size() != total[i])
              throw invalid_input(
                  describe("exchange_along", "payload_of", i, held[i].size(),
                           "differs from the bytes this rank sends of the item " + std::to_string(total[i])));
          }
          const auto len = static_cast<std::size_t>(route.entry_bytes[first + y]);
          const auto part = held[i].subspan(static_cast<std::size_t>(taken[i]), len);
          taken[i] += len;
          x.send.insert(x.send.end(), part.begin(), part.end());
          x.send_counts[d] += len;
        }
        x.recv_counts[d] = static_cast<std::size_t>(route.bytes[d * k + me]);
      }
    } else
      for (std::size_t d = 0; d < k; ++d) {
        for (const index_type i : route.between(me, d)) {
          const std::span<const std::byte> pl = payload_of(i);
          if (pl.size() != route.item_bytes[i])
            throw invalid_input(describe("exchange_along", "payload_of", i, pl.size(),
                                         "differs from the route's item_bytes " + std::to_string(route.item_bytes[i])));
          x.send.insert(x.send.end(), pl.begin(), pl.end());
          x.send_counts[d] += pl.size();
        }
        x.recv_counts[d] = static_cast<std::size_t>(route.bytes[d * k + me]);
      }
  } catch (const std::exception& e) {
    comm::abort(c, e.what());
    throw;
  }
  std::size_t total = 0;
  for (const auto v : x.recv_counts) total += v;
  x.recv.resize(total);
}

}  // namespace detail

/// Nonblocking: packs, then starts the exchange on a progress thread; `wait()` unpacks. The
/// route and `c` must outlive the wait, and `c` must not be used until then.
template <communicator C, class PayloadOf>
void start_exchange_along(C& c, const phase_route& route, PayloadOf payload_of, pending_route_exchange& x,
                          comm::exchange_method method = comm::exchange_method::flat, std::size_t ranks_per_node = 0) {
  detail::pack_route(c, route, payload_of, x);
  x.handle.start(c, std::span<const std::byte>(x.send), std::span<const std::size_t>(x.send_counts),
                 std::span<std::byte>(x.recv), std::span<const std::size_t>(x.recv_counts), method, ranks_per_node);
}

/// Blocking: see the file comment.
template <communicator C, class PayloadOf>
[[nodiscard]] route_delivery exchange_along(C& c, const phase_route& route, PayloadOf payload_of,
                                            comm::exchange_method method = comm::exchange_method::flat,
                                            std::size_t ranks_per_node = 0) {
  pending_route_exchange x;
  detail::pack_route(c, route, payload_of, x);
  if (method == comm::exchange_method::hierarchical)
    comm::hierarchical_all_to_all_v(c, std::span<const std::byte>(x.send), std::span<const std::size_t>(x.send_counts),
                                    std::span<std::byte>(x.recv), std::span<const std::size_t>(x.recv_counts),
                                    ranks_per_node);
  else
    comm::detail::all_to_all_v_bytes(c, std::span<const std::byte>(x.send), std::span<const std::size_t>(x.send_counts),
                                     std::span<std::byte>(x.recv), std::span<const std::size_t>(x.recv_counts));
  return x.wait();
}

}  // namespace fulcrum
