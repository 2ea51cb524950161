// SPDX-License-Identifier: Apache-2.0
// pack() with a caller's executor (core/executor.hpp, runtime/thread_pool.hpp): the histogram
// path's parallel histogram and CSR build give exactly the serial plan, for any thread count;
// thread_pool runs every task once and rethrows a task's exception.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/packing/pack.hpp>
#include <fulcrum/runtime/thread_pool.hpp>
#include <fulcrum/testing/checkers.hpp>

using namespace fulcrum;

namespace {

bool same_plan(const packing& a, const packing& b) {
  if (a.bins.size() != b.bins.size() || a.loads != b.loads || a.lower_bound != b.lower_bound ||
      a.proven_optimal != b.proven_optimal)
    return false;
  for (std::size_t g = 0; g < a.bins.size(); ++g)
    if (!std::equal(a.bins[g].begin(), a.bins[g].end(), b.bins[g].begin(), b.bins[g].end())) return false;
  return true;
}

// Runs tasks in reverse order on the calling thread: a legal executor that would expose any
// dependence of the result on task order.
struct reversed_executor {
  std::size_t width;
  [[nodiscard]] std::size_t concurrency() const { return width; }
  void bulk(std::size_t tasks, task_ref task) const {
    for (std::size_t i = tasks; i-- > 0;) task(i);
  }
};

}  // namespace

TEST_SUITE("packing") {
  TEST_CASE("pack with an executor gives the serial plan") {
    thread_pool two(2);
    thread_pool five(5);
    reversed_executor reversed{7};
    rng r(11);
    for (int t = 0; t < 24; ++t) {
      const std::size_t n = (std::size_t{1} << 16) + static_cast<std::size_t>(r.below(150000));
      const std::uint64_t c = 1 + r.below(t % 2 == 0 ? 300 : 9000);
      std::vector<std::uint32_t> s(n);
      for (auto& x : s) x = static_cast<std::uint32_t>(r.below(t % 3 == 0 ? c / 4 + 1 : c + 1));
      CAPTURE(t);
      const auto serial = pack(s, c, pack_options{.algorithm = pack_algorithm::histogram});
      REQUIRE(testing::check_exactly_once(serial.bins, n));
      const auto on_two = pack(s, c, pack_options{.algorithm = pack_algorithm::histogram, .executor = two});
      const auto on_five = pack(s, c, pack_options{.executor = five});
      const auto on_reversed = pack(s, c, pack_options{.executor = reversed});
      CHECK(same_plan(serial, on_two));
      CHECK(same_plan(serial, on_five));
      CHECK(same_plan(serial, on_reversed));
    }
  }

  TEST_CASE("thread_pool runs every task once and rethrows a task's exception") {
    thread_pool pool(3);
    CHECK(pool.concurrency() == 3);
    for (std::size_t tasks : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{17}, std::size_t{1000}}) {
      std::vector<std::atomic<int>> hits(tasks);
      pool.bulk(tasks, task_ref([&](std::size_t i) { hits[i].fetch_add(1); }));
      CHECK(std::all_of(hits.begin(), hits.end(), [](const std::atomic<int>& h) { return h.load() == 1; }));
    }
    CHECK_THROWS_AS(pool.bulk(8, task_ref([](std::size_t i) {
                                if (i == 5) throw std::runtime_error("task 5");
                              })),
                    std::runtime_error);
    std::atomic<int> after{0};
    pool.bulk(4, task_ref([&](std::size_t) { after.fetch_add(1); }));
    CHECK(after.load() == 4);  // usable after an exception
    const executor_ref none;
    CHECK(none.concurrency() == 1);
    CHECK_FALSE(none.parallel());
  }
}
