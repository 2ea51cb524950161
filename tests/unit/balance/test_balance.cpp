// The balance() front door (every algorithm, equal counts, part capacity, errors, determinism)
// and balance_phases. (balance_two_level: test_two_level.cpp.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/phases.hpp>
#include <fulcrum/core/hash.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/testing/checkers.hpp>
#include <fulcrum/testing/workloads.hpp>

#include "balance_brute_force.hpp"

using namespace fulcrum;

namespace {

constexpr balance_algorithm all_algorithms[] = {balance_algorithm::automatic, balance_algorithm::greedy,
                                                balance_algorithm::karmarkar_karp, balance_algorithm::multifit,
                                                balance_algorithm::local_search, balance_algorithm::complete};

std::uint64_t plan_hash(const grouping& g) {
  // FNV-1a over offsets and indices, from the basis the golden hashes below were pinned with.
  return fnv1a64{1469598103934665603ull}.integers(g.offsets()).integers(g.indices()).value();
}

void check_valid(const partition& p, std::span<const cost_t> c, std::size_t k) {
  REQUIRE(p.parts.size() == k);
  REQUIRE(testing::check_exactly_once(p.parts, c.size()));
  REQUIRE(testing::check_loads(p.parts, c, std::span<const cost_t>(p.loads)));
  REQUIRE(testing::check_bound(p.makespan, p.lower_bound));
}

bool counts_equal(const grouping& g) {
  std::size_t lo = std::numeric_limits<std::size_t>::max(), hi = 0;
  for (std::size_t p = 0; p < g.size(); ++p) lo = std::min(lo, g.group_size(p)), hi = std::max(hi, g.group_size(p));
  return hi - lo <= 1;
}

}  // namespace

