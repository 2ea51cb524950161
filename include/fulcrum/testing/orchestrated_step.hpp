// SPDX-License-Identifier: Apache-2.0
/// @file testing/orchestrated_step.hpp
/// `run_checked_step`: a whole orchestrated multimodal step with its own checks, for the tests of
/// the orchestrator, the node-wise exchange and fault injection (thread_world and MPI).
/// O(bytes + k^2) per rank plus the plan.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/comm/hierarchical.hpp"
#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/dispatch/orchestrator.hpp"
#include "fulcrum/dispatch/route_exchange.hpp"
#include "fulcrum/testing/multimodal_step.hpp"
#include "fulcrum/testing/workloads.hpp"

namespace fulcrum::testing {

/// One orchestrated W1 + audio step on this rank of `c` (30 samples per rank, contiguous shards,
/// bytes scaled down 4096x): plan, then every route forward (real payloads, checked byte for
/// byte) and every consumed route backward (gradients back to the producers, checked), then an
/// all_reduce of the verdict (the step's commit). True if every check held on every rank. Collective; comm_error from any collective propagates.
template <communicator C>
[[nodiscard]] bool run_checked_step(C& c, std::size_t g, comm::exchange_method method, std::uint64_t seed) {
  const std::size_t k = comm::size(c), me = comm::rank(c), n = 30 * k;
  const auto all = generate_w1(n, seed);
  const auto audio_all = generate_w1_audio(n, seed);
  const std::size_t lo = me * n / k, hi = (me + 1) * n / k;
  multimodal_step_options so;
  so.bytes_divisor = 4096;
  const auto local =
      multimodal_phases(std::span(all).subspan(lo, hi - lo), std::span(audio_all).subspan(lo, hi - lo), so);
  orchestrator_options o;
  o.ranks_per_node = g;
  const auto plan = orchestrate_distributed(c, hi - lo, local, o);
  auto fill = [](std::uint64_t tag, std::size_t len) {
    std::vector<std::byte> v(len);
    for (std::size_t j = 0; j < len; ++j) v[j] = static_cast<std::byte>((tag * 131 + j) & 0xff);
    return v;
  };
  bool ok = true;
  for (const auto& rt : plan.routes) {
    const std::uint64_t tag0 = rt.from_phase == phase_route::origin ? 1000 : rt.from_phase;
    std::vector<std::vector<std::byte>> store(rt.item_bytes.size());
    auto payload = [&](index_type i) -> std::span<const std::byte> {
      store[i] = fill(tag0 * 1000003 + i, static_cast<std::size_t>(rt.item_bytes[i]));
      return store[i];
    };
    const auto got = exchange_along(c, rt, payload, method, g);
    // Exactly the items the route lists for this rank, each with its bytes.
    std::size_t expect = 0;
    for (std::size_t s = 0; s < k; ++s) expect += rt.between(s, me).size();
    ok = ok && got.items.size() == expect;
    for (std::size_t x = 0; x < got.items.size(); ++x) {
      const auto want = fill(tag0 * 1000003 + got.items[x], static_cast<std::size_t>(rt.item_bytes[got.items[x]]));
      const auto have = got.payloads[x];
      ok = ok && have.size() == want.size() && std::memcmp(have.data(), want.data(), want.size()) == 0;
    }
    if (rt.from_phase == phase_route::origin) continue;
    // Backward: gradients (here: the payload reversed) return to the producer ranks.
    const auto back = rt.reversed();
    std::vector<std::vector<std::byte>> grads(rt.item_bytes.size());
    for (std::size_t x = 0; x < got.items.size(); ++x) {
      const auto pl = got.payloads[x];
      grads[got.items[x]].assign(pl.rbegin(), pl.rend());
    }
    const auto returned = exchange_along(
        c, back, [&](index_type i) { return std::span<const std::byte>(grads[i]); }, method, g);
    std::size_t mine = 0;
    for (std::size_t i = 0; i < rt.item_bytes.size(); ++i) mine += plan.phases[rt.from_phase].rank[i] == me;
    ok = ok && returned.items.size() == mine;
    for (std::size_t x = 0; x < returned.items.size(); ++x) {
      const auto i = returned.items[x];
      ok = ok && plan.phases[rt.from_phase].rank[i] == me;  // back at the rank that produced it
      auto want = fill(tag0 * 1000003 + i, static_cast<std::size_t>(rt.item_bytes[i]));
      std::reverse(want.begin(), want.end());
      const auto have = returned.payloads[x];
      ok = ok && have.size() == want.size() && std::memcmp(have.data(), want.data(), want.size()) == 0;
    }
  }
  // The step's commit: outputs count only once every rank agrees (a trainer's gradient all-reduce
  // plays this part). Without it, ranks whose last exchange had nothing to do with a failed rank
  // could finish a step that failed elsewhere (MPI point-to-point exchanges skip empty messages).
  return comm::all_reduce(c, static_cast<int>(ok), min_op{}) != 0;
}

}  // namespace fulcrum::testing
