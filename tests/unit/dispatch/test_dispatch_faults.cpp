// Failures during a dispatch: a fault injected at every collective, on several ranks, as a
// notified failure, a silent failure, a dropped rank and a straggler; a rank that throws; a
// rank that never calls dispatch. Every rank must end with an exception (comm_error on the
// peers), nobody may hang, and a retry must deliver every sample exactly once.
#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>

#include <fulcrum/comm/fault_injecting.hpp>
#include <fulcrum/comm/thread_world.hpp>
#include <fulcrum/dispatch/dispatch.hpp>
#include <fulcrum/testing/dispatch_checks.hpp>

namespace fc = fulcrum::comm;
namespace ft = fulcrum::testing;
using fulcrum::multimodal_sample;
using endpoint = fc::thread_world::endpoint;
using namespace std::chrono_literals;

namespace {

const auto llm_cost = fulcrum::projected_cost{fulcrum::attention_cost{}, fulcrum::tokens_of{}};
constexpr std::size_t ranks = 6;
constexpr std::size_t samples = 120;
std::size_t small_payload(std::size_t g) { return 4 + g % 29; }

fc::thread_world::options with_timeout(std::chrono::milliseconds t) {
  fc::thread_world::options o;
  o.timeout = t;
  return o;
}

/// One dispatch per rank through fault_injecting; returns each rank's exception.
std::vector<std::exception_ptr> faulty_dispatch(fc::thread_world& world, fc::fault_plan plan) {
  return world.try_run([&](endpoint& ep) {
    fc::fault_injecting<endpoint> c(ep, plan);
    const auto local = ft::w1_local_batch(samples, ep.rank(), ranks, small_payload);
    (void)fulcrum::dispatch(c, local, llm_cost, 2);
  });
}

/// A clean dispatch on the same world: everything exactly once.
void retry_delivers_everything(fc::thread_world& world) {
  world.run([&](endpoint& c) {
    const auto local = ft::w1_local_batch(samples, c.rank(), ranks, small_payload);
    const auto r = fulcrum::dispatch(c, local, llm_cost, 2);
    const auto verdict = ft::check_dispatch(c, local, r);
    if (!verdict) throw std::runtime_error(verdict.message);
  });
}

void every_rank_failed_with_comm_error(const std::vector<std::exception_ptr>& errors) {
  for (std::size_t r = 0; r < errors.size(); ++r) {
    CAPTURE(r);
    REQUIRE(errors[r]);
    CHECK_THROWS_AS(std::rethrow_exception(errors[r]), fulcrum::comm_error);
  }
}

std::uint64_t collectives_per_dispatch() {
  fc::thread_world world(ranks, with_timeout(60s));
  const auto counts = world.run([&](endpoint& ep) {
    fc::fault_injecting<endpoint> c(ep, {});
    (void)fulcrum::dispatch(c, ft::w1_local_batch(samples, ep.rank(), ranks, small_payload), llm_cost, 2);
    return c.collectives();
  });
  return counts[0];
}

}  // namespace

