#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include <fulcrum/balance/complete.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/testing/balance_instances.hpp>
#include <fulcrum/testing/checkers.hpp>

using namespace fulcrum;

namespace {
// Brute force over all k^n assignments (item 0 fixed to part 0: parts are interchangeable): the
// optimal makespan, optionally with equal counts and a capacity. Infinity if nothing is feasible.
struct brute {
  const std::vector<cost_t>& c;
  std::size_t k;
  bool equal_counts;
  double capacity;
  std::vector<double> loads = std::vector<double>(k, 0);
  std::vector<std::size_t> counts = std::vector<std::size_t>(k, 0);
  double best = std::numeric_limits<double>::infinity();
  void go(std::size_t i) {
    if (i == c.size()) {
      double mk = 0;
      for (std::size_t j = 0; j < k; ++j) {
        if (equal_counts && (counts[j] < c.size() / k || counts[j] > (c.size() + k - 1) / k)) return;
        mk = std::max(mk, loads[j]);
      }
      if (mk <= capacity) best = std::min(best, mk);
      return;
    }
    for (std::size_t j = 0; j < (i == 0 ? 1 : k); ++j) {
      loads[j] += c[i];
      ++counts[j];
      go(i + 1);
      loads[j] -= c[i];
      --counts[j];
    }
  }
};
double brute_force(const std::vector<cost_t>& c, std::size_t k, bool equal_counts = false,
                   double capacity = std::numeric_limits<double>::infinity()) {
  if (c.empty()) return 0;
  brute b{c, k, equal_counts, capacity};
  b.go(0);
  return b.best;
}

void check_plan(const partition& p, const std::vector<cost_t>& c, std::size_t k) {
  REQUIRE(p.parts.size() == k);
  const auto once = testing::check_exactly_once(p.parts, c.size());
  REQUIRE_MESSAGE(once, once.message);
  const auto loads = testing::check_loads(p.parts, std::span<const cost_t>(c), std::span<const cost_t>(p.loads));
  REQUIRE_MESSAGE(loads, loads.message);
  const auto bound =
      testing::check_bound(testing::recompute_makespan(p.parts, std::span<const cost_t>(c)), p.lower_bound);
  REQUIRE_MESSAGE(bound, bound.message);
}
}  // namespace

