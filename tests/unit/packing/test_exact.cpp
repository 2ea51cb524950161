// SPDX-License-Identifier: Apache-2.0
// pack_exact: agreement with a brute-force oracle on thousands of small instances, proofs on the
// known-optimum families (triplets, tuples) up to 90 items, validity, bounds, anytime limits,
// determinism and bad input.
#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fulcrum/core/rng.hpp"
#include "fulcrum/packing/bounds.hpp"
#include "fulcrum/packing/exact.hpp"
#include "fulcrum/testing/checkers.hpp"
#include "fulcrum/testing/packing_instances.hpp"

using namespace fulcrum;
namespace ft = fulcrum::testing;

namespace {

void check_valid(const packing& p, std::span<const std::uint64_t> sizes, std::uint64_t capacity) {
  const auto once = ft::check_exactly_once(p.bins, sizes.size());
  REQUIRE_MESSAGE(once.ok, once.message);
  const auto cap = ft::check_capacity(p.bins, sizes, capacity);
  REQUIRE_MESSAGE(cap.ok, cap.message);
  const auto loads = ft::check_loads(p.bins, sizes, std::span<const std::uint64_t>(p.loads));
  REQUIRE_MESSAGE(loads.ok, loads.message);
  REQUIRE(p.bins.size() >= p.lower_bound);
  REQUIRE(p.lower_bound >= lower_bound_l2(sizes, capacity));
  REQUIRE(p.proven_optimal == (p.bins.size() == p.lower_bound));
  REQUIRE(p.algorithm == pack_algorithm::exact);
}

}  // namespace

TEST_CASE("exact.brute_force_agreement") {
  // Thousands of random small instances, several size regimes, against the subset-DP oracle.
  rng gen(7);
  int solved = 0;
  for (int t = 0; t < 3000; ++t) {
    const std::size_t n = 1 + gen.below(12);
    const std::uint64_t capacity = 2 + gen.below(t % 3 == 0 ? 20 : 200);
    const int regime = t % 4;
    std::vector<std::uint64_t> sizes(n);
    for (auto& s : sizes) {
      if (regime == 0) s = gen.below(capacity + 1);                       // anything, zeros included
      else if (regime == 1) s = capacity / 4 + gen.below(capacity / 2 + 1);  // medium: L2 often loose
      else if (regime == 2) s = 1 + gen.below(std::max<std::uint64_t>(capacity / 3, 1));  // small
      else s = capacity / 3 + gen.below(capacity - capacity / 3 + 1);      // large
      if (s > capacity) s = capacity;
    }
    const auto p = pack_exact(sizes, capacity);
    check_valid(p, sizes, capacity);
    const auto opt = ft::brute_force_bins(sizes, capacity);
    INFO("instance " << t << " n=" << n << " C=" << capacity);
    REQUIRE(p.proven_optimal);
    REQUIRE(p.bins.size() == opt);
    REQUIRE(p.lower_bound == opt);
    ++solved;
  }
  CHECK(solved == 3000);
}

TEST_CASE("exact.brute_force_agreement_loose_bound") {
  // Instances built so that L2 is below the optimum: the proof needs an exhausted search.
  rng gen(11);
  int loose = 0;
  for (int t = 0; t < 800; ++t) {
    const std::size_t n = 8 + gen.below(7);
    const std::uint64_t capacity = 100;
    std::vector<std::uint64_t> sizes(n);
    for (auto& s : sizes) s = 26 + gen.below(30);  // 26..55: pairs and triples compete
    const auto opt = ft::brute_force_bins(sizes, capacity);
    const auto p = pack_exact(sizes, capacity);
    check_valid(p, sizes, capacity);
    REQUIRE(p.proven_optimal);
    REQUIRE(p.bins.size() == opt);
    if (lower_bound_l2(sizes, capacity) < opt) ++loose;
  }
  MESSAGE("instances with L2 < optimum: " << loose);
  CHECK(loose > 0);
}

TEST_CASE("exact.triplets_up_to_90_items") {
  for (std::size_t bins : {5u, 10u, 20u, 30u}) {
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
      const auto inst = ft::triplet_instance(bins, 1000, seed * 131 + bins);
      pack_options opts;
      opts.limits.nodes = 5'000'000;
      const auto p = pack_exact(inst.sizes, inst.capacity, opts);
      check_valid(p, inst.sizes, inst.capacity);
      INFO("bins=" << bins << " seed=" << seed);
      CHECK(p.proven_optimal);
      CHECK(p.bins.size() == inst.optimum);
    }
  }
}

