// balance_two_level: the step-major grid layout (micro_batches(j, r)), structure and bounds on random
// instances, the capacity fallback, equal counts under the bottom-up plan (issue 15 reproducer) and a
// brute-force property test over small instances.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include <fulcrum/balance/two_level.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/testing/checkers.hpp>

using namespace fulcrum;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

/// Can `items` be split into m groups, each of load <= cap, with item counts differing by at most
/// one when `equal_counts`? Exhaustive (tests only; a few items per rank).
bool splits(const std::vector<double>& items, std::size_t m, bool equal_counts, double cap) {
  std::vector<double> load(m, 0.0);
  std::vector<std::size_t> count(m, 0);
  const std::size_t hi = (items.size() + m - 1) / m;
  auto dfs = [&](auto&& self, std::size_t i, std::size_t used) -> bool {
    if (i == items.size()) {
      if (!equal_counts) return true;
      const auto [lo_it, hi_it] = std::minmax_element(count.begin(), count.end());
      return *hi_it - *lo_it <= 1;
    }
    for (std::size_t g = 0; g < std::min(used + 1, m); ++g) {
      if (load[g] + items[i] > cap) continue;
      if (equal_counts && count[g] + 1 > hi) continue;
      load[g] += items[i];
      ++count[g];
      const bool ok = self(self, i + 1, std::max(used, g + 1));
      load[g] -= items[i];
      --count[g];
      if (ok) return true;
    }
    return false;
  };
  return dfs(dfs, 0, 0);
}

/// Optimal largest rank load over every two-level plan: items onto `ranks` ranks (item counts
/// within one of each other when equal_counts), each rank's items into m micro-batches of load
/// <= cap (counts within one inside a rank when equal_counts; with the rank condition this is the
/// same as every micro-batch holding floor or ceil of n / (ranks m) items). +inf if none exists.
/// Depth-first over rank assignments (largest items first, ranks symmetric), pruned by the
/// incumbent, the per-rank count and the per-rank capacity m * cap.
double two_level_optimum(const std::vector<double>& costs, std::size_t ranks, std::size_t m, bool equal_counts,
                         double cap) {
  std::vector<double> c(costs);
  std::sort(c.begin(), c.end(), std::greater<>());
  const std::size_t n = c.size();
  if (n == 0) return 0.0;
  const std::size_t most = equal_counts ? (n + ranks - 1) / ranks : n;
  std::vector<std::vector<double>> share(ranks);
  std::vector<double> load(ranks, 0.0);
  double best = inf;
  auto dfs = [&](auto&& self, std::size_t i, std::size_t used) -> void {
    if (i == n) {
      std::size_t lo = n, hi = 0;
      double makespan = 0;
      for (std::size_t r = 0; r < ranks; ++r) {
        lo = std::min(lo, share[r].size());
        hi = std::max(hi, share[r].size());
        makespan = std::max(makespan, load[r]);
      }
      if (equal_counts && hi - lo > 1) return;
      for (const auto& s : share)
        if (!splits(s, m, equal_counts, cap)) return;
      best = makespan;
      return;
    }
    for (std::size_t r = 0; r < std::min(used + 1, ranks); ++r) {  // ranks are symmetric
      if (load[r] + c[i] >= best || load[r] + c[i] > cap * static_cast<double>(m) || share[r].size() >= most) continue;
      load[r] += c[i];
      share[r].push_back(c[i]);
      self(self, i + 1, std::max(used, r + 1));
      share[r].pop_back();
      load[r] -= c[i];
    }
  };
  dfs(dfs, 0, 0);
  return best;
}

