// SPDX-License-Identifier: Apache-2.0
// balance() with a caller-owned workspace and result (balance/balance.hpp, "Per-step use"): zero
// heap allocations on repeated calls (counted by replacing the global operator new in this test
// executable), plans identical to the value-returning overload for every algorithm (one workspace
// reused across sizes, part counts and cost models), independent structure checks (every item
// exactly once, loads recomputed), bad input (the same errors, the workspace usable after), one
// workspace per thread, and the arena itself (core/workspace.hpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/core/cost_model.hpp>
#include <fulcrum/core/detail/scratch.hpp>
#include <fulcrum/core/workspace.hpp>
#include <fulcrum/testing/workloads.hpp>

#include "../../support/counting_new.hpp"  // counts heap allocations (test_support::allocations)

using namespace fulcrum;

namespace {

void require_same(const partition& a, const partition& b) {
  REQUIRE(a.parts.offsets().size() == b.parts.offsets().size());
  REQUIRE(std::equal(a.parts.offsets().begin(), a.parts.offsets().end(), b.parts.offsets().begin()));
  REQUIRE(a.parts.indices().size() == b.parts.indices().size());
  REQUIRE(std::equal(a.parts.indices().begin(), a.parts.indices().end(), b.parts.indices().begin()));
  REQUIRE(a.loads == b.loads);  // bit-identical doubles
  REQUIRE(a.makespan == b.makespan);
  REQUIRE(a.lower_bound == b.lower_bound);
  REQUIRE(a.proven_optimal == b.proven_optimal);
}

/// Every item exactly once, k parts, each load recomputed (index order), makespan the max.
void require_valid(const partition& p, const std::vector<double>& costs, std::size_t k, bool equal_counts) {
  REQUIRE(p.parts.size() == k);
  std::vector<int> seen(costs.size(), 0);
  double makespan = 0;
  for (std::size_t g = 0; g < k; ++g) {
    std::vector<index_type> items(p.parts[g].begin(), p.parts[g].end());
    REQUIRE(std::is_sorted(items.begin(), items.end()));
    double load = 0;
    for (const auto i : items) {
      REQUIRE(i < costs.size());
      ++seen[i];
      load += costs[i];
    }
    REQUIRE(p.loads[g] == load);
    makespan = std::max(makespan, load);
    if (equal_counts) {
      REQUIRE(items.size() >= costs.size() / k);
      REQUIRE(items.size() <= (costs.size() + k - 1) / k);
    }
  }
  for (const int s : seen) REQUIRE(s == 1);
  REQUIRE(p.makespan == makespan);
  REQUIRE(p.lower_bound <= p.makespan);
}

std::vector<double> w1_costs(std::size_t n, std::uint64_t seed) {
  std::vector<double> c;
  for (const auto t : testing::generate_w1_tokens(n, seed)) c.push_back(attention_cost{}(t));
  return c;
}

}  // namespace

TEST_CASE("balance workspace: zero heap allocations on repeated calls") {
  workspace ws;
  partition out;
  const auto tokens = testing::generate_w1_tokens(4096);
  for (const bool equal_counts : {false, true})
    for (const balance_algorithm a :
         {balance_algorithm::automatic, balance_algorithm::greedy, balance_algorithm::karmarkar_karp,
          balance_algorithm::multifit, balance_algorithm::local_search}) {
      CAPTURE(equal_counts);
      CAPTURE(to_string(a));
      balance_options o;
      o.algorithm = a;
      o.equal_counts = equal_counts;
      for (int i = 0; i < 3; ++i) balance(tokens, 256, ws, out, o, attention_cost{});
      const std::size_t blocks = ws.blocks_allocated();
      const std::size_t before = test_support::allocations.load();
      for (int i = 0; i < 5; ++i) balance(tokens, 256, ws, out, o, attention_cost{});
      CHECK(test_support::allocations.load() - before == 0);
      CHECK(ws.blocks_allocated() == blocks);
      REQUIRE(out.parts.size() == 256);
    }
  SUBCASE("W1 65536 onto 64 with equal counts (the Python benchmark row)") {
    const auto big = testing::generate_w1_tokens(65536);
    balance_options o;
    o.equal_counts = true;
    const attention_cost cost{24576, 1, 0};
    for (int i = 0; i < 2; ++i) balance(big, 64, ws, out, o, cost);
    const std::size_t before = test_support::allocations.load();
    balance(big, 64, ws, out, o, cost);
    CHECK(test_support::allocations.load() - before == 0);
    CHECK(ws.peak() > 0);
    CHECK(ws.capacity() >= ws.peak());
  }
}

