// Conformance suite on every CPU backend: single_rank, thread_world (1..64 ranks),
// any_communicator over both, fault_injecting with no fault, and a minimal backend that only
// has the one required member (so every CPO fallback is exercised).
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <functional>

#include <fulcrum/comm/any_communicator.hpp>
#include <fulcrum/comm/fault_injecting.hpp>
#include <fulcrum/comm/single_rank.hpp>
#include <fulcrum/comm/thread_world.hpp>
#include <fulcrum/testing/communicator_conformance.hpp>

namespace fc = fulcrum::comm;
using fulcrum::testing::run_communicator_conformance;

namespace {

/// Only rank(), size() and all_gather_v(): every other collective goes through the fallbacks.
struct minimal {
  fc::thread_world::endpoint* inner;
  std::size_t rank() const { return inner->rank(); }
  std::size_t size() const { return inner->size(); }
  void all_gather_v(std::span<const std::byte> in, std::span<std::byte> out, std::span<const std::size_t> counts) {
    inner->all_gather_v(in, out, counts);
  }
};
static_assert(fulcrum::communicator<minimal>);

fc::thread_world::options quick() {
  fc::thread_world::options o;
  o.timeout = std::chrono::seconds(60);
  return o;
}

}  // namespace

TEST_SUITE("comm") {
  TEST_CASE("single_rank passes the conformance suite") {
    fc::single_rank c;
    CHECK(run_communicator_conformance(c) > 40);
  }

  TEST_CASE("thread_world passes the conformance suite for 1..64 ranks") {
    for (std::size_t p : {1u, 2u, 3u, 4u, 5u, 7u, 8u, 13u, 16u, 31u, 64u}) {
      CAPTURE(p);
      fc::thread_world world(p, quick());
      fulcrum::testing::conformance_options opts;
      opts.max_elements = p > 16 ? 16 : 96;
      const auto passed = world.run([&](fc::thread_world::endpoint& c) { return run_communicator_conformance(c, opts); });
      REQUIRE(passed.size() == p);
      for (auto n : passed) CHECK(n == passed[0]);
      CHECK(passed[0] > 40);
    }
  }

  TEST_CASE("a backend with only all_gather_v passes through the fallbacks") {
    for (std::size_t p : {1u, 3u, 8u}) {
      CAPTURE(p);
      fc::thread_world world(p, quick());
      world.run([](fc::thread_world::endpoint& ep) {
        minimal c{&ep};
        run_communicator_conformance(c);
      });
    }
  }

  TEST_CASE("any_communicator (owning and referencing) passes the conformance suite") {
    fc::any_communicator solo{fc::single_rank{}};
    CHECK(run_communicator_conformance(solo) > 40);
    fc::thread_world world(6, quick());
    world.run([](fc::thread_world::endpoint& ep) {
      fc::any_communicator by_ref{std::ref(ep)};
      run_communicator_conformance(by_ref);
      fc::any_communicator by_value{ep};
      run_communicator_conformance(by_value);
      // typed facade
      std::vector<double> in{1.0, double(ep.rank())}, out(2);
      by_ref.all_reduce(std::span<const double>(in), std::span<double>(out), fulcrum::max_op{});
      CHECK(out[1] == 5.0);
    });
  }

  TEST_CASE("fault_injecting without a fault is transparent") {
    fc::thread_world world(5, quick());
    const auto counts = world.run([](fc::thread_world::endpoint& ep) {
      fc::fault_injecting<fc::thread_world::endpoint> c(ep, {});
      run_communicator_conformance(c);
      return c.collectives();
    });
    for (auto n : counts) CHECK(n == counts[0]);
    CHECK(counts[0] > 50);
  }
}