/// Structural checks shared by the tests: the grid shape, every item once, rank r's micro-batches
/// hold exactly rank r's items, step-major loads, capacities and (with equal_counts) counts.
void check_plan(const two_level_partition& t, const std::vector<double>& c, std::size_t ranks, std::size_t m,
                bool equal_counts, double cap) {
  const std::size_t n = c.size();
  REQUIRE(t.micro_batches.steps() == m);
  REQUIRE(t.micro_batches.ranks() == ranks);
  REQUIRE(t.rank_count() == ranks);
  REQUIRE(t.micro_batches_per_rank() == m);
  REQUIRE(t.micro_batch_loads.size() == ranks * m);
  REQUIRE(testing::check_exactly_once(t.micro_batches.groups(), n));
  REQUIRE(testing::check_exactly_once(t.ranks.parts, n));
  REQUIRE(testing::check_loads(t.micro_batches.groups(), std::span<const cost_t>(c),
                               std::span<const cost_t>(t.micro_batch_loads)));
  std::size_t lo_rank = n, hi_rank = 0, lo_mb = n, hi_mb = 0;
  for (std::size_t r = 0; r < ranks; ++r) {
    std::vector<index_type> from_mbs;
    for (std::size_t j = 0; j < m; ++j) {
      const auto mb = t.micro_batch(r, j);
      CHECK(mb.data() == t.micro_batches(j, r).data());
      CHECK(mb.data() == t.micro_batches.groups()[j * ranks + r].data());  // step-major
      from_mbs.insert(from_mbs.end(), mb.begin(), mb.end());
      double load = 0;
      for (index_type i : mb) load += c[i];
      CHECK(t.micro_batch_load(r, j) == load);
      CHECK(t.micro_batch_loads[j * ranks + r] == load);
      CHECK(load <= cap);
      if (j > 0) CHECK(t.micro_batch_load(r, j - 1) >= t.micro_batch_load(r, j));
      lo_mb = std::min(lo_mb, mb.size());
      hi_mb = std::max(hi_mb, mb.size());
    }
    std::sort(from_mbs.begin(), from_mbs.end());
    const auto rank_items = t.ranks.parts[r];
    CHECK(std::vector<index_type>(rank_items.begin(), rank_items.end()) == from_mbs);
    CHECK(t.micro_batches.rank_item_count(r) == rank_items.size());
    lo_rank = std::min(lo_rank, rank_items.size());
    hi_rank = std::max(hi_rank, rank_items.size());
  }
  if (equal_counts) {
    CHECK(hi_rank - lo_rank <= 1);
    CHECK(hi_mb - lo_mb <= 1);
  }
  CHECK(testing::check_bound(t.micro_batch_makespan, t.micro_batch_lower_bound));
  CHECK(testing::check_bound(t.ranks.makespan, t.ranks.lower_bound));
  CHECK(t.lockstep_time + 1e-9 >= t.ranks.makespan);
}

}  // namespace