TEST_SUITE("balance") {
  TEST_CASE("balance(): every algorithm - with and without equal counts - against brute force") {
    rng gen(21);
    for (int trial = 0; trial < 600; ++trial) {
      const std::size_t n = gen.below(10);
      const std::size_t k = 1 + gen.below(4);
      std::vector<cost_t> c(n);
      for (auto& x : c) x = static_cast<double>(1 + gen.below(40));
      const bool eq = trial % 2 == 1;
      const double opt = fulcrum_test::brute_force(c, k, eq).solve();
      for (auto alg : all_algorithms) {
        balance_options o;
        o.algorithm = alg;
        o.equal_counts = eq;
        const auto p = balance(c, k, o);
        check_valid(p, c, k);
        CHECK(testing::check_bound(p.makespan, opt));
        CHECK(testing::check_bound(opt, p.lower_bound));
        if (eq) CHECK(counts_equal(p.parts));
        if (p.proven_optimal) CHECK(p.makespan == doctest::Approx(opt));
        if (alg == balance_algorithm::complete) CHECK(p.makespan == doctest::Approx(opt));
      }
    }
  }

  TEST_CASE("balance(): part_capacity is met when feasible and reported infeasible otherwise") {
    rng gen(22);
    for (int trial = 0; trial < 300; ++trial) {
      const std::size_t n = 1 + gen.below(9);
      const std::size_t k = 1 + gen.below(4);
      std::vector<cost_t> c(n);
      for (auto& x : c) x = static_cast<double>(1 + gen.below(30));
      const bool eq = trial % 3 == 0;
      const double opt = fulcrum_test::brute_force(c, k, eq).solve();
      for (auto alg : all_algorithms) {
        balance_options o;
        o.algorithm = alg;
        o.equal_counts = eq;
        o.part_capacity = opt;  // tight: only optimal plans fit
        const auto p = balance(c, k, o);
        check_valid(p, c, k);
        CHECK(p.makespan <= opt);
        if (eq) CHECK(counts_equal(p.parts));
        o.part_capacity = opt - 0.5;
        CHECK_THROWS_AS((void)balance(c, k, o), infeasible);
      }
    }
  }

  TEST_CASE("balance(): clear errors for bad input") {
    const std::vector<cost_t> c{3, 1, 2};
    CHECK_THROWS_WITH_AS((void)balance(c, 0), doctest::Contains("balance: k = 0"), invalid_input);
    CHECK_THROWS_WITH_AS((void)balance(std::vector<cost_t>{1, -1}, 2), doctest::Contains("cost[1] = -1: is negative"), invalid_input);
    CHECK_THROWS_WITH_AS((void)balance(std::vector<cost_t>{std::nan(""), 1}, 2), doctest::Contains("cost[0] = nan: is NaN"),
                         invalid_input);
    balance_options o;
    o.part_capacity = 0;
    CHECK_THROWS_WITH_AS((void)balance(c, 2, o), doctest::Contains("part_capacity = 0: must be positive"), invalid_input);
    o.part_capacity = std::nan("");
    CHECK_THROWS_AS((void)balance(c, 2, o), invalid_input);
    o.part_capacity = 2.5;
    CHECK_THROWS_WITH_AS((void)balance(c, 2, o), doctest::Contains("cost[0] = 3: exceeds part_capacity = 2.5"), infeasible);
    o.part_capacity = 2;
    CHECK_THROWS_WITH_AS((void)balance(std::vector<cost_t>{2, 2, 2}, 2, o),
                         doctest::Contains("part_capacity = 2: is below the makespan lower bound 4"), infeasible);
    const auto empty = balance(std::vector<cost_t>{}, 3);
    CHECK(empty.parts.size() == 3);
    CHECK(empty.makespan == 0);
    CHECK(empty.proven_optimal);
  }

  TEST_CASE("balance(): automatic on W1 N=65536 k=512 under L + L^2/4096 reaches makespan/bound <= 1.0001") {
    const auto w1 = testing::generate_w1(65536);
    const auto p = balance(w1, 512, {}, attention_cost{}, tokens_of{});
    std::vector<cost_t> c;
    for (const auto& s : w1) c.push_back(attention_cost{}(s.tokens()));
    check_valid(p, c, 512);
    CHECK(p.makespan / p.lower_bound <= 1.0001);
    balance_options eq;
    eq.equal_counts = true;
    const auto q = balance(w1, 512, eq, attention_cost{}, tokens_of{});
    check_valid(q, c, 512);
    CHECK(counts_equal(q.parts));
    CHECK(q.makespan / q.lower_bound <= 1.0001);
  }

  TEST_CASE("balance(): deterministic plans (same hash across runs - golden hashes pin the platform-independent plan)") {
    const auto w1 = testing::generate_w1(20000, 99);
    for (auto alg : {balance_algorithm::automatic, balance_algorithm::greedy, balance_algorithm::karmarkar_karp,
                     balance_algorithm::multifit, balance_algorithm::local_search}) {
      balance_options o;
      o.algorithm = alg;
      const auto a = balance(w1, 64, o, attention_cost{}, tokens_of{});
      const auto b = balance(w1, 64, o, attention_cost{}, tokens_of{});
      CHECK(plan_hash(a.parts) == plan_hash(b.parts));
      CHECK(a.loads == b.loads);
      // automatic: LPT + local search, then pairwise re-splits (detail/pair_resplit.hpp).
      const std::uint64_t golden = alg == balance_algorithm::automatic      ? 2359155181566605626ull
                                   : alg == balance_algorithm::local_search ? 4664718701454991559ull
                                   : alg == balance_algorithm::greedy         ? 9146684237707454671ull
                                   : alg == balance_algorithm::karmarkar_karp ? 14592026139174638633ull
                                                                              : 1631269780988379525ull;
      CHECK_MESSAGE(plan_hash(a.parts) == golden, "algorithm " << static_cast<int>(alg));
    }
    // Ties break by item index: equal costs go round-robin in index order.
    const std::vector<cost_t> equal(6, 1.0);
    balance_options o;
    o.algorithm = balance_algorithm::greedy;
    CHECK(balance(equal, 3, o).parts.assignment(6) == std::vector<index_type>{0, 1, 2, 0, 1, 2});
  }

  TEST_CASE("balance_phases: two balanced plans - consistent ranks/slots/transfer lists - samples kept in place") {
    const auto w1 = testing::generate_w1(5000, 17);
    const auto vision_cost = projected_cost{linear_cost{576.0, 0.0}, images_of{}};
    const auto llm_cost = projected_cost{attention_cost{}, tokens_of{}};
    const std::size_t k = 16;
    const auto plan = balance_phases(w1, k, vision_cost, llm_cost);
    const std::size_t n = w1.size();
    std::vector<cost_t> vc, lc;
    for (const auto& s : w1) vc.push_back(vision_cost(s)), lc.push_back(llm_cost(s));
    check_valid(plan.vision, vc, k);
    check_valid(plan.llm, lc, k);
    CHECK(plan.vision.makespan / plan.vision.lower_bound < 1.001);
    CHECK(plan.llm.makespan / plan.llm.lower_bound < 1.0001);
    // Relabelling keeps the LLM plan as good as balancing the LLM phase alone.
    CHECK(plan.llm.makespan == doctest::Approx(balance(lc, k).makespan));
    REQUIRE(testing::check_exactly_once(plan.transfer, n));
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) {
      CHECK(plan.vision.parts[plan.vision_rank[i]][plan.vision_slot[i]] == i);
      CHECK(plan.llm.parts[plan.llm_rank[i]][plan.llm_slot[i]] == i);
      kept += plan.vision_rank[i] == plan.llm_rank[i];
    }
    CHECK(kept == plan.samples_kept);
    CHECK(kept > n / k);  // better than a random labelling
    for (std::size_t s = 0; s < k; ++s)
      for (std::size_t d = 0; d < k; ++d) {
        const auto list = plan.transfer[s * k + d];
        for (std::size_t j = 0; j < list.size(); ++j) {
          CHECK(plan.vision_rank[list[j]] == s);
          CHECK(plan.llm_rank[list[j]] == d);
          if (j > 0) CHECK(plan.vision_slot[list[j - 1]] < plan.vision_slot[list[j]]);
        }
      }
    CHECK_THROWS_WITH_AS((void)balance_phases(w1, 0, vision_cost, llm_cost), doctest::Contains("k = 0"), invalid_input);
  }
}
