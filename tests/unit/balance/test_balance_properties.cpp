// Property tests across every balancing algorithm (reliability, issue 11): on thousands of random
// instances, including extremes, every plan is valid (each item once, loads recomputed from
// scratch, makespan >= the reported bound, counts equal when asked), and the same input gives the
// same plan (fingerprint) across runs and across concurrently running threads.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/testing/checkers.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {

constexpr std::array all_algorithms{balance_algorithm::automatic, balance_algorithm::greedy,
                                    balance_algorithm::karmarkar_karp, balance_algorithm::multifit,
                                    balance_algorithm::complete, balance_algorithm::local_search};

balance_options options_for(balance_algorithm a, bool equal_counts) {
  balance_options o;
  o.algorithm = a;
  o.equal_counts = equal_counts;
  o.limits.nodes = 20000;  // deterministic limit; the complete search returns its best plan at the limit
  return o;
}

void check_plan(const partition& p, const std::vector<cost_t>& c, std::size_t k, bool equal_counts) {
  REQUIRE(p.parts.size() == k);
  REQUIRE(testing::check_exactly_once(p.parts, c.size()));
  REQUIRE(testing::check_loads(p.parts, std::span<const cost_t>(c), std::span<const cost_t>(p.loads), 1e-9));
  REQUIRE(testing::check_bound(testing::recompute_makespan(p.parts, std::span<const cost_t>(c)), p.lower_bound));
  if (equal_counts)
    for (std::size_t g = 0; g < k; ++g) {
      CHECK(p.parts.group_size(g) >= c.size() / k);
      CHECK(p.parts.group_size(g) <= (c.size() + k - 1) / k);
    }
}

// Instance families: random, all equal, one huge item, zero costs, n < k, wide dynamic range.
std::vector<cost_t> make_instance(rng& gen, int family, std::size_t n) {
  std::vector<cost_t> c(n);
  for (std::size_t i = 0; i < n; ++i) {
    switch (family) {
      case 0: c[i] = static_cast<cost_t>(1 + gen.below(1000)); break;
      case 1: c[i] = 7.0; break;
      case 2: c[i] = i == 0 ? 1e6 : static_cast<cost_t>(gen.below(10)); break;
      case 3: c[i] = 0.0; break;
      case 4: c[i] = attention_cost{}(1 + gen.below(32768)); break;
      default: c[i] = std::ldexp(1.0 + gen.uniform(), static_cast<int>(gen.below(120))); break;  // up to 2^120
    }
  }
  return c;
}

}  // namespace

TEST_SUITE("properties") {
  TEST_CASE("every balancing algorithm is valid and respects its bound on random and extreme instances") {
    rng gen(11);
    int plans = 0;
    for (int trial = 0; trial < 600; ++trial) {
      const int family = static_cast<int>(gen.below(6));
      const std::size_t n = gen.below(40);
      const std::size_t k = 1 + gen.below(9);
      const auto c = make_instance(gen, family, n);
      for (auto a : all_algorithms)
        for (bool eq : {false, true}) {
          CAPTURE(trial);
          CAPTURE(static_cast<int>(a));
          CAPTURE(eq);
          const auto p = balance(c, k, options_for(a, eq));
          check_plan(p, c, k, eq);
          ++plans;
        }
    }
    MESSAGE("plans checked: " << plans);
  }

  TEST_CASE("same input - same plan: across runs and across threads") {
    const auto w1 = testing::generate_w1(3000);
    std::vector<cost_t> c;
    for (const auto& s : w1) c.push_back(attention_cost{}(s.tokens()));
    for (auto a : all_algorithms) {
      const auto opts = options_for(a, false);
      const auto reference = balance(c, 48, opts).parts.fingerprint();
      CHECK(balance(c, 48, opts).parts.fingerprint() == reference);
      std::array<std::uint64_t, 4> seen{};
      std::vector<std::thread> threads;
      for (std::size_t t = 0; t < seen.size(); ++t)
        threads.emplace_back([&, t] { seen[t] = balance(c, 48, opts).parts.fingerprint(); });
      for (auto& t : threads) t.join();
      for (auto h : seen) CHECK(h == reference);
    }
  }

  TEST_CASE("sums beyond 2^64 and huge counts of tiny items stay correct") {
    // Integer sizes near 2^62: a naive uint64 sum of 8 of them wraps; costs are doubles here.
    std::vector<std::uint64_t> huge(8, (std::uint64_t{1} << 62) + 12345);
    const auto p = balance(huge, 3);
    check_plan(p, std::vector<cost_t>(huge.begin(), huge.end()), 3, false);
    CHECK(p.makespan >= 2.0 * std::ldexp(1.0, 62));
    // 200k zero-cost items: every algorithm must still place every item exactly once.
    const std::vector<cost_t> zeros(200000, 0.0);
    for (auto a : {balance_algorithm::automatic, balance_algorithm::greedy, balance_algorithm::karmarkar_karp}) {
      const auto z = balance(zeros, 64, options_for(a, true));
      check_plan(z, zeros, 64, true);
      CHECK(z.makespan == 0.0);
    }
  }

  TEST_CASE("a cost sum that overflows a double is rejected - not proven optimal") {
    const std::vector<cost_t> huge{1e308, 1e308, 1e308};
    for (auto a : all_algorithms)
      CHECK_THROWS_WITH_AS((void)balance(huge, 2, options_for(a, false)), doctest::Contains("overflows a double"),
                           invalid_input);
  }

  TEST_CASE("bad input is rejected by every algorithm with the field named - nothing partial") {
    for (auto a : all_algorithms) {
      const auto opts = options_for(a, false);
      CHECK_THROWS_WITH_AS((void)balance(std::vector<cost_t>{1, 2}, 0, opts), doctest::Contains("k"), invalid_input);
      CHECK_THROWS_WITH_AS((void)balance(std::vector<cost_t>{1, std::nan("")}, 2, opts), doctest::Contains("[1]"),
                           invalid_input);
      CHECK_THROWS_WITH_AS((void)balance(std::vector<cost_t>{-1, 2}, 2, opts), doctest::Contains("[0]"), invalid_input);
      CHECK_THROWS_AS((void)balance(std::vector<cost_t>{1, std::numeric_limits<double>::infinity()}, 2, opts),
                      invalid_input);
      const auto empty = balance(std::vector<cost_t>{}, 3, opts);
      CHECK(empty.parts.size() == 3);
      CHECK(empty.makespan == 0);
    }
  }
}