TEST_SUITE("balance") {
  TEST_CASE("balance_two_level: every rank gets m micro-batches - groupings consistent - bounds hold") {
    rng gen(31);
    for (int trial = 0; trial < 200; ++trial) {
      const std::size_t n = gen.below(60);
      const std::size_t ranks = 1 + gen.below(4), m = 1 + gen.below(4);
      std::vector<cost_t> c(n);
      for (auto& x : c) x = static_cast<double>(1 + gen.below(100));
      balance_options o;
      o.equal_counts = trial % 2 == 0;
      const auto t = balance_two_level(c, ranks, m, o);
      CAPTURE(trial);
      check_plan(t, c, ranks, m, o.equal_counts, inf);
    }
  }

  TEST_CASE("balance_two_level: capacity per micro-batch - bottom-up fallback - errors") {
    // 4 items of 6 and 4 of 4 onto 2 ranks x 2 micro-batches, capacity 10: only {6,4} pairs fit.
    const std::vector<cost_t> c{6, 6, 6, 6, 4, 4, 4, 4};
    balance_options o;
    o.part_capacity = 10;
    const auto t = balance_two_level(c, 2, 2, o);
    CHECK(t.micro_batch_makespan <= 10);
    check_plan(t, c, 2, 2, false, 10);
    o.part_capacity = 9.5;
    CHECK_THROWS_AS((void)balance_two_level(c, 2, 2, o), infeasible);
    CHECK_THROWS_WITH_AS((void)balance_two_level(c, 0, 2), doctest::Contains("ranks = 0"), invalid_input);
    CHECK_THROWS_WITH_AS((void)balance_two_level(c, 2, 0), doctest::Contains("micro_batches = 0"), invalid_input);
  }

  TEST_CASE("balance_two_level: equal counts hold under the bottom-up plan (issue 15 reproducer)") {
    // The capacity forces the bottom-up plan; it used to deal the 2-item micro-batches onto one
    // rank (item counts 2 and 4), report makespan 15 and call it proven optimal. With 3 items per
    // rank the best plan has makespan 16.
    const std::vector<cost_t> c{2, 9, 3, 5, 5, 5};
    balance_options o;
    o.equal_counts = true;
    o.part_capacity = 9;
    const auto t = balance_two_level(c, 2, 2, o);
    CHECK(t.bottom_up);
    check_plan(t, c, 2, 2, true, 9);
    CHECK(t.ranks.parts.group_size(0) == 3);
    CHECK(t.ranks.parts.group_size(1) == 3);
    CHECK(t.ranks.makespan >= 16);
    CHECK(two_level_optimum(c, 2, 2, true, 9) == 16);
    if (t.ranks.proven_optimal) CHECK(t.ranks.makespan == 16);
    CHECK(t.ranks.lower_bound <= 16);
  }

  TEST_CASE("balance_two_level: brute force over small instances - counts - capacities - bounds - proofs") {
    rng gen(20261201);
    int checked = 0, bottom_up = 0, infeasible_verdicts = 0;
    for (int trial = 0; trial < 20000; ++trial) {
      // A quarter: any small shape. The rest: 2-3 ranks x 2-3 micro-batches with between one and two
      // items per micro-batch and a tight capacity, where the top-down plan often fails and the
      // bottom-up plan must keep the counts (where issue 15's defect lived).
      const bool any_shape = trial % 4 == 0;
      const std::size_t ranks = any_shape ? 1 + gen.below(3) : 2 + gen.below(2);
      const std::size_t m = any_shape ? 1 + gen.below(3) : 2 + gen.below(2);
      const std::size_t n =
          any_shape ? gen.below(9) : std::min<std::size_t>(ranks * m + 1 + gen.below(ranks * m - 1), 11);
      std::vector<cost_t> c(n);
      for (auto& x : c) x = static_cast<double>(1 + gen.below(any_shape ? 12 : 10));
      balance_options o;
      o.equal_counts = gen.below(2) == 1;
      const bool capped = !any_shape || gen.below(2) == 1;
      double cap = inf;
      if (capped && n > 0) {
        // Tight: max(largest item, mean micro-batch load), plus a little.
        const double top = *std::max_element(c.begin(), c.end());
        double total = 0;
        for (double x : c) total += x;
        const double mean = std::ceil(total / static_cast<double>(ranks * m));
        cap = std::max(top, mean) + static_cast<double>(gen.below(any_shape ? 4 : 2));
        o.part_capacity = cap;
      }
      CAPTURE(trial);
      CAPTURE(n);
      CAPTURE(ranks);
      CAPTURE(m);
      CAPTURE(o.equal_counts);
      CAPTURE(cap);
      const double opt = two_level_optimum(c, ranks, m, o.equal_counts, cap);
      two_level_partition t;
      try {
        t = balance_two_level(c, ranks, m, o);
      } catch (const infeasible&) {
        ++infeasible_verdicts;
        CHECK(opt == inf);  // infeasible only when no plan exists
        continue;
      }
      ++checked;
      bottom_up += t.bottom_up ? 1 : 0;
      check_plan(t, c, ranks, m, o.equal_counts, cap);
      REQUIRE(opt < inf);
      CHECK(t.ranks.makespan >= opt);
      if (t.ranks.proven_optimal) CHECK(t.ranks.makespan == opt);
      CHECK(t.ranks.lower_bound <= opt);
    }
    MESSAGE("two-level plans checked against brute force: " << checked << " (" << bottom_up << " bottom-up), "
                                                            << infeasible_verdicts << " infeasible");
    CHECK(bottom_up > 200);
  }

  TEST_CASE("balance_two_level result is a step_grid a dispatch plan can take as is") {
    const std::vector<cost_t> c{9, 8, 7, 6, 5, 4, 3, 2, 1, 1, 1, 1};
    const auto t = balance_two_level(c, 3, 2);
    const step_grid& g = t.grid();
    CHECK(&g == &t.micro_batches);
    for (std::size_t r = 0; r < 3; ++r) {
      std::size_t items = 0;
      for (auto mb : g.rank_groups(r)) items += mb.size();
      CHECK(items == t.ranks.parts.group_size(r));
    }
  }
}