TEST_CASE("balance workspace: plans identical to the value overload") {
  workspace ws;  // one workspace and one result across every shape below
  partition out;
  for (const std::size_t n : {0u, 1u, 5u, 64u, 300u, 3000u})
    for (const std::size_t k : {1u, 2u, 7u, 64u})
      for (const bool equal_counts : {false, true})
        for (const balance_algorithm a :
             {balance_algorithm::automatic, balance_algorithm::greedy, balance_algorithm::karmarkar_karp,
              balance_algorithm::multifit, balance_algorithm::local_search, balance_algorithm::complete}) {
          if (a == balance_algorithm::complete && n > 64) continue;
          CAPTURE(n);
          CAPTURE(k);
          CAPTURE(equal_counts);
          CAPTURE(to_string(a));
          const auto costs = w1_costs(n, 7 + n);
          balance_options o;
          o.algorithm = a;
          o.equal_counts = equal_counts;
          o.limits.nodes = 20'000;  // keeps `complete` short; a node budget is deterministic
          balance(costs, k, ws, out, o);
          require_same(out, balance(costs, k, o));
          require_valid(out, costs, k, equal_counts);
        }
  SUBCASE("a part capacity that the first plan misses (the fallbacks)") {
    const auto costs = w1_costs(200, 3);
    balance_options o;
    o.algorithm = balance_algorithm::greedy;
    const partition free_plan = balance(costs, 8, o);
    o.part_capacity = free_plan.makespan * (1 - 1e-9);
    bool fits = true;
    partition value;
    try {
      value = balance(costs, 8, o);
    } catch (const infeasible&) {
      fits = false;
    }
    if (fits) {
      balance(costs, 8, ws, out, o);
      require_same(out, value);
      require_valid(out, costs, 8, false);
      REQUIRE(out.makespan <= o.part_capacity);
    } else {
      CHECK_THROWS_AS(balance(costs, 8, ws, out, o), infeasible);
    }
  }
  SUBCASE("projection and cost model as in the value overload") {
    struct sample {
      std::uint32_t tokens;
    };
    std::vector<sample> samples;
    for (const auto t : testing::generate_w1_tokens(500, 5)) samples.push_back({t});
    const linear_cost cost{2.0, 3.0};
    balance(samples, 9, ws, out, balance_options{}, cost, &sample::tokens);
    require_same(out, balance(samples, 9, balance_options{}, cost, &sample::tokens));
  }
}

TEST_CASE("balance workspace: bad input gives the same errors and the workspace stays usable") {
  workspace ws;
  partition out;
  const std::vector<double> good{5, 4, 3, 3, 2, 1};
  balance(good, 2, ws, out);
  const auto message = [](auto&& call) -> std::string {
    try {
      call();
    } catch (const invalid_input& e) {
      return e.what();
    }
    return "no error";
  };
  const std::vector<double> with_nan{1, std::nan(""), 2};
  const std::vector<double> negative{1, -2, 2};
  CHECK(message([&] { balance(with_nan, 2, ws, out); }) == message([&] { (void)balance(with_nan, 2); }));
  CHECK(message([&] { balance(negative, 2, ws, out); }) == message([&] { (void)balance(negative, 2); }));
  CHECK(message([&] { balance(good, 0, ws, out); }) == message([&] { (void)balance(good, 0); }));
  balance_options bad_cap;
  bad_cap.part_capacity = 0;
  CHECK(message([&] { balance(good, 2, ws, out, bad_cap); }) == message([&] { (void)balance(good, 2, bad_cap); }));
  CHECK(message([&] { balance(good, 2, ws, out); }) == "no error");
  require_same(out, balance(good, 2));
}

TEST_CASE("balance workspace: one per thread") {
  const auto costs = w1_costs(2000, 11);
  const partition expected = balance(costs, 16);
  SUBCASE("each thread with its own workspace gets the same plan") {
    std::vector<partition> results(4);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < results.size(); ++t)
      threads.emplace_back([&, t] {
        workspace ws;
        for (int i = 0; i < 3; ++i) balance(costs, 16, ws, results[t]);
      });
    for (auto& th : threads) th.join();
    for (const auto& r : results) require_same(r, expected);
  }
  SUBCASE("a workspace in use by another thread is refused") {
    workspace ws;
    partition out;
    const detail::workspace_scope busy(&ws);  // this thread is using ws
    std::string error;
    std::thread other([&] {
      try {
        balance(costs, 16, ws, out);
      } catch (const invalid_input& e) {
        error = e.what();
      }
    });
    other.join();
    CHECK(error.find("workspace") != std::string::npos);
  }
}

TEST_CASE("workspace arena: blocks merge - memory is reused - buffers freed on any thread") {
  workspace ws;
  CHECK(ws.capacity() == 0);
  const auto use = [&](std::size_t count, std::size_t bytes) {
    const detail::workspace_scope scope(&ws);
    std::vector<detail::scratch_vector<std::uint64_t>> buffers;
    for (std::size_t i = 0; i < count; ++i) {
      buffers.emplace_back(bytes / 8, i);
      REQUIRE(reinterpret_cast<std::uintptr_t>(buffers.back().data()) % 16 == 0);
    }
    for (std::size_t i = 0; i < count; ++i)
      for (const auto v : buffers[i]) REQUIRE(v == i);  // no two buffers overlap
  };
  use(8, 100'000);  // several blocks
  const std::size_t merged = ws.capacity();
  CHECK(merged >= 800'000);
  const std::size_t blocks = ws.blocks_allocated();
  use(8, 100'000);  // fits the merged block: no new one
  CHECK(ws.blocks_allocated() == blocks);
  CHECK(ws.capacity() == merged);
  CHECK(ws.peak() >= 800'000);

  // A buffer made without a workspace and freed while one is active goes back to the heap, and
  // one freed on another thread is released correctly too.
  auto outside = std::make_unique<detail::scratch_vector<int>>(1000, 1);
  {
    const detail::workspace_scope scope(&ws);
    outside.reset();
    detail::scratch_vector<int> inside(1000, 2);
    std::thread([v = std::move(inside)]() mutable {
      v.clear();
      v.shrink_to_fit();
    }).join();
  }
  workspace moved = std::move(ws);
  CHECK(moved.capacity() == merged);
  CHECK(ws.capacity() == 0);  // NOLINT(bugprone-use-after-move): a moved-from workspace is empty
  moved.release();
  CHECK(moved.capacity() == 0);
}
