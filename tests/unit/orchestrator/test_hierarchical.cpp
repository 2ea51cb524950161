// The node-wise all-to-all (comm/hierarchical.hpp) and route exchanges (dispatch/route_exchange.hpp)
// on thread_world: the conformance suite, byte-for-byte equality with the flat exchange on random
// count matrices, the cost model's counts recomputed, the nonblocking form, and fault injection at
// every collective of a whole orchestrated step (plan + every route forward and backward).
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <vector>

#include <fulcrum/comm/fault_injecting.hpp>
#include <fulcrum/comm/hierarchical.hpp>
#include <fulcrum/comm/thread_world.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/dispatch/orchestrator.hpp>
#include <fulcrum/dispatch/route_exchange.hpp>
#include <fulcrum/testing/communicator_conformance.hpp>
#include <fulcrum/testing/multimodal_step.hpp>
#include <fulcrum/testing/orchestrated_step.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace fc = fulcrum::comm;
using endpoint = fc::thread_world::endpoint;
using namespace std::chrono_literals;

namespace {

// Counts: from s to d, a pseudo-random length with many zeros; byte j of that block = f(s, d, j).
std::size_t count_of(std::size_t s, std::size_t d, std::uint64_t seed) {
  fulcrum::rng g(seed * 1000003 + s * 1009 + d);
  const auto u = g.below(10);
  return u < 3 ? 0 : static_cast<std::size_t>(g.below(200));
}
std::byte byte_of(std::size_t s, std::size_t d, std::size_t j) {
  return static_cast<std::byte>((s * 31 + d * 7 + j) & 0xff);
}

}  // namespace

TEST_CASE("hierarchical all-to-all: passes the communicator conformance suite on thread_world") {
  for (auto [p, g] : {std::pair<std::size_t, std::size_t>{8, 4}, {8, 2}, {6, 3}, {16, 4}, {5, 2}, {4, 4}}) {
    fc::thread_world world(p);
    const auto passed = world.run([g = g](endpoint& ep) {
      fc::hierarchical_communicator<endpoint> h(ep, g);
      return fulcrum::testing::run_communicator_conformance(h);
    });
    for (auto v : passed) CHECK(v > 40);
  }
}

TEST_CASE("hierarchical all-to-all: equals the flat exchange byte for byte") {
  for (auto [p, g] : {std::pair<std::size_t, std::size_t>{8, 4}, {16, 4}, {12, 3}, {16, 8}}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      fc::thread_world world(p);
      world.run([&, p = p, g = g](endpoint& ep) {
        const std::size_t me = ep.rank();
        std::vector<std::size_t> sc(p), rc(p);
        std::vector<std::byte> in;
        for (std::size_t d = 0; d < p; ++d) {
          sc[d] = count_of(me, d, seed);
          rc[d] = count_of(d, me, seed);
          for (std::size_t j = 0; j < sc[d]; ++j) in.push_back(byte_of(me, d, j));
        }
        std::size_t total = 0;
        for (auto v : rc) total += v;
        std::vector<std::byte> flat(total), hier(total);
        fc::all_to_all_v(ep, in, sc, flat, rc);
        fc::hierarchical_all_to_all_v(ep, in, sc, hier, rc, g);
        CHECK(flat == hier);
        std::size_t at = 0;
        for (std::size_t s = 0; s < p; ++s)
          for (std::size_t j = 0; j < rc[s]; ++j) CHECK(hier[at++] == byte_of(s, me, j));
        // Nonblocking: start, poll while "computing", wait.
        std::vector<std::byte> nb(total);
        fc::exchange_handle hnd;
        hnd.start(ep, std::span<const std::byte>(in), std::span<const std::size_t>(sc), std::span<std::byte>(nb),
                  std::span<const std::size_t>(rc), fc::exchange_method::hierarchical, g);
        std::uint64_t spins = 0;
        while (!hnd.test()) ++spins;
        hnd.wait();
        CHECK(nb == flat);
      });
    }
  }
}

