#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/testing/checkers.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {
// Brute force: the optimal makespan over all k^n assignments.
double brute_force_makespan(const std::vector<cost_t>& c, std::size_t k) {
  const std::size_t n = c.size();
  std::vector<std::size_t> a(n, 0);
  double best = std::numeric_limits<double>::infinity();
  while (true) {
    std::vector<double> loads(k, 0);
    for (std::size_t i = 0; i < n; ++i) loads[a[i]] += c[i];
    best = std::min(best, *std::max_element(loads.begin(), loads.end()));
    std::size_t i = 0;
    while (i < n && ++a[i] == k) a[i++] = 0;
    if (i == n) break;
  }
  return n == 0 ? 0 : best;
}
}  // namespace

TEST_SUITE("balance") {
  TEST_CASE("LPT is valid - within Graham's bound of brute force - never below the lower bound") {
    rng gen(1);
    for (int trial = 0; trial < 1500; ++trial) {
      const std::size_t n = gen.below(9);
      const std::size_t k = 1 + gen.below(4);
      std::vector<cost_t> c(n);
      for (auto& x : c) x = static_cast<double>(1 + gen.below(50));
      const auto p = lpt(c, k);
      REQUIRE(testing::check_exactly_once(p.parts, n));
      REQUIRE(testing::check_loads(p.parts, std::span<const cost_t>(c), std::span<const cost_t>(p.loads)));
      const double opt = brute_force_makespan(c, k);
      CHECK(testing::check_bound(opt, p.lower_bound));
      CHECK(testing::check_bound(p.makespan, opt));
      CHECK(p.makespan <= (4.0 / 3.0 - 1.0 / (3.0 * static_cast<double>(k))) * opt + 1e-9);
      if (p.proven_optimal) CHECK(p.makespan == doctest::Approx(opt));
    }
  }

  TEST_CASE("LPT is deterministic and breaks ties by index") {
    const std::vector<cost_t> equal(6, 1.0);
    const auto p = lpt(equal, 3);
    CHECK(p.parts.assignment(6) == std::vector<index_type>{0, 1, 2, 0, 1, 2});
    const auto w1 = testing::generate_w1(20000);
    const auto a = lpt(w1, 64, attention_cost{}, tokens_of{});
    const auto b = lpt(w1, 64, attention_cost{}, tokens_of{});
    CHECK(a.parts == b.parts);
    CHECK(a.loads == b.loads);
    CHECK(a.makespan / a.lower_bound < 1.01);
  }

  TEST_CASE("LPT rejects bad input") {
    const std::vector<cost_t> c{1, 2};
    CHECK_THROWS_WITH_AS((void)lpt(c, 0), doctest::Contains("k = 0"), invalid_input);
    const std::vector<cost_t> nan{1, std::nan("")};
    CHECK_THROWS_WITH_AS((void)lpt(nan, 2), doctest::Contains("cost[1]"), invalid_input);
    const std::vector<int> negative{1, -2};
    CHECK_THROWS_AS((void)lpt(negative, 2), invalid_input);
    const auto empty = lpt(std::vector<cost_t>{}, 4);
    CHECK(empty.parts.size() == 4);
    CHECK(empty.makespan == 0);
  }
}
