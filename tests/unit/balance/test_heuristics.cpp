// Karmarkar-Karp, multifit and local search: validity, bounds, brute-force optimum and known
// approximation factors on thousands of small instances; KK against a dense reference.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <vector>

#include <fulcrum/balance/karmarkar_karp.hpp>
#include <fulcrum/balance/local_search.hpp>
#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/balance/multifit.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/testing/checkers.hpp>
#include <fulcrum/testing/workloads.hpp>

#include "balance_brute_force.hpp"

using namespace fulcrum;

namespace {

std::vector<cost_t> random_costs(rng& gen, std::size_t n, bool integral) {
  std::vector<cost_t> c(n);
  for (auto& x : c) x = integral ? static_cast<double>(1 + gen.below(60)) : gen.uniform() * 100.0;
  return c;
}

void check_partition(const partition& p, const std::vector<cost_t>& c, std::size_t k) {
  REQUIRE(p.parts.size() == k);
  REQUIRE(testing::check_exactly_once(p.parts, c.size()));
  REQUIRE(testing::check_loads(p.parts, std::span<const cost_t>(c), std::span<const cost_t>(p.loads)));
  REQUIRE(testing::check_bound(p.makespan, p.lower_bound));
  CHECK(p.makespan == doctest::Approx(testing::recompute_makespan(p.parts, std::span<const cost_t>(c))));
}

// Dense reference k-way differencing: every tuple is k (sum, label, items) parts, fully sorted
// after each merge; same tie rules as the library (parts: sum desc, smallest item asc, empty
// parts last; tuples: difference desc, singletons in cost order first, then creation order).
std::vector<index_type> reference_kk(const std::vector<cost_t>& c, std::size_t k) {
  const std::size_t n = c.size();
  constexpr std::size_t empty = std::numeric_limits<std::size_t>::max();
  struct part {
    double sum;
    std::size_t label;
    std::vector<index_type> items;
  };
  using tuple = std::vector<part>;
  const auto sort_tuple = [](tuple& t) {
    std::sort(t.begin(), t.end(), [](const part& a, const part& b) { return a.sum > b.sum || (a.sum == b.sum && a.label < b.label); });
  };
  std::vector<index_type> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<index_type>(i);
  std::stable_sort(order.begin(), order.end(), [&](index_type a, index_type b) { return c[a] > c[b]; });
  std::vector<tuple> tuples;
  using key = std::pair<double, long long>;  // (diff, -id): max-heap
  std::priority_queue<std::pair<key, std::size_t>> heap;
  for (std::size_t r = 0; r < n; ++r) {
    tuple t(k, part{0.0, empty, {}});
    t[0] = {c[order[r]], order[r], {order[r]}};
    tuples.push_back(t);
    heap.push({{c[order[r]], -static_cast<long long>(r)}, r});
  }
  std::size_t next_id = n;
  while (heap.size() > 1) {
    const auto x = heap.top().second;
    heap.pop();
    const auto y = heap.top().second;
    heap.pop();
    tuple merged(k);
    for (std::size_t i = 0; i < k; ++i) {
      const part& a = tuples[x][i];
      const part& b = tuples[y][k - 1 - i];
      part m{a.sum + b.sum, std::min(a.label, b.label), a.items};
      m.items.insert(m.items.end(), b.items.begin(), b.items.end());
      merged[i] = std::move(m);
    }
    sort_tuple(merged);
    tuples.push_back(std::move(merged));
    const tuple& t = tuples.back();
    heap.push({{t.front().sum - t.back().sum, -static_cast<long long>(next_id++)}, tuples.size() - 1});
  }
  std::vector<index_type> part_of(n, 0);
  if (n == 0) return part_of;
  const tuple& last = tuples[heap.top().second];
  for (std::size_t p = 0; p < k; ++p)
    for (index_type i : last[p].items) part_of[i] = static_cast<index_type>(p);
  return part_of;
}

}  // namespace

