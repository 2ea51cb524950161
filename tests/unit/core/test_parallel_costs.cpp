// SPDX-License-Identifier: Apache-2.0
// evaluate_costs on a caller's executor: the same costs as the serial evaluation, and bad costs
// reported at the lowest bad index, whatever the chunking.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/two_level.hpp>
#include <fulcrum/core/cost_model.hpp>
#include <fulcrum/core/error.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/runtime/thread_pool.hpp>

using namespace fulcrum;

TEST_SUITE("core") {
  TEST_CASE("evaluate_costs on a thread_pool equals the serial evaluation") {
    thread_pool pool(3);
    rng r(5);
    std::vector<std::uint32_t> lengths(200003);
    for (auto& l : lengths) l = static_cast<std::uint32_t>(1 + r.below(30000));
    const attention_cost model{.a = 24576.0, .b = 1.0};
    const auto serial = evaluate_costs(lengths, model);
    const auto parallel = evaluate_costs(lengths, model, std::identity{}, "test", pool);
    REQUIRE(serial.size() == lengths.size());
    CHECK(serial == parallel);  // bit for bit
  }

  TEST_CASE("balance and balance_two_level with an executor give the serial plan") {
    thread_pool pool(2);
    rng r(9);
    std::vector<std::uint32_t> lengths(70001);
    for (auto& l : lengths) l = static_cast<std::uint32_t>(1 + r.below(9000));
    const attention_cost model{.a = 1.0, .b = 1.0 / 4096.0};
    const auto serial = balance(lengths, 64, balance_options{}, model);
    const auto parallel = balance(lengths, 64, balance_options{.executor = pool}, model);
    CHECK(std::equal(serial.parts.offsets().begin(), serial.parts.offsets().end(), parallel.parts.offsets().begin(),
                     parallel.parts.offsets().end()));
    CHECK(std::equal(serial.parts.indices().begin(), serial.parts.indices().end(), parallel.parts.indices().begin(),
                     parallel.parts.indices().end()));
    CHECK(serial.loads == parallel.loads);
    const auto two = balance_two_level(lengths, 8, 4, balance_options{}, model);
    const auto two_parallel = balance_two_level(lengths, 8, 4, balance_options{.executor = pool}, model);
    CHECK(two.micro_batch_loads == two_parallel.micro_batch_loads);
    CHECK(std::equal(two.ranks.parts.indices().begin(), two.ranks.parts.indices().end(),
                     two_parallel.ranks.parts.indices().begin(), two_parallel.ranks.parts.indices().end()));
  }

  TEST_CASE("evaluate_costs on a thread_pool names the lowest bad index") {
    thread_pool pool(4);
    std::vector<double> costs(100000, 1.0);
    costs[77777] = -1.0;
    costs[31337] = std::numeric_limits<double>::quiet_NaN();
    try {
      (void)evaluate_costs(costs, identity_cost{}, std::identity{}, "test", pool);
      FAIL("no exception");
    } catch (const invalid_input& e) {
      CHECK(std::string(e.what()).find("31337") != std::string::npos);
    }
  }
}
