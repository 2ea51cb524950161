// The arithmetic rule of balancing (balance/detail/sums.hpp, docs/balance.md "Arithmetic"): loads
// are index-order sums, a plan fits iff every load <= part_capacity, bounds never exceed the
// optimum under that rule. Regression tests for issue 15 (non-integer costs) and a property test
// of every algorithm against brute force with sevenths, tenths and mixed magnitudes.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/complete.hpp>
#include <fulcrum/balance/karmarkar_karp.hpp>
#include <fulcrum/balance/local_search.hpp>
#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/balance/multifit.hpp>
#include <fulcrum/balance/phases.hpp>
#include <fulcrum/balance/post_balance.hpp>
#include <fulcrum/balance/two_level.hpp>
#include <fulcrum/core/bounds.hpp>
#include <fulcrum/core/validate.hpp>

#include "balance_brute_force.hpp"

using namespace fulcrum;

namespace {

constexpr balance_algorithm all_algorithms[] = {balance_algorithm::automatic,      balance_algorithm::greedy,
                                                balance_algorithm::karmarkar_karp, balance_algorithm::multifit,
                                                balance_algorithm::complete,       balance_algorithm::local_search};

/// Loads recomputed by the rule: per part, costs summed in increasing item index order.
std::vector<double> rule_loads(const partition& p, const std::vector<double>& costs, std::size_t k) {
  std::vector<double> loads(k, 0.0);
  std::vector<std::size_t> part_of(costs.size(), k);
  for (std::size_t g = 0; g < p.parts.size(); ++g)
    for (index_type i : p.parts[g]) part_of[i] = g;
  for (std::size_t i = 0; i < costs.size(); ++i) loads[part_of[i]] += costs[i];
  return loads;
}

/// Every check of the property test on one plan; `opt` = brute-force optimum under the constraints.
void check_plan(const partition& p, const std::vector<double>& costs, std::size_t k, bool equal_counts, double cap,
                double opt, const std::string& what) {
  INFO(what);
  REQUIRE(p.parts.size() == k);
  std::vector<int> seen(costs.size(), 0);
  for (std::size_t g = 0; g < k; ++g) {
    for (index_type i : p.parts[g]) ++seen[i];
    if (equal_counts) {
      CHECK(p.parts.group_size(g) >= costs.size() / k);
      CHECK(p.parts.group_size(g) <= (costs.size() + k - 1) / k);
    }
  }
  for (int s : seen) REQUIRE(s == 1);
  const auto loads = rule_loads(p, costs, k);
  double makespan = 0;
  for (std::size_t g = 0; g < k; ++g) {
    CHECK(loads[g] == p.loads[g]);  // bit for bit
    makespan = std::max(makespan, loads[g]);
  }
  CHECK(makespan == p.makespan);
  CHECK(p.makespan <= cap);
  CHECK(p.lower_bound <= opt);
  CHECK(opt <= p.makespan);
  CHECK(p.gap() >= 0);
  if (p.proven_optimal) CHECK(p.makespan == opt);
}

std::string describe_instance(const std::vector<double>& c, std::size_t k, bool eq, double cap, balance_algorithm a) {
  std::string s = "k=" + std::to_string(k) + " eq=" + std::to_string(eq) +
                  " alg=" + std::to_string(static_cast<int>(a)) + " cap=" + std::to_string(cap) + " costs:";
  char buf[40];
  for (double x : c) {
    std::snprintf(buf, sizeof buf, " %.17g", x);
    s += buf;
  }
  return s;
}

}  // namespace

TEST_CASE("arithmetic rule: equal counts with k = 1 never reports a bound above the makespan") {
  const std::vector<double> c{0.3, 0.2, 0.1};  // 0.3 + 0.2 + 0.1 != 0.3 + 0.1 + 0.2 in doubles
  for (balance_algorithm a : all_algorithms) {
    balance_options o;
    o.algorithm = a;
    o.equal_counts = true;
    const auto p = balance(c, 1, o);
    CHECK(p.lower_bound <= p.makespan);
    CHECK(p.gap() >= 0);
    CHECK(p.proven_optimal);  // one part: the only plan
  }
}