TEST_SUITE("balance") {
  TEST_CASE("karmarkar_karp - multifit and local_search: valid - >= OPT - within their factors") {
    rng gen(7);
    for (int trial = 0; trial < 2500; ++trial) {
      const std::size_t n = gen.below(11);
      const std::size_t k = 1 + gen.below(4);
      const auto c = random_costs(gen, n, trial % 3 != 0);
      const double opt = fulcrum_test::brute_force{c, k}.solve();
      const double kd = static_cast<double>(k);
      const double lpt_factor = 4.0 / 3.0 - 1.0 / (3.0 * kd);
      const auto base = lpt(c, k);
      CHECK(testing::check_bound(opt, base.lower_bound));

      const auto kk = karmarkar_karp(c, k);
      check_partition(kk, c, k);
      CHECK(testing::check_bound(kk.makespan, opt));
      CHECK(kk.makespan <= (k == 2 ? 7.0 / 6.0 : lpt_factor) * opt + 1e-9);

      const auto mf = multifit(c, k);
      check_partition(mf, c, k);
      CHECK(testing::check_bound(mf.makespan, opt));
      CHECK(mf.makespan <= (13.0 / 11.0 + std::ldexp(1.0, -16)) * opt + 1e-9);

      const auto ls = local_search(c, k);
      check_partition(ls, c, k);
      CHECK(testing::check_bound(ls.makespan, opt));
      CHECK(ls.makespan <= base.makespan + 1e-9);
      CHECK(ls.makespan <= lpt_factor * opt + 1e-9);
      for (const auto* p : {&kk, &mf, &ls})
        if (p->proven_optimal) CHECK(p->makespan == doctest::Approx(opt));
    }
  }

  TEST_CASE("karmarkar_karp equals a dense reference implementation") {
    rng gen(11);
    for (int trial = 0; trial < 400; ++trial) {
      const std::size_t n = gen.below(120);
      const std::size_t k = 1 + gen.below(9);
      std::vector<cost_t> c(n);
      // Whole numbers: sums are exact, so both implementations see the same differences.
      for (auto& x : c) x = static_cast<double>(gen.below(trial % 2 ? 1'000'000 : 20));
      const auto got = karmarkar_karp_assign(c, k);
      const auto want = reference_kk(c, k);
      REQUIRE(got == want);
    }
  }

  TEST_CASE("karmarkar_karp on W1: valid and near the bound") {
    const auto w1 = testing::generate_w1(8192);
    const auto p = karmarkar_karp(w1, 64, attention_cost{}, tokens_of{});
    std::vector<cost_t> c;
    for (const auto& s : w1) c.push_back(attention_cost{}(s.tokens()));
    check_partition(p, c, 64);
    CHECK(p.makespan / p.lower_bound < 1.0001);
    CHECK(p.makespan <= lpt(c, 64).makespan);
  }

  TEST_CASE("equal-count variants keep counts within one and stay >= the constrained optimum") {
    rng gen(5);
    for (int trial = 0; trial < 1500; ++trial) {
      const std::size_t n = gen.below(11);
      const std::size_t k = 1 + gen.below(4);
      const auto c = random_costs(gen, n, true);
      const double opt = fulcrum_test::brute_force{c, k, true}.solve();
      const auto check_counts = [&](const std::vector<index_type>& part_of) {
        std::vector<std::size_t> counts(k, 0);
        for (auto p : part_of) ++counts[p];
        const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
        CHECK(*hi - *lo <= 1);
        const auto p = detail::make_partition(part_of, c, k, 0);
        CHECK(testing::check_bound(p.makespan, opt));
        return p.makespan;
      };
      check_counts(lpt_assign_equal_counts(c, k));
      check_counts(karmarkar_karp_assign_equal_counts(c, k));
      check_counts(multifit_assign(c, k, {16, true}));
      auto part_of = lpt_assign_equal_counts(c, k);
      const double before = check_counts(part_of);
      local_search_improve(c, k, part_of, {1000, 100, true});
      CHECK(check_counts(part_of) <= before + 1e-9);
    }
  }

  TEST_CASE("local search never worsens any start and is deterministic") {
    rng gen(3);
    for (int trial = 0; trial < 300; ++trial) {
      const std::size_t n = 1 + gen.below(200);
      const std::size_t k = 1 + gen.below(16);
      const auto c = random_costs(gen, n, trial % 2 == 0);
      std::vector<index_type> start(n);
      for (auto& p : start) p = static_cast<index_type>(gen.below(k));
      const double before = detail::make_partition(start, c, k, 0).makespan;
      auto a = start, b = start;
      local_search_improve(c, k, a);
      local_search_improve(c, k, b);
      CHECK(a == b);
      CHECK(detail::make_partition(a, c, k, 0).makespan <= before);
    }
  }

  TEST_CASE("heuristics reject bad input") {
    const std::vector<cost_t> ok{1, 2, 3};
    CHECK_THROWS_WITH_AS((void)karmarkar_karp(ok, 0), doctest::Contains("k = 0"), invalid_input);
    CHECK_THROWS_WITH_AS((void)multifit(ok, 0), doctest::Contains("k = 0"), invalid_input);
    CHECK_THROWS_WITH_AS((void)local_search(ok, 0), doctest::Contains("k = 0"), invalid_input);
    const std::vector<cost_t> bad{1, -2, 3};
    CHECK_THROWS_WITH_AS((void)karmarkar_karp(bad, 2), doctest::Contains("cost[1] = -2: is negative"), invalid_input);
    CHECK_THROWS_WITH_AS((void)multifit(bad, 2), doctest::Contains("cost[1]"), invalid_input);
    const std::vector<cost_t> nan{1, 2, std::nan("")};
    CHECK_THROWS_WITH_AS((void)local_search(nan, 2), doctest::Contains("cost[2] = nan: is NaN"), invalid_input);
    const std::vector<cost_t> inf{std::numeric_limits<double>::infinity()};
    CHECK_THROWS_WITH_AS((void)karmarkar_karp(inf, 2), doctest::Contains("is infinite"), invalid_input);
    std::vector<index_type> part_of{0, 5, 0};
    CHECK_THROWS_WITH_AS((void)local_search_improve(ok, 2, part_of), doctest::Contains("part_of[1] = 5"), invalid_input);
    const auto empty = karmarkar_karp(std::vector<cost_t>{}, 3);
    CHECK(empty.parts.size() == 3);
    CHECK(empty.makespan == 0);
  }
}