TEST_CASE("hierarchical all-to-all: the cost model counts messages and bytes as defined") {
  const std::size_t k = 8, g = 4;
  std::vector<std::uint64_t> m(k * k);
  for (std::size_t s = 0; s < k; ++s)
    for (std::size_t d = 0; d < k; ++d) m[s * k + d] = count_of(s, d, 9);
  const auto e = fc::choose_exchange(m, k, g);
  std::uint64_t inter = 0, msgs = 0, hmsgs = 0;
  for (std::size_t s = 0; s < k; ++s)
    for (std::size_t d = 0; d < k; ++d)
      if (s / g != d / g && m[s * k + d] > 0) {
        inter += m[s * k + d];
        ++msgs;
      }
  // Hierarchical: relay (a, l) -> (b, l) for b != a, non-empty if some (a, j) sends to (b, l).
  for (std::size_t relay = 0; relay < k; ++relay)
    for (std::size_t b = 0; b < k / g; ++b) {
      if (b == relay / g) continue;
      std::uint64_t x = 0;
      for (std::size_t j = 0; j < g; ++j) x += m[((relay / g) * g + j) * k + b * g + relay % g];
      if (x) ++hmsgs;
    }
  CHECK(e.inter_node_bytes == inter);
  CHECK(e.flat_inter_messages == msgs);
  CHECK(e.hier_inter_messages == hmsgs);
  CHECK(e.hier_inter_messages <= e.flat_inter_messages);
  // Tiny messages: latency dominates, hierarchical wins; one huge inter-node block: flat wins.
  std::vector<std::uint64_t> tiny(k * k, 64), huge(k * k, 0);
  CHECK(fc::choose_exchange(tiny, k, g).method == fc::exchange_method::hierarchical);
  huge[0 * k + 4] = 1ull << 30;
  CHECK(fc::choose_exchange(huge, k, g).method == fc::exchange_method::flat);
  CHECK(fc::choose_exchange(tiny, k, 0).method == fc::exchange_method::flat);  // one node
  CHECK_THROWS_AS((void)fc::choose_exchange(tiny, k + 1, g), fulcrum::invalid_input);
}

TEST_CASE("route exchange: a whole step forward and backward delivers every item exactly once") {
  for (auto method : {fc::exchange_method::flat, fc::exchange_method::hierarchical}) {
    fc::thread_world world(8);
    const auto oks = world.run([&](endpoint& ep) { return fulcrum::testing::run_checked_step(ep, 4, method, 11); });
    for (const bool b : oks) CHECK(b);
  }
}

TEST_CASE("route exchange: a fault at every collective of a step surfaces on every rank without a hang") {
  const std::size_t p = 8, g = 4;
  // Count the collectives of one step.
  std::uint64_t collectives = 0;
  {
    fc::thread_world world(p);
    world.run([&](endpoint& ep) {
      fc::fault_injecting<endpoint> f(ep, {});
      fc::hierarchical_communicator<fc::fault_injecting<endpoint>> h(f, g);
      CHECK(fulcrum::testing::run_checked_step(h, g, fc::exchange_method::flat, 3));
      if (ep.rank() == 0) collectives = f.collectives();
    });
  }
  REQUIRE(collectives > 10);
  MESSAGE("collectives per step: " << collectives);
  for (auto kind : {fc::fault_kind::fail, fc::fault_kind::drop}) {
    for (bool notify : {true, false}) {
      if (kind == fc::fault_kind::drop && notify) continue;
      for (std::uint64_t at = 0; at < collectives; ++at) {
        fc::thread_world world(p, fc::thread_world_options{notify ? 10s : 200ms});
        fc::fault_plan plan;
        plan.kind = kind;
        plan.rank = static_cast<std::size_t>(at % p);
        plan.at = at;
        plan.notify = notify;
        plan.delay = 300ms;
        const auto t0 = std::chrono::steady_clock::now();
        const auto errors = world.try_run([&](endpoint& ep) {
          fc::fault_injecting<endpoint> f(ep, plan);
          fc::hierarchical_communicator<fc::fault_injecting<endpoint>> h(f, g);
          (void)fulcrum::testing::run_checked_step(
              h, g, at % 2 ? fc::exchange_method::hierarchical : fc::exchange_method::flat, 3);
        });
        CHECK(std::chrono::steady_clock::now() - t0 < 5s);
        for (std::size_t r = 0; r < p; ++r) {
          INFO("fault at collective " << at << " on rank " << plan.rank << ", rank " << r);
          REQUIRE(errors[r]);
          CHECK_THROWS_AS(std::rethrow_exception(errors[r]), fulcrum::comm_error);
        }
      }
    }
  }
}

TEST_CASE("route exchange: the nonblocking form overlaps and rethrows a peer's failure") {
  fc::thread_world world(4, fc::thread_world_options{2s});
  const auto errors = world.try_run([&](endpoint& ep) {
    std::vector<fulcrum::index_type> origin{0, 1, 2, 3};
    std::vector<fulcrum::orchestrator_phase> ph(1);
    ph[0].name = "llm";
    ph[0].costs = {4, 1, 1, 1};
    ph[0].input_bytes = {8, 8, 8, 8};
    ph[0].mode = fulcrum::phase_mode::scratch;
    fulcrum::orchestrator_options o;
    o.ranks = 4;
    const auto plan = fulcrum::orchestrate(origin, ph, o);
    fc::fault_plan fp;
    fp.kind = ep.rank() == 1 ? fc::fault_kind::fail : fc::fault_kind::none;
    fp.rank = 1;
    fc::fault_injecting<endpoint> f(ep, fp);
    const std::vector<std::byte> data(8, std::byte{7});
    fulcrum::pending_route_exchange x;
    fulcrum::start_exchange_along(
        f, plan.routes[0], [&](fulcrum::index_type) { return std::span<const std::byte>(data); }, x);
    (void)x.wait();
  });
  for (const auto& e : errors) CHECK_THROWS_AS(std::rethrow_exception(e), fulcrum::comm_error);
}