TEST_CASE("exact.tuples_never_claim_a_false_optimum") {
  // 2..5 items per exactly full bin: most are proved within the node budget; none may be claimed
  // optimal at a wrong bin count (the prtpy failure), and every answer must be a valid packing.
  rng gen(3);
  int proved = 0, total = 0;
  for (int t = 0; t < 40; ++t) {
    const std::size_t bins = 5 + gen.below(12);
    const auto inst = ft::tuple_instance(bins, 2048, 2, 5, 1000 + static_cast<std::uint64_t>(t));
    if (inst.sizes.size() > 60) continue;
    pack_options opts;
    opts.limits.nodes = 2'000'000;
    const auto p = pack_exact(inst.sizes, inst.capacity, opts);
    check_valid(p, inst.sizes, inst.capacity);
    INFO("t=" << t << " n=" << inst.sizes.size());
    REQUIRE(p.lower_bound <= inst.optimum);
    if (p.proven_optimal) CHECK(p.bins.size() == inst.optimum);
    proved += p.proven_optimal ? 1 : 0;
    ++total;
  }
  MESSAGE("tuples proved: " << proved << " / " << total);
  CHECK(proved * 10 >= total * 9);
}

TEST_CASE("exact.node_limit_is_anytime_and_deterministic") {
  // A tiny node budget: still a valid packing, bound respected, no false claim of optimality.
  const auto inst = ft::triplet_instance(30, 1000, 99);
  pack_options opts;
  opts.limits.nodes = 50;
  const auto a = pack_exact(inst.sizes, inst.capacity, opts);
  check_valid(a, inst.sizes, inst.capacity);
  if (a.proven_optimal) CHECK(a.bins.size() == inst.optimum);
  else CHECK(a.bins.size() > a.lower_bound);
  const auto b = pack_exact(inst.sizes, inst.capacity, opts);
  CHECK(a.bins == b.bins);
  CHECK(a.lower_bound == b.lower_bound);
  // Same result with the default (large) limits, twice.
  const auto c = pack_exact(inst.sizes, inst.capacity);
  const auto d = pack_exact(inst.sizes, inst.capacity);
  CHECK(c.bins == d.bins);
  CHECK(c.proven_optimal);
}

TEST_CASE("exact.zero_time_limit_returns_valid_packing") {
  const auto sizes = ft::uniform_instance(60, 20, 70, 5);
  pack_options opts;
  opts.limits.time = std::chrono::milliseconds(0);
  const auto p = pack_exact(sizes, 100, opts);
  check_valid(p, sizes, 100);
}

TEST_CASE("exact.edge_cases") {
  SUBCASE("empty") {
    const std::vector<std::uint64_t> none;
    const auto p = pack_exact(none, 10);
    CHECK(p.bins.size() == 0);
    CHECK(p.lower_bound == 0);
    CHECK(p.proven_optimal);
  }
  SUBCASE("only zero sizes") {
    const std::vector<std::uint64_t> zeros(5, 0);
    const auto p = pack_exact(zeros, 10);
    check_valid(p, zeros, 10);
    CHECK(p.bins.size() == 1);
  }
  SUBCASE("items equal to capacity") {
    const std::vector<std::uint64_t> full{10, 10, 10, 0, 3};
    const auto p = pack_exact(full, 10);
    check_valid(p, full, 10);
    CHECK(p.bins.size() == 4);
  }
  SUBCASE("huge sizes do not overflow") {
    const std::uint64_t big = std::uint64_t{1} << 62;
    const std::vector<std::uint64_t> sizes{big, big - 1, big, 1};
    const auto p = pack_exact(sizes, big * 2);
    check_valid(p, sizes, big * 2);
    CHECK(p.bins.size() == 2);
  }
}

TEST_CASE("exact.bad_input") {
  const std::vector<std::uint64_t> sizes{3, 12, 4};
  CHECK_THROWS_AS((void)pack_exact(sizes, 0), invalid_input);
  try {
    (void)pack_exact(sizes, 10);
    FAIL("expected infeasible");
  } catch (const infeasible& e) {
    const std::string m = e.what();
    CHECK(m.find("sizes[1]") != std::string::npos);
    CHECK(m.find("12") != std::string::npos);
  }
}

TEST_CASE("exact.sum_beyond_64_bits") {
  // Sums are 128-bit inside: sizes whose total overflows 64 bits still pack (one bin each here).
  const std::uint64_t max = ~std::uint64_t{0};
  const std::vector<std::uint64_t> sizes{max, max, max / 2, max / 2 + 1};
  const auto p = pack_exact(sizes, max);
  check_valid(p, sizes, max);
  CHECK(p.bins.size() == 3);
  CHECK(p.proven_optimal);
}

TEST_CASE("exact.oracle_self_check") {
  // The oracle itself on hand-made cases.
  const std::vector<std::uint64_t> a{5, 5, 5, 5};
  CHECK(ft::brute_force_bins(a, 10) == 2);
  const std::vector<std::uint64_t> b{6, 6, 6};
  CHECK(ft::brute_force_bins(b, 10) == 3);
  const std::vector<std::uint64_t> c{4, 4, 4, 3, 3, 2};
  CHECK(ft::brute_force_bins(c, 10) == 2);
  const auto t = ft::triplet_instance(4, 1000, 1);
  CHECK(ft::brute_force_bins(t.sizes, t.capacity) == 4);
  for (auto s : t.sizes) CHECK((s > 250 && s < 500));
}