TEST_CASE("arithmetic rule: a plan capped at the optimum stays within the capacity bit for bit") {
  // On the old code greedy/karmarkar_karp/multifit returned makespan 2.7000000000000002 for the
  // capacity 2.6999999999999997 (the complete search summed in another order than the check).
  const std::vector<double> c{0.4, 1.2, 1.0, 0.3, 1.1, 0.4, 0.9};
  fulcrum_test::brute_force bf(c, 2);
  const double opt = bf.solve();
  for (balance_algorithm a : all_algorithms) {
    balance_options o;
    o.algorithm = a;
    o.part_capacity = opt;
    const auto p = balance(c, 2, o);
    check_plan(p, c, 2, false, opt, opt, describe_instance(c, 2, false, opt, a));
  }
}

TEST_CASE("arithmetic rule: the capped complete search finds what the uncapped one finds at the cap") {
  // Both refused with "no assignment keeps every part within it" on the old code.
  struct instance {
    std::vector<double> c;
    std::size_t k;
    bool eq;
  };
  const std::vector<instance> cases{
      {{4, 1.2857142857142858, 3.8571428571428572, 3.5714285714285716, 3.5714285714285716}, 2, true},
      {{2, 1.1000000000000001, 0.29999999999999999, 1.2}, 1, false},
      {{0.9, 1000000000.4, 1000000001, 0.30000000000000004, 0.30000000000000004, 0.6, 1000000001}, 2, true},
  };
  for (const auto& t : cases) {
    balance_options o;
    o.algorithm = balance_algorithm::complete;
    o.equal_counts = t.eq;
    const auto free_plan = complete_balance(t.c, t.k, o);
    fulcrum_test::brute_force bf(t.c, t.k, t.eq);
    const double opt = bf.solve();
    check_plan(free_plan, t.c, t.k, t.eq, std::numeric_limits<double>::infinity(), opt, "uncapped");
    o.part_capacity = free_plan.makespan;
    const auto capped = complete_balance(t.c, t.k, o);
    check_plan(capped, t.c, t.k, t.eq, o.part_capacity, opt, "capped at the uncapped makespan");
  }
}

TEST_CASE("arithmetic rule: proven_optimal only for the true optimum with mixed magnitudes") {
  // The old complete search called 2000000001.6999998 optimal here (the optimum is lower) and its
  // bound exceeded the optimum.
  const std::vector<double> c{0.9, 1000000000.4, 1000000001, 0.30000000000000004, 0.30000000000000004, 0.6, 1000000001};
  balance_options o;
  o.algorithm = balance_algorithm::complete;
  o.equal_counts = true;
  fulcrum_test::brute_force bf(c, 2, true);
  check_plan(balance(c, 2, o), c, 2, true, std::numeric_limits<double>::infinity(), bf.solve(), "mixed magnitudes");
}