TEST_SUITE("balance") {
  TEST_CASE("complete_balance agrees with brute force on 3000 small integer instances (n <= 10 - k <= 4)") {
    rng gen(11);
    for (int trial = 0; trial < 3000; ++trial) {
      const std::size_t n = gen.below(11);
      const std::size_t k = 1 + gen.below(4);
      const std::uint64_t range = trial % 3 == 0 ? 5 : trial % 3 == 1 ? 60 : 100000;
      std::vector<cost_t> c(n);
      for (auto& x : c) x = static_cast<double>(gen.below(range + 1));
      const auto p = complete_balance(c, k);
      check_plan(p, c, k);
      INFO("trial " << trial << " n " << n << " k " << k);
      CHECK(p.makespan == brute_force(c, k));
      CHECK(p.proven_optimal);
      CHECK(p.lower_bound == p.makespan);
    }
  }

  TEST_CASE("complete_balance agrees with brute force on n = 12 - k <= 3") {
    rng gen(12);
    for (int trial = 0; trial < 40; ++trial) {
      const std::size_t k = 2 + gen.below(2);
      std::vector<cost_t> c(12);
      for (auto& x : c) x = static_cast<double>(1 + gen.below(1000));
      const auto p = complete_balance(c, k);
      check_plan(p, c, k);
      CHECK(p.makespan == brute_force(c, k));
      CHECK(p.proven_optimal);
    }
  }

  TEST_CASE("complete_balance with floating-point costs matches brute force within 1e-12 relative") {
    rng gen(13);
    for (int trial = 0; trial < 1500; ++trial) {
      const std::size_t n = gen.below(10);
      const std::size_t k = 1 + gen.below(4);
      std::vector<cost_t> c(n);
      for (auto& x : c) x = gen.uniform() * 100.0;
      const auto p = complete_balance(c, k);
      check_plan(p, c, k);
      const double opt = brute_force(c, k);
      CHECK(p.makespan <= opt * (1 + 1e-12) + 1e-300);
      CHECK(p.makespan >= opt * (1 - 1e-12));
      CHECK(p.proven_optimal);
    }
  }

  TEST_CASE("complete_balance with equal counts agrees with brute force") {
    rng gen(14);
    for (int trial = 0; trial < 1500; ++trial) {
      const std::size_t n = gen.below(10);
      const std::size_t k = 1 + gen.below(4);
      std::vector<cost_t> c(n);
      for (auto& x : c) x = static_cast<double>(gen.below(trial % 2 ? 8 : 1000));
      balance_options o;
      o.equal_counts = true;
      const auto p = complete_balance(c, k, o);
      check_plan(p, c, k);
      for (std::size_t j = 0; j < k; ++j) {
        CHECK(p.parts.group_size(j) >= n / k);
        CHECK(p.parts.group_size(j) <= (n + k - 1) / k);
      }
      CHECK(p.makespan == brute_force(c, k, true));
      CHECK(p.proven_optimal);
    }
  }

  TEST_CASE("complete_balance with a part capacity: optimal when feasible - infeasible otherwise") {
    rng gen(15);
    int feasible = 0, infeasible_seen = 0;
    for (int trial = 0; trial < 1500; ++trial) {
      const std::size_t n = 1 + gen.below(9);
      const std::size_t k = 1 + gen.below(4);
      std::vector<cost_t> c(n);
      for (auto& x : c) x = static_cast<double>(1 + gen.below(50));
      balance_options o;
      o.equal_counts = trial % 2 == 0;
      o.part_capacity = static_cast<double>(20 + gen.below(100));
      const double opt = brute_force(c, k, o.equal_counts, o.part_capacity);
      if (std::isinf(opt)) {
        CHECK_THROWS_AS((void)complete_balance(c, k, o), infeasible);
        ++infeasible_seen;
        continue;
      }
      const auto p = complete_balance(c, k, o);
      check_plan(p, c, k);
      CHECK(p.makespan <= o.part_capacity);
      CHECK(p.makespan == opt);
      ++feasible;
    }
    CHECK(feasible > 100);
    CHECK(infeasible_seen > 100);
  }

  TEST_CASE("complete_balance proves planted perfect partitions optimal (k = 4..8 - n = 24..48)") {
    for (std::size_t k = 4; k <= 8; ++k)
      for (std::size_t n : {24u, 32u, 40u, 48u}) {
        if (n < 3 * k) continue;
        for (std::uint64_t seed = 0; seed < 3; ++seed) {
          const auto inst = testing::generate_perfect_instance(k, n, 1000 * n / k, seed);
          CHECK(testing::check_exactly_once(grouping::from_assignment(inst.planted, k), n));
          const auto planted = grouping::from_assignment(inst.planted, k);
          for (double l : testing::recompute_loads(planted, std::span<const cost_t>(inst.costs)))
            CHECK(l == inst.part_sum);
          const auto p = complete_balance(inst.costs, k);
          check_plan(p, inst.costs, k);
          CHECK(p.proven_optimal);
          CHECK(p.makespan == inst.part_sum);
        }
      }
  }

  TEST_CASE("complete_balance is anytime: a node limit returns a valid plan with an honest gap - deterministically") {
    const auto inst = testing::generate_perfect_instance(8, 48, 600000, 3);
    balance_options o;
    o.limits.nodes = 2000;
    const auto a = complete_balance(inst.costs, 8, o);
    const auto b = complete_balance(inst.costs, 8, o);
    check_plan(a, inst.costs, 8);
    CHECK(a.parts == b.parts);
    CHECK(a.lower_bound <= inst.part_sum);  // never claims more than the truth
    if (!a.proven_optimal) CHECK(a.gap() > 0);
    o.equal_counts = true;  // the branch-and-bound engine under the same limit
    const auto e = complete_balance(inst.costs, 8, o);
    check_plan(e, inst.costs, 8);
    CHECK(e.lower_bound <= e.makespan);
  }

  TEST_CASE("complete_balance with the bin-packing bound and heuristics: 0 wrong claims against brute force") {
    // Node limit 1: the search barely runs, so every proof comes from the L2 bound raised by binary
    // search over C or from the packing heuristics at C = bound. Each claim is checked against
    // brute force; the raised bound never exceeds the optimum; plans are valid.
    rng gen(23);
    int proven_by_machinery = 0, raised = 0;
    for (int trial = 0; trial < 2000; ++trial) {
      const std::size_t n = 2 + gen.below(9);
      const std::size_t k = 2 + gen.below(3);
      const std::uint64_t range = trial % 4 == 0 ? 6 : trial % 4 == 1 ? 40 : trial % 4 == 2 ? 1000 : 1u << 20;
      std::vector<cost_t> c(n);
      for (auto& x : c) x = static_cast<double>(gen.below(range + 1));
      balance_options o;
      o.limits.nodes = 1;
      const auto strong = detail::complete_balance_impl(c, k, o, true);
      const auto weak = detail::complete_balance_impl(c, k, o, false);
      check_plan(strong, c, k);
      const double opt = brute_force(c, k);
      INFO("trial " << trial << " n " << n << " k " << k);
      CHECK(strong.lower_bound <= opt);
      CHECK(strong.lower_bound >= weak.lower_bound);
      if (strong.proven_optimal) CHECK(strong.makespan == opt);
      if (strong.proven_optimal && !weak.proven_optimal) ++proven_by_machinery;
      if (!weak.proven_optimal && strong.lower_bound > weak.lower_bound) ++raised;
      // Unlimited: the same optimum with and without the machinery, proven both ways.
      const auto full = complete_balance(c, k);
      check_plan(full, c, k);
      CHECK(full.makespan == opt);
      CHECK(full.proven_optimal);
    }
    CHECK(proven_by_machinery > 50);
    CHECK(raised > 10);
  }

  TEST_CASE(
      "complete_balance with the bin-packing machinery and a part capacity: optimal or infeasible as brute force "
      "says") {
    rng gen(29);
    for (int trial = 0; trial < 1500; ++trial) {
      const std::size_t n = 2 + gen.below(8);
      const std::size_t k = 2 + gen.below(3);
      std::vector<cost_t> c(n);
      for (auto& x : c) x = static_cast<double>(1 + gen.below(30));
      balance_options o;
      o.limits.nodes = trial % 2 == 0 ? 1 : 50'000'000;
      o.part_capacity = static_cast<double>(10 + gen.below(60));
      const double opt = brute_force(c, k, false, o.part_capacity);
      INFO("trial " << trial << " capacity " << o.part_capacity);
      if (opt == std::numeric_limits<double>::infinity()) {
        CHECK_THROWS_AS((void)complete_balance(c, k, o), infeasible);
        continue;
      }
      try {
        const auto p = complete_balance(c, k, o);
        check_plan(p, c, k);
        CHECK(p.makespan <= o.part_capacity);
        CHECK(p.lower_bound <= opt);
        if (p.proven_optimal) CHECK(p.makespan == opt);
      } catch (const infeasible&) {
        CHECK(trial % 2 == 0);  // only a search cut short by the node limit may give up
      }
    }
  }

  TEST_CASE(
      "complete_balance: the packing heuristics prove planted perfect partitions the node-limited search misses") {
    // 12-bit-scale items (mean 2^11), n = 60 and 100, k = 5 and 10, 1000 search nodes: the packing
    // heuristics at C = sum / k find perfect plans the bin completion does not reach in its budget.
    int strong_proven = 0, weak_proven = 0;
    for (std::size_t k : {5u, 10u})
      for (std::size_t n : {60u, 100u}) {
        const auto inst = testing::generate_perfect_instance(k, n, (std::uint64_t{1} << 11) * n / k, 7 + k);
        balance_options o;
        o.limits.nodes = 1000;
        const auto strong = detail::complete_balance_impl(inst.costs, k, o, true);
        const auto weak = detail::complete_balance_impl(inst.costs, k, o, false);
        check_plan(strong, inst.costs, k);
        check_plan(weak, inst.costs, k);
        CHECK(strong.lower_bound <= inst.part_sum);
        if (strong.proven_optimal) CHECK(strong.makespan == inst.part_sum);
        strong_proven += strong.proven_optimal ? 1 : 0;
        weak_proven += weak.proven_optimal ? 1 : 0;
      }
    CHECK(strong_proven >= 3);
    CHECK(strong_proven > weak_proven);
  }

  TEST_CASE("complete_balance: zero costs with the bin-packing machinery") {
    for (const auto& c : {std::vector<cost_t>(7, 0.0), std::vector<cost_t>{0, 0, 3, 0, 5, 0, 2, 0}}) {
      for (std::size_t k : {2u, 3u}) {
        const auto p = complete_balance(c, k);
        check_plan(p, c, k);
        CHECK(p.proven_optimal);
        CHECK(p.makespan == brute_force(c, k));
      }
    }
  }

  TEST_CASE("complete_balance: edge cases and bad input") {
    CHECK(complete_balance(std::vector<cost_t>{}, 3).parts.size() == 3);
    CHECK(complete_balance(std::vector<cost_t>{}, 3).proven_optimal);
    const auto one = complete_balance(std::vector<cost_t>{5, 1}, 4);
    CHECK(one.makespan == 5);
    CHECK(one.proven_optimal);
    CHECK_THROWS_AS((void)complete_balance(std::vector<cost_t>{1}, 0), invalid_input);
    CHECK_THROWS_AS((void)complete_balance(std::vector<cost_t>{1, -2}, 2), invalid_input);
    CHECK_THROWS_AS((void)complete_balance(std::vector<cost_t>{1, std::nan("")}, 2), invalid_input);
    balance_options o;
    o.part_capacity = 0;
    CHECK_THROWS_AS((void)complete_balance(std::vector<cost_t>{1}, 2, o), invalid_input);
    o.part_capacity = 3;
    CHECK_THROWS_AS((void)complete_balance(std::vector<cost_t>{1, 4}, 2, o), infeasible);
    CHECK_THROWS_AS((void)complete_balance(std::vector<cost_t>{3, 3, 3}, 2, o), infeasible);
    try {
      (void)complete_balance(std::vector<cost_t>{1, -2}, 2);
    } catch (const invalid_input& e) {
      CHECK(std::string(e.what()).find("cost[1]") != std::string::npos);
    }
  }

  TEST_CASE("perfect-instance generator: deterministic - validated") {
    const auto a = testing::generate_perfect_instance(5, 30, 777, 9);
    const auto b = testing::generate_perfect_instance(5, 30, 777, 9);
    CHECK(a.costs == b.costs);
    CHECK(a.costs.size() == 30);
    for (double c : a.costs) CHECK(c >= 1);
    CHECK_THROWS_AS((void)testing::generate_perfect_instance(0, 3, 10), invalid_input);
    CHECK_THROWS_AS((void)testing::generate_perfect_instance(4, 3, 10), invalid_input);
    CHECK_THROWS_AS((void)testing::generate_perfect_instance(2, 10, 4), invalid_input);
  }
}
