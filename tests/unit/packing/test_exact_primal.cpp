// SPDX-License-Identifier: Apache-2.0
// pack_exact's primal heuristics (FFD, MBS', pool search) and the Gilmore–Gomory LP bound
// (lower_bound_lp): every packing checked by the independent checkers, the LP bound never above a
// brute-force optimum, optimality claims against brute force and known optima, the benchmark
// family generators, and bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/packing/bounds.hpp"
#include "fulcrum/packing/detail/exact_primal.hpp"
#include "fulcrum/packing/detail/gg_bound.hpp"
#include "fulcrum/packing/exact.hpp"
#include "fulcrum/packing/lp_bound.hpp"
#include "fulcrum/testing/bin_packing_families.hpp"
#include "fulcrum/testing/checkers.hpp"
#include "fulcrum/testing/packing_instances.hpp"

using namespace fulcrum;
namespace ft = fulcrum::testing;
namespace fx = fulcrum::detail::exact;

namespace {

/// A bin list over items 0..n-1 (all of them) is a valid packing.
void check_bins(const fx::bin_list& bins, std::span<const std::uint64_t> sizes, std::uint64_t capacity) {
  const grouping g = grouping::from_groups(bins);
  const auto once = ft::check_exactly_once(g, sizes.size());
  REQUIRE_MESSAGE(once.ok, once.message);
  const auto cap = ft::check_capacity(g, sizes, capacity);
  REQUIRE_MESSAGE(cap.ok, cap.message);
}

void check_packing(const packing& p, std::span<const std::uint64_t> sizes, std::uint64_t capacity) {
  const auto once = ft::check_exactly_once(p.bins, sizes.size());
  REQUIRE_MESSAGE(once.ok, once.message);
  const auto cap = ft::check_capacity(p.bins, sizes, capacity);
  REQUIRE_MESSAGE(cap.ok, cap.message);
  REQUIRE(p.bins.size() >= p.lower_bound);
  REQUIRE(p.proven_optimal == (p.bins.size() == p.lower_bound));
}

std::vector<index_type> all_items(std::size_t n) {
  std::vector<index_type> items(n);
  for (std::size_t i = 0; i < n; ++i) items[i] = static_cast<index_type>(i);
  return items;
}

/// Random small instance in one of several size regimes; every size in 1..capacity.
std::vector<std::uint64_t> small_instance(rng& gen, std::uint64_t capacity, std::size_t n) {
  std::vector<std::uint64_t> sizes(n);
  const std::uint64_t regime = gen.below(4);
  for (auto& s : sizes) {
    switch (regime) {
      case 0:
        s = 1 + gen.below(capacity);
        break;  // anything
      case 1:
        s = capacity / 5 + gen.below(capacity / 2 - capacity / 5 + 1);
        break;  // 2..5 per bin
      case 2:
        s = capacity / 3 + gen.below(capacity / 3);
        break;  // about 2 per bin
      default:
        s = 1 + gen.below(capacity / 2);
        break;  // small
    }
    if (s == 0) s = 1;
  }
  return sizes;
}

}  // namespace

TEST_CASE("exact_primal.lp_bound_never_above_brute_force") {
  rng gen(2301);
  std::size_t above_l2 = 0;
  for (int trial = 0; trial < 600; ++trial) {
    // C = 100000: the pricing step uses the Pareto lists instead of the DP over the capacity.
    const std::uint64_t capacity = trial % 3 == 0 ? 100 : trial % 3 == 1 ? 1000 : 100000;
    const std::size_t n = 3 + static_cast<std::size_t>(gen.below(10));  // n <= 12
    const auto sizes = small_instance(gen, capacity, n);
    const std::uint64_t opt = ft::brute_force_bins(sizes, capacity);
    const auto r = lp_bound(sizes, capacity);
    INFO("trial " << trial << " n " << n << " lp " << r.bound << " opt " << opt);
    REQUIRE(r.bound <= opt);
    REQUIRE(r.bound >= lower_bound_l1(std::span<const std::uint64_t>(sizes), capacity));
    REQUIRE(r.lp_value <= static_cast<double>(opt) + 1e-6);
    if (r.bound > lower_bound_l2(std::span<const std::uint64_t>(sizes), capacity)) ++above_l2;
  }
  MESSAGE("LP bound above L2 on " << above_l2 << " of 600 instances");
}