TEST_SUITE("dispatch") {
  TEST_CASE("a failure at every collective of dispatch reaches every rank - and a retry delivers everything") {
    const auto k = collectives_per_dispatch();
    CHECK(k == 4);
    fc::thread_world world(ranks, with_timeout(60s));  // notified failures need no timeout
    for (std::uint64_t at = 0; at < k; ++at)
      for (std::size_t bad : {std::size_t{0}, std::size_t{3}, ranks - 1}) {
        CAPTURE(at);
        CAPTURE(bad);
        fc::fault_plan plan;
        plan.kind = fc::fault_kind::fail;
        plan.rank = bad;
        plan.at = at;
        every_rank_failed_with_comm_error(faulty_dispatch(world, plan));
        CHECK(world.failed_rank() == bad);
        retry_delivers_everything(world);
      }
  }

  TEST_CASE("a silent failure or a dropped rank becomes comm_error everywhere after the timeout") {
    const auto k = collectives_per_dispatch();
    fc::thread_world world(ranks, with_timeout(250ms));
    for (std::uint64_t at = 0; at < k; ++at) {
      CAPTURE(at);
      fc::fault_plan silent;
      silent.kind = fc::fault_kind::fail;
      silent.notify = false;
      silent.rank = at % ranks;
      silent.at = at;
      const auto t0 = std::chrono::steady_clock::now();
      every_rank_failed_with_comm_error(faulty_dispatch(world, silent));
      CHECK(std::chrono::steady_clock::now() - t0 < 30s);  // bounded by the timeout, not a hang
      fc::fault_plan drop;
      drop.kind = fc::fault_kind::drop;
      drop.rank = (at + 1) % ranks;
      drop.at = at;
      drop.delay = 400ms;
      every_rank_failed_with_comm_error(faulty_dispatch(world, drop));
    }
    retry_delivers_everything(world);
  }

  TEST_CASE("a straggler shorter than the timeout is harmless - a longer one fails everywhere") {
    fc::thread_world patient(ranks, with_timeout(60s));
    fc::fault_plan slow;
    slow.kind = fc::fault_kind::delay;
    slow.rank = 2;
    slow.at = 1;
    slow.delay = 20ms;
    for (const auto& e : faulty_dispatch(patient, slow)) CHECK_FALSE(e);
    fc::thread_world strict(ranks, with_timeout(100ms));
    slow.delay = 600ms;
    every_rank_failed_with_comm_error(faulty_dispatch(strict, slow));
    retry_delivers_everything(strict);
  }

  TEST_CASE("a rank whose planner throws: that rank gets its error - the others comm_error") {
    fc::thread_world world(ranks, with_timeout(60s));
    const auto errors = world.try_run([&](endpoint& c) {
      auto planner = [&](const fulcrum::planning_input<multimodal_sample>& in) {
        if (c.rank() == 4) throw std::runtime_error("planner exploded on rank 4");
        return fulcrum::lpt_planner{}(in);
      };
      (void)fulcrum::dispatch(c, ft::w1_local_batch(samples, c.rank(), ranks, small_payload), llm_cost, {}, planner);
    });
    for (std::size_t r = 0; r < ranks; ++r) {
      CAPTURE(r);
      REQUIRE(errors[r]);
      if (r == 4) CHECK_THROWS_WITH_AS(std::rethrow_exception(errors[r]), "planner exploded on rank 4", std::runtime_error);
      else CHECK_THROWS_AS(std::rethrow_exception(errors[r]), fulcrum::comm_error);
    }
    CHECK(world.failed_rank() == 4);
    CHECK_THROWS_WITH_AS(world.run([](endpoint& c) { if (c.rank() == 1) throw std::logic_error("boom"); c.barrier(); }),
                         "boom", std::logic_error);
  }

  TEST_CASE("a rank that never calls dispatch: the others time out with comm_error") {
    fc::thread_world world(4, with_timeout(200ms));
    const auto errors = world.try_run([&](endpoint& c) {
      if (c.rank() == 0) return;  // leaves without a word
      (void)fulcrum::dispatch(c, ft::w1_local_batch(40, c.rank(), 4, small_payload), llm_cost, 1);
    });
    CHECK_FALSE(errors[0]);
    for (std::size_t r = 1; r < 4; ++r) {
      REQUIRE(errors[r]);
      CHECK_THROWS_AS(std::rethrow_exception(errors[r]), fulcrum::comm_error);
    }
  }

  TEST_CASE("collectives that differ between ranks are detected - not mixed up") {
    fc::thread_world world(3, with_timeout(60s));
    const auto errors = world.try_run([](endpoint& c) {
      std::vector<int> v(2, 1), out(2), gathered(3);
      if (c.rank() == 1) fc::all_gather(c, std::span<const int>(v.data(), 1), gathered);
      else fc::all_reduce(c, v, out, std::plus<>{});
    });
    for (const auto& e : errors) {
      REQUIRE(e);
      CHECK_THROWS_AS(std::rethrow_exception(e), fulcrum::comm_error);
    }
  }
}