TEST_CASE("arithmetic rule: property test of every algorithm against brute force") {
  std::mt19937_64 rng(20261201);
  std::uint64_t plans = 0;
  for (int t = 0; t < 1500; ++t) {
    const std::size_t n = 1 + rng() % 8, k = 1 + rng() % 3;
    std::vector<double> c(n);
    const int family = t % 4;
    for (auto& x : c) {
      switch (family) {
        case 0:
          x = static_cast<double>(rng() % 20) / 10.0;
          break;  // tenths (and 0)
        case 1:
          x = static_cast<double>(1 + rng() % 30) / 7.0;
          break;  // sevenths
        case 2:
          x = (rng() % 2 ? 1e9 : 0.0) + static_cast<double>(1 + rng() % 9) / 10.0;
          break;  // 1e9 + 0.1
        default:
          x = static_cast<double>(rng() % 4) / 2.0;
          break;  // halves: exact sums
      }
    }
    const bool eq = rng() % 2;
    fulcrum_test::brute_force free_bf(c, k, eq);
    const double opt = free_bf.solve();
    // Capacities: none, exactly the optimum, one ulp below it (infeasible), and in between.
    const double caps[] = {std::numeric_limits<double>::infinity(), opt, std::nextafter(opt, 0.0),
                           opt + (opt - (opt > 0 ? opt * 0.9 : 0)) / 2};
    for (double cap : caps) {
      if (!(cap > 0)) continue;
      fulcrum_test::brute_force capped_bf(c, k, eq, cap);
      const double capped_opt = capped_bf.solve();
      for (balance_algorithm a : all_algorithms) {
        balance_options o;
        o.algorithm = a;
        o.equal_counts = eq;
        o.part_capacity = cap;
        const std::string what = describe_instance(c, k, eq, cap, a);
        if (capped_opt == std::numeric_limits<double>::infinity()) {
          INFO(what);
          CHECK_THROWS_AS((void)balance(c, k, o), infeasible);
          continue;
        }
        try {
          check_plan(balance(c, k, o), c, k, eq, cap, capped_opt, what);
          ++plans;
        } catch (const infeasible& e) {
          FAIL_CHECK(what << " refused: " << e.what());
        }
      }
    }
  }
  CHECK(plans > 10000);
}

TEST_CASE("arithmetic rule: the free heuristics report sound bounds with non-integer costs") {
  // multifit() and local_search() used core's sum/k, which can exceed the optimum by an ulp.
  std::mt19937_64 rng(7);
  for (int t = 0; t < 400; ++t) {
    const std::size_t n = 2 + rng() % 7, k = 2 + rng() % 2;
    std::vector<double> c(n);
    for (auto& x : c) x = static_cast<double>(1 + rng() % 30) / 7.0;
    fulcrum_test::brute_force bf(c, k);
    const double opt = bf.solve();
    CHECK(multifit(c, k).lower_bound <= opt);
    CHECK(local_search(c, k).lower_bound <= opt);
  }
}

TEST_CASE("arithmetic rule: lpt and karmarkar_karp report a bound at most the optimum") {
  // lpt() and karmarkar_karp() reported core's max(sum/k, ...), whose index-order sum / k can
  // exceed the optimum by an ulp: 2.8000000000000003 > 2.8 here, and gap() < 0.
  struct instance {
    std::vector<double> c;
    std::size_t k;
  };
  const std::vector<instance> cases{
      {{0.5, 1.8, 1.0, 1.6, 0.7, 2.8}, 3},
      {{29 / 7.0, 1 / 7.0, 22 / 7.0, 30 / 7.0, 20 / 7.0, 2 / 7.0}, 2},
  };
  for (const auto& t : cases) {
    fulcrum_test::brute_force bf(t.c, t.k);
    const double opt = bf.solve();
    for (const partition& p : {lpt(t.c, t.k), karmarkar_karp(t.c, t.k)}) {
      CHECK(p.lower_bound <= opt);
      CHECK(p.lower_bound <= p.makespan);
      CHECK(p.gap() >= 0);
    }
  }
}

TEST_CASE("arithmetic rule: lpt and karmarkar_karp bounds are sound on sevenths tenths and 1e9 + 0.1") {
  std::mt19937_64 rng(15);
  int checked = 0;
  for (int t = 0; t < 3000; ++t) {
    const std::size_t n = 2 + rng() % 7, k = 1 + rng() % 3;
    std::vector<double> c(n);
    for (auto& x : c) {
      switch (t % 4) {
        case 0:
          x = static_cast<double>(1 + rng() % 30) / 7.0;
          break;
        case 1:
          x = static_cast<double>(1 + rng() % 30) / 10.0;
          break;
        case 2:
          x = 1e9 + static_cast<double>(rng() % 5) + 0.1;
          break;
        default:
          x = static_cast<double>(rng() % 4) * 0.5;
          break;  // exact sums: bound unchanged
      }
    }
    fulcrum_test::brute_force bf(c, k);
    const double opt = bf.solve();
    for (const partition& p : {lpt(c, k), karmarkar_karp(c, k)}) {
      INFO("t = " << t << " k = " << k);
      REQUIRE(p.lower_bound <= opt);
      REQUIRE(p.gap() >= 0);
      if (k == 1) CHECK(p.proven_optimal);
      if (t % 4 == 3) CHECK(p.lower_bound == makespan_lower_bound(c, k));
      ++checked;
    }
  }
  CHECK(checked == 6000);
}