TEST_CASE("exact_primal.lp_bound_beats_l2_where_it_should") {
  // L2 falls short of the optimum on some small random instances; the LP bound must close part
  // of that gap there, and never pass the brute-force optimum.
  rng gen(77);
  std::size_t found = 0;
  for (int trial = 0; trial < 3000 && found < 5; ++trial) {
    const std::size_t n = 6 + static_cast<std::size_t>(gen.below(6));
    const auto sizes = small_instance(gen, 100, n);
    const std::uint64_t l2 = lower_bound_l2(std::span<const std::uint64_t>(sizes), 100);
    const std::uint64_t opt = ft::brute_force_bins(sizes, 100);
    if (l2 == opt) continue;
    const std::uint64_t lp = lower_bound_lp(sizes, 100);
    CHECK(lp <= opt);
    if (lp > l2) ++found;
  }
  MESSAGE("instances with L2 < opt where the LP bound is above L2: " << found);
  CHECK(found > 0);
}

TEST_CASE("exact_primal.lp_bound_is_scale_invariant") {
  // The same instance at C = 150 (pricing by DP over the capacity) and scaled by 1000 (pricing by
  // Pareto lists): converged LP values agree, and so do the rounded bounds.
  rng gen(4242);
  std::size_t both = 0;
  for (int trial = 0; trial < 30; ++trial) {
    const std::size_t n = 20 + static_cast<std::size_t>(gen.below(40));
    std::vector<std::uint64_t> small(n), big(n);
    for (std::size_t i = 0; i < n; ++i) small[i] = 20 + gen.below(81), big[i] = small[i] * 1000;
    const auto a = lp_bound(small, 150);
    const auto b = lp_bound(big, 150000);
    INFO("trial " << trial << " lp " << a.lp_value << " vs " << b.lp_value);
    if (a.converged && b.converged) {
      ++both;
      CHECK(a.bound == b.bound);
      CHECK(std::abs(a.lp_value - b.lp_value) <= 1e-6 * a.lp_value);
    }
    CHECK(a.bound <= pack_exact(small, 150).bins.size());
    CHECK(b.bound <= pack_exact(small, 150).bins.size());
  }
  MESSAGE("both converged on " << both << " of 30");
  CHECK(both > 0);
}

TEST_CASE("exact_primal.heuristics_give_valid_packings") {
  rng gen(5);
  for (int trial = 0; trial < 200; ++trial) {
    const std::uint64_t capacity = trial % 3 == 0 ? 150 : 1000;
    const std::size_t n = 1 + static_cast<std::size_t>(gen.below(120));
    const auto sizes = small_instance(gen, capacity, n);
    const auto items = all_items(n);
    const auto ffd = fx::first_fit_decreasing(sizes, items, capacity);
    check_bins(ffd, sizes, capacity);
    const auto mbs = fx::minimum_bin_slack(sizes, items, capacity, 500);
    check_bins(mbs, sizes, capacity);
    const std::uint64_t l2 = lower_bound_l2(std::span<const std::uint64_t>(sizes), capacity);
    fx::primal_budget budget;
    budget.work = 200'000;
    fx::pool_search ls(sizes, capacity, static_cast<std::uint64_t>(trial));
    const auto target = static_cast<std::size_t>(l2);
    const auto out = ls.run(mbs, target, budget);
    if (!out.empty()) {
      check_bins(out, sizes, capacity);
      CHECK(out.size() <= std::max(target, mbs.size()));
    }
  }
}

TEST_CASE("exact_primal.pool_search_reaches_triplet_optimum") {
  // Triplets: every bin must be exactly full; best-fit decreasing is far off, the pool search hits
  // the optimum from an MBS' start.
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto inst = ft::triplet_instance(20, 1000, seed);
    const auto items = all_items(inst.sizes.size());
    const auto start = fx::minimum_bin_slack(inst.sizes, items, inst.capacity, 2000);
    fx::primal_budget budget;
    budget.work = 50'000'000;
    fx::pool_search ls(inst.sizes, inst.capacity, seed);
    auto current = start;
    while (current.size() > inst.optimum) {
      auto next = ls.run(current, current.size() - 1, budget);
      if (next.empty()) break;
      current = std::move(next);
    }
    check_bins(current, inst.sizes, inst.capacity);
    CHECK(current.size() == inst.optimum);
  }
}

