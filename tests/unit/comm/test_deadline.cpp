// Deadlines of the communicators: a timeout too large for the steady clock means "no timeout"
// (it used to overflow now() + timeout into the past, so every collective failed at once).
#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include <fulcrum/comm/detail/deadline.hpp>
#include <fulcrum/comm/thread_world.hpp>
#include <fulcrum/core/error.hpp>
#include <fulcrum/testing/communicator_conformance.hpp>

namespace fc = fulcrum::comm;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

TEST_SUITE("comm") {
  TEST_CASE("deadline_after saturates instead of overflowing") {
    const auto now = clock_type::now();
    CHECK(fc::detail::is_unbounded(fc::detail::deadline_after(milliseconds::max(), now)));
    CHECK(fc::detail::is_unbounded(fc::detail::deadline_after(milliseconds::max())));
    CHECK(fc::detail::deadline_after(milliseconds(0), now) == now);
    CHECK(fc::detail::deadline_after(milliseconds(-5), now) == now);
    CHECK(fc::detail::deadline_after(milliseconds::min(), now) == now);
    CHECK(fc::detail::deadline_after(milliseconds(1500), now) == now + milliseconds(1500));
    CHECK_FALSE(fc::detail::is_unbounded(fc::detail::deadline_after(std::chrono::hours(24 * 365), now)));
    // Exactly at the edge of the clock's range: the last representable step and one past it.
    const auto room = std::chrono::floor<milliseconds>(clock_type::time_point::max() - now);
    CHECK(fc::detail::is_unbounded(fc::detail::deadline_after(room, now)));
    CHECK(fc::detail::deadline_after(room - milliseconds(1), now) == now + (room - milliseconds(1)));
    CHECK(fc::detail::deadline_after(room - milliseconds(1), now) > now);
    // A deadline is never before now (the overflow made it so).
    for (auto t : {milliseconds(1), milliseconds(std::int64_t{1} << 40), milliseconds::max() / 2,
                   milliseconds::max() - milliseconds(1)})
      CHECK(fc::detail::deadline_after(t, now) >= now);
    // A clock reading of max() stays max().
    CHECK(fc::detail::is_unbounded(fc::detail::deadline_after(milliseconds(1), clock_type::time_point::max())));
  }

  TEST_CASE("thread_world with timeout milliseconds max never times out") {
    fc::thread_world::options opts;
    opts.timeout = milliseconds::max();
    for (std::size_t p : {2u, 3u, 8u}) {
      CAPTURE(p);
      fc::thread_world world(p, opts);
      // Every collective waits for a late rank: with the overflowing deadline the others gave up at once.
      const auto sums = world.run([](fc::thread_world::endpoint& ep) {
        if (ep.rank() == 0) std::this_thread::sleep_for(milliseconds(30));
        ep.barrier();
        if (ep.rank() == ep.size() - 1) std::this_thread::sleep_for(milliseconds(10));
        return fc::all_reduce(ep, static_cast<double>(ep.rank() + 1), std::plus<>{});
      });
      for (double s : sums) CHECK(s == static_cast<double>(p * (p + 1) / 2));
      const auto passed =
          world.run([](fc::thread_world::endpoint& ep) { return fulcrum::testing::run_communicator_conformance(ep); });
      for (auto n : passed) CHECK(n == passed[0]);
      CHECK(passed[0] > 40);
    }
  }

  TEST_CASE("thread_world with a short timeout still times out") {
    fc::thread_world::options opts;
    opts.timeout = milliseconds(50);
    fc::thread_world world(2, opts);
    CHECK_THROWS_AS(world.run([](fc::thread_world::endpoint& ep) {
      if (ep.rank() == 0) ep.barrier();  // rank 1 never arrives
    }),
                    fulcrum::comm_error);
  }
}