TEST_CASE("validation: one item onto 2^31 parts is invalid_input before any allocation") {
  const std::vector<double> c{1.0};
  const std::size_t huge = std::size_t{1} << 31;
  CHECK_THROWS_AS((void)balance(c, huge), invalid_input);
  CHECK_THROWS_WITH_AS((void)balance(c, huge), doctest::Contains("2^24"), invalid_input);
  CHECK_THROWS_AS((void)complete_balance(c, huge), invalid_input);
  CHECK_THROWS_AS((void)multifit(c, huge), invalid_input);
  CHECK_THROWS_AS((void)local_search(c, huge), invalid_input);
  CHECK_THROWS_AS((void)balance(c, max_parts + 1), invalid_input);
  CHECK_NOTHROW((void)balance(std::vector<double>{1.0, 2.0}, 4096));
}

TEST_CASE("validation: post_balance rejects what balance rejects") {
  // A sum that overflows a double: balance() refused it, post_balance accepted it.
  const std::vector<double> c{1e308, 1e308};
  const std::vector<index_type> at{0, 1};
  const std::vector<std::uint64_t> bytes{1, 1};
  CHECK_THROWS_AS((void)balance(c, 2), invalid_input);
  CHECK_THROWS_WITH_AS((void)post_balance(c, at, bytes, 2), doctest::Contains("overflows"), invalid_input);
  const std::vector<double> nan_cost{1.0, std::nan("")};
  CHECK_THROWS_AS((void)post_balance(nan_cost, at, bytes, 2), invalid_input);
  CHECK_THROWS_AS((void)post_balance(std::vector<double>{1.0}, std::vector<index_type>{0},
                                     std::vector<std::uint64_t>{1}, std::size_t{1} << 31),
                  invalid_input);
}

TEST_CASE("validation: two-level and phases share the limit on parts") {
  const std::vector<double> c{1.0, 2.0};
  CHECK_THROWS_AS((void)balance_two_level(c, std::size_t{1} << 20, std::size_t{1} << 11), invalid_input);
  const auto one = [](double x) { return x; };
  volatile std::size_t huge = std::size_t{1} << 31;  // runtime value: k * k must not be folded
  CHECK_THROWS_AS((void)balance_phases(c, huge, one, one), invalid_input);
  volatile std::size_t square_too_big = 4097;
  CHECK_THROWS_AS((void)balance_phases(c, square_too_big, one, one), invalid_input);
}

TEST_CASE("post_balance: every sample starting on one rank is not quadratic") {
  // swap_home scanned every item of the origin rank for every moved item: O(n^2) here.
  const std::size_t n = 200000;
  std::vector<double> c(n);
  std::vector<index_type> at(n, 0);
  std::vector<std::uint64_t> bytes(n);
  for (std::size_t i = 0; i < n; ++i) {
    c[i] = 1.0 + static_cast<double>(i % 7);
    bytes[i] = 1 + i % 5;
  }
  post_balance_options o;
  o.ranks_per_node = 2;
  const auto start = std::chrono::steady_clock::now();
  const auto r = post_balance(c, at, bytes, 2, o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.plan.makespan <= r.target_makespan);
  CHECK(seconds < 20.0);  // minutes on the old code
}