TEST_CASE("exact_primal.claims_agree_with_brute_force") {
  rng gen(2323);
  std::size_t proved = 0;
  constexpr int trials = 1500;
  for (int trial = 0; trial < trials; ++trial) {
    const std::uint64_t capacity = trial % 2 == 0 ? 100 : 1000;
    const std::size_t n = 1 + static_cast<std::size_t>(gen.below(12));
    const auto sizes = small_instance(gen, capacity, n);
    const std::uint64_t opt = ft::brute_force_bins(sizes, capacity);
    const auto p = pack_exact(sizes, capacity);
    INFO("trial " << trial << " opt " << opt << " bins " << p.bins.size() << " bound " << p.lower_bound);
    check_packing(p, sizes, capacity);
    REQUIRE(p.lower_bound <= opt);
    REQUIRE(p.bins.size() >= opt);
    if (p.proven_optimal) {
      REQUIRE(p.bins.size() == opt);
      ++proved;
    }
  }
  CHECK(proved == static_cast<std::size_t>(trials));  // unlimited budget: all small ones close
}

TEST_CASE("exact_primal.families_never_claim_a_false_optimum") {
  // Triplets have a known optimum (n/3): a claim must equal it. Every family: valid packings.
  for (std::size_t i = 0; i < 20; i += 3) {
    const auto inst = ft::make_family_instance(ft::bin_packing_family::falkenauer_t, i);
    pack_options opts;
    opts.limits.time = std::chrono::milliseconds(2000);
    const auto p = pack_exact(inst.sizes, inst.capacity, opts);
    check_packing(p, inst.sizes, inst.capacity);
    CHECK(p.bins.size() >= inst.known_optimum);
    if (p.proven_optimal) CHECK(p.bins.size() == inst.known_optimum);
    CHECK(p.lower_bound <= inst.known_optimum);
  }
  using F = ft::bin_packing_family;
  for (F f : {F::falkenauer_u, F::scholl_1, F::scholl_2, F::scholl_3, F::schwerin_1, F::schwerin_2, F::waescher,
              F::near_irup}) {
    const auto inst = ft::make_family_instance(f, ft::family_size(f) / 2);
    pack_options opts;
    opts.limits.nodes = 2'000'000;  // deterministic budget
    const auto p = pack_exact(inst.sizes, inst.capacity, opts);
    INFO(ft::family_name(f) << " " << inst.name);
    check_packing(p, inst.sizes, inst.capacity);
    const auto q = pack_exact(inst.sizes, inst.capacity, opts);
    CHECK(p.bins == q.bins);  // deterministic without a time limit
  }
}

TEST_CASE("exact_primal.strong_stages_never_weaken_the_result") {
  rng gen(909);
  for (int trial = 0; trial < 40; ++trial) {
    const std::size_t n = 20 + static_cast<std::size_t>(gen.below(60));
    const auto sizes = small_instance(gen, 150, n);
    pack_options opts;
    opts.limits.nodes = 20'000;
    const auto plain = fx::pack_exact_impl(sizes, 150, opts, nullptr, false);
    const auto strong = fx::pack_exact_impl(sizes, 150, opts, nullptr, true);
    check_packing(strong, sizes, 150);
    CHECK(strong.bins.size() <= plain.bins.size());
    CHECK(strong.lower_bound >= plain.lower_bound);
    // Bounds from both runs are valid: neither may exceed the other's packing.
    CHECK(strong.lower_bound <= plain.bins.size());
    CHECK(plain.lower_bound <= strong.bins.size());
  }
}

TEST_CASE("exact_primal.lp_bound_edge_cases_and_bad_input") {
  const std::vector<std::uint64_t> none;
  CHECK(lower_bound_lp(none, 10) == 0);
  const std::vector<std::uint64_t> zeros(4, 0);
  CHECK(lower_bound_lp(zeros, 10) == 1);
  const std::vector<std::uint64_t> halves{6, 6, 6};
  CHECK(lower_bound_lp(halves, 10) == 3);
  CHECK_THROWS_AS((void)lower_bound_lp(halves, 0), invalid_input);
  try {
    (void)lower_bound_lp(halves, 0);
  } catch (const invalid_input& e) {
    CHECK(std::string(e.what()).find("capacity") != std::string::npos);
  }
  const std::vector<std::uint64_t> big{3, 12, 4};
  try {
    (void)lower_bound_lp(big, 10);
    FAIL("expected invalid_input");
  } catch (const invalid_input& e) {
    const std::string m = e.what();
    CHECK(m.find("sizes[1]") != std::string::npos);
    CHECK(m.find("12") != std::string::npos);
  }
  // Huge capacity: the pricing step uses its branch and bound; the bound stays valid.
  const std::uint64_t c = std::uint64_t{1} << 40;
  const std::vector<std::uint64_t> large{c / 2 + 1, c / 2 + 1, c / 3, c / 3, c / 3};
  const std::uint64_t lp = lower_bound_lp(large, c);
  CHECK(lp >= 2);
  CHECK(lp <= 3);
}

TEST_CASE("exact_primal.family_generators") {
  using F = ft::bin_packing_family;
  std::size_t total = 0;
  for (F f : {F::falkenauer_u, F::falkenauer_t, F::scholl_1, F::scholl_2, F::scholl_3, F::schwerin_1, F::schwerin_2,
              F::waescher, F::near_irup}) {
    const auto fam = ft::make_family(f);
    REQUIRE(fam.size() == ft::family_size(f));
    total += fam.size();
    for (const auto& inst : fam) {
      REQUIRE(inst.capacity > 0);
      REQUIRE(!inst.sizes.empty());
      for (auto s : inst.sizes) REQUIRE((s >= 1 && s <= inst.capacity));
    }
    const auto again = ft::make_family_instance(f, fam.size() - 1);
    CHECK(again.sizes == fam.back().sizes);
    CHECK_THROWS_AS((void)ft::make_family_instance(f, fam.size()), invalid_input);
  }
  CHECK(total == 1615);
  // Published parameters.
  const auto u = ft::make_family_instance(F::falkenauer_u, 79);
  CHECK(u.capacity == 150);
  CHECK(u.sizes.size() == 1000);
  for (auto s : u.sizes) CHECK((s >= 20 && s <= 100));
  const auto t = ft::make_family_instance(F::falkenauer_t, 0);
  std::uint64_t sum = 0;
  for (auto s : t.sizes) {
    sum += s;
    CHECK((s > 250 && s < 500));
  }
  CHECK(sum == t.known_optimum * 1000);
  const auto h = ft::make_family_instance(F::scholl_3, 3);
  CHECK(h.capacity == 100000);
  CHECK(h.sizes.size() == 200);
  for (auto s : h.sizes) CHECK((s >= 20000 && s <= 35000));
}

TEST_CASE("exact_primal.lp_smoothing_and_warm_start_keep_the_bound") {
  // Dual smoothing and warm-start columns only steer the column generation: every variant's bound
  // stays at or below the brute-force optimum, and converged LP values agree across variants.
  // A bogus warm-start "pattern" over the capacity must be ignored, not trusted.
  rng gen(2323);
  std::size_t agreed = 0;
  for (int trial = 0; trial < 240; ++trial) {
    const std::uint64_t capacity = trial % 2 == 0 ? 100 : 100000;  // DP pricing / Pareto pricing
    const std::size_t n = 4 + static_cast<std::size_t>(gen.below(9));
    const auto sizes = small_instance(gen, capacity, n);
    const std::uint64_t opt = ft::brute_force_bins(sizes, capacity);
    std::vector<std::uint64_t> sorted = sizes, w, d;
    std::sort(sorted.rbegin(), sorted.rend());
    for (std::uint64_t s : sorted) {
      if (w.empty() || w.back() != s) w.push_back(s), d.push_back(0);
      ++d.back();
    }
    // Warm start: first-fit decreasing's bins as patterns, plus one pattern that does not fit.
    std::vector<std::vector<std::uint64_t>> patterns;
    for (const auto& bin : fx::first_fit_decreasing(sizes, all_items(n), capacity)) {
      std::vector<std::uint64_t> pat(w.size(), 0);
      for (index_type i : bin) ++pat[static_cast<std::size_t>(std::find(w.begin(), w.end(), sizes[i]) - w.begin())];
      patterns.push_back(std::move(pat));
    }
    patterns.push_back(d);  // every item in one "bin": over the capacity unless opt == 1
    if (opt == 1) patterns.pop_back();
    double converged_value = -1;
    for (double alpha : {0.0, 0.5, 0.9}) {
      for (bool warm : {false, true}) {
        detail::gg::limits lim;
        lim.smoothing = alpha;
        const auto r = detail::gg::column_generation(w, d, capacity, lim,
                                                     warm ? std::span<const std::vector<std::uint64_t>>(patterns)
                                                          : std::span<const std::vector<std::uint64_t>>());
        INFO("trial " << trial << " alpha " << alpha << " warm " << warm << " lp " << r.lp_value << " opt " << opt);
        REQUIRE(r.bound <= opt);
        REQUIRE(r.lp_value <= static_cast<double>(opt) + 1e-6);
        if (!r.converged) continue;
        if (converged_value < 0)
          converged_value = r.lp_value;
        else
          CHECK(std::abs(r.lp_value - converged_value) <= 1e-6 * converged_value);
      }
    }
    if (converged_value > 0) ++agreed;
  }
  MESSAGE("instances with a converged LP value: " << agreed << " of 240");
  CHECK(agreed > 100);
}

TEST_CASE("exact_primal.scholl_3_needs_and_gets_the_lp_bound") {
  // Scholl's third family (C = 100000): L2 is one bin short on HARD6; the LP bound (sparse master,
  // smoothing, warm start) closes the gap within the deterministic default budget. The claim is
  // checked against the independent checkers and against a second run (determinism).
  const auto inst = ft::make_family_instance(ft::bin_packing_family::scholl_3, 6);
  exact_stats st;
  const auto p = pack_exact(inst.sizes, inst.capacity, {}, &st);
  check_packing(p, inst.sizes, inst.capacity);
  CHECK(st.l2 < p.lower_bound);
  CHECK(st.lp == p.lower_bound);
  CHECK(p.proven_optimal);
  const auto q = pack_exact(inst.sizes, inst.capacity);
  CHECK(p.bins == q.bins);
}

TEST_CASE("exact_primal.pool_search_subset_enumeration_matches_brute_force") {
  // At C = 100000 a refill over few candidates enumerates subsets (Gray code) instead of the DP
  // over the capacity. The same instances at C = 100 and scaled by 1000 take the two paths; both
  // give valid packings, never fewer bins than the brute-force optimum, and reach it from MBS'.
  rng gen(909);
  std::size_t reached_small = 0, reached_big = 0;
  constexpr int trials = 300;
  for (int trial = 0; trial < trials; ++trial) {
    const std::size_t n = 2 + static_cast<std::size_t>(gen.below(11));
    const auto small = small_instance(gen, 100, n);
    std::vector<std::uint64_t> big(n);
    for (std::size_t i = 0; i < n; ++i) big[i] = small[i] * 1000;
    const std::uint64_t opt = ft::brute_force_bins(small, 100);
    const auto items = all_items(n);
    for (int path = 0; path < 2; ++path) {
      const auto& sizes = path == 0 ? small : big;
      const std::uint64_t capacity = path == 0 ? 100 : 100000;
      auto current = fx::minimum_bin_slack(sizes, items, capacity, 2000);
      fx::primal_budget budget;
      budget.work = 2'000'000;
      fx::pool_search ls(sizes, capacity, static_cast<std::uint64_t>(trial));
      while (current.size() > opt) {
        auto next = ls.run(current, current.size() - 1, budget);
        if (next.empty()) break;
        INFO("trial " << trial << " path " << path << " opt " << opt);
        check_bins(next, sizes, capacity);
        REQUIRE(next.size() >= opt);
        current = std::move(next);
      }
      check_bins(current, sizes, capacity);
      if (current.size() == opt) ++(path == 0 ? reached_small : reached_big);
    }
  }
  MESSAGE("optimum reached: DP " << reached_small << ", subsets " << reached_big << " of " << trials);
  CHECK(reached_big >= trials * 9 / 10);
  CHECK(reached_small >= trials * 9 / 10);
}
