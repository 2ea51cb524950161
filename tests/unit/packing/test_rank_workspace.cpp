// SPDX-License-Identifier: Apache-2.0
// pack_for_ranks with a caller-owned rank_packing_workspace and result: zero heap allocations on
// repeated calls (counted by replacing the global operator new in this test executable), plans
// identical to the value-returning overload (one workspace reused across sizes, ranks, dimensions,
// policies and cost models), independent structure checks (every item exactly once, capacities
// held, loads and costs recomputed), and bad input: the same errors, the workspace usable after.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <fulcrum/core/cost_model.hpp>
#include <fulcrum/packing/rank_packing.hpp>
#include <fulcrum/testing/workloads.hpp>

#include "../../support/counting_new.hpp"  // counts heap allocations (test_support::allocations)

using namespace fulcrum;

namespace {

using size2 = std::array<std::uint64_t, 2>;

std::vector<std::uint32_t> w1_tokens(std::size_t n, std::uint32_t cap) {
  auto t = testing::generate_w1_tokens(n);
  for (auto& v : t) v = std::min(v, cap);
  return t;
}

std::vector<size2> w1_pairs(std::size_t n, const size2& cap) {
  std::vector<size2> w;
  for (const auto& s : testing::generate_w1(n))
    w.push_back({std::min<std::uint64_t>(s.images, cap[0]), std::min<std::uint64_t>(s.tokens(), cap[1])});
  return w;
}

void require_same(const rank_packing& a, const rank_packing& b) {
  REQUIRE(a.steps() == b.steps());
  REQUIRE(a.ranks() == b.ranks());
  REQUIRE(a.bins.groups() == b.bins.groups());
  REQUIRE(a.dims == b.dims);
  REQUIRE(a.loads == b.loads);
  REQUIRE(a.costs == b.costs);  // bit-identical doubles
  REQUIRE(a.lower_bound == b.lower_bound);
  REQUIRE(a.used_bins == b.used_bins);
  REQUIRE(a.dist == b.dist);
  REQUIRE(a.pad == b.pad);
  REQUIRE(a.cost_dist == b.cost_dist);
  REQUIRE(a.proven_optimal == b.proven_optimal);
}

/// Every item exactly once, every bin within the capacity, loads recomputed from the sizes.
template <std::size_t D>
void require_valid(const rank_packing& r, const std::vector<std::array<std::uint64_t, D>>& sizes,
                   const std::array<std::uint64_t, D>& cap) {
  std::vector<int> seen(sizes.size(), 0);
  REQUIRE(r.bins.groups().size() == r.steps() * r.ranks());
  for (std::size_t b = 0; b < r.bins.groups().size(); ++b) {
    std::array<std::uint64_t, D> load{};
    for (const auto i : r.bins.groups()[b]) {
      REQUIRE(i < sizes.size());
      ++seen[i];
      for (std::size_t d = 0; d < D; ++d) load[d] += sizes[i][d];
    }
    for (std::size_t d = 0; d < D; ++d) {
      REQUIRE(load[d] <= cap[d]);
      REQUIRE(r.loads[b * D + d] == load[d]);
    }
  }
  for (const int s : seen) REQUIRE(s == 1);
}

}  // namespace

TEST_CASE("pack_for_ranks workspace: zero heap allocations on repeated calls") {
  rank_packing_workspace ws;
  rank_packing out;
  SUBCASE("W1 4096 samples - 64 ranks - attention cost") {
    const auto tokens = w1_tokens(4096, 8192);
    for (int i = 0; i < 3; ++i) pack_for_ranks(tokens, 8192, 64, ws, out, rank_pack_options{}, attention_cost{});
    const std::size_t before = test_support::allocations.load();
    for (int i = 0; i < 5; ++i) pack_for_ranks(tokens, 8192, 64, ws, out, rank_pack_options{}, attention_cost{});
    CHECK(test_support::allocations.load() - before == 0);
    REQUIRE(out.used_bins > 0);
  }
  SUBCASE("W1 (images - tokens) - 8 ranks - balance_sizes") {
    const size2 cap{8, 8192};
    const auto w = w1_pairs(3000, cap);
    for (int i = 0; i < 3; ++i) pack_for_ranks(w, cap, 8, ws, out);
    const std::size_t before = test_support::allocations.load();
    for (int i = 0; i < 5; ++i) pack_for_ranks(w, cap, 8, ws, out);
    CHECK(test_support::allocations.load() - before == 0);
  }
  SUBCASE("alternating batches of the same shape") {
    const auto a = w1_tokens(2048, 8192);
    auto b = testing::generate_w1_tokens(2048, 99);
    for (auto& v : b) v = std::min<std::uint32_t>(v, 8192);
    for (int i = 0; i < 4; ++i) {
      pack_for_ranks(a, 8192, 32, ws, out, rank_pack_options{}, attention_cost{});
      pack_for_ranks(b, 8192, 32, ws, out, rank_pack_options{}, attention_cost{});
    }
    const std::size_t before = test_support::allocations.load();
    for (int i = 0; i < 3; ++i) {
      pack_for_ranks(a, 8192, 32, ws, out, rank_pack_options{}, attention_cost{});
      pack_for_ranks(b, 8192, 32, ws, out, rank_pack_options{}, attention_cost{});
    }
    CHECK(test_support::allocations.load() - before == 0);
  }
}

TEST_CASE("pack_for_ranks workspace: plans identical to the value overload") {
  rank_packing_workspace ws;  // one workspace and one result across every shape below
  rank_packing out;
  for (const std::size_t n : {0, 1, 7, 300, 5000})
    for (const std::size_t ranks : {1, 3, 16, 17, 64}) {
      CAPTURE(n);
      CAPTURE(ranks);
      const auto tokens = w1_tokens(n, 8192);
      std::vector<std::array<std::uint64_t, 1>> t1;
      for (const auto v : tokens) t1.push_back({v});
      pack_for_ranks(tokens, 8192, ranks, ws, out, rank_pack_options{}, attention_cost{});
      require_same(out, pack_for_ranks(tokens, 8192, ranks, rank_pack_options{}, attention_cost{}));
      require_valid<1>(out, t1, {8192});
      REQUIRE(out.costs.size() == out.bins.groups().size());
      for (std::size_t b = 0; b < out.costs.size(); ++b) {
        double c = 0;
        for (const auto i : out.bins.groups()[b]) c += attention_cost{}(tokens[i]);
        REQUIRE(out.costs[b] == doctest::Approx(c));
      }
      const size2 cap{8, 8192};
      const auto w = w1_pairs(n, cap);
      rank_pack_options o;
      o.seed = 11 + n;
      pack_for_ranks(w, cap, ranks, ws, out, o);
      require_same(out, pack_for_ranks(w, cap, ranks, o));
      require_valid<2>(out, w, cap);
      // Oversize policies on the unclipped tokens (capacity 4096).
      const auto raw = testing::generate_w1_tokens(n);
      for (const oversize policy : {oversize::truncate, oversize::own_bin}) {
        o.oversize_policy = policy;
        pack_for_ranks(raw, 4096, ranks, ws, out, o);
        require_same(out, pack_for_ranks(raw, 4096, ranks, o));
      }
      // The multi_best_fit_decreasing fallback (coarse capacity >= 4096).
      const size2 big{4096, 8192};
      pack_for_ranks(w, big, ranks, ws, out);
      require_same(out, pack_for_ranks(w, big, ranks));
    }
}

TEST_CASE("pack_for_ranks workspace: bad input gives the same errors and the workspace stays usable") {
  rank_packing_workspace ws;
  rank_packing out;
  const auto tokens = w1_tokens(500, 8192);
  auto message = [](auto&& call) {
    try {
      call();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::vector<std::uint32_t> over = tokens;
  over[17] = 9000;
  const std::string a = message([&] { pack_for_ranks(over, 8192, 8, ws, out); });
  CHECK(a == message([&] { (void)pack_for_ranks(over, 8192, 8); }));
  CHECK(a.find("9000") != std::string::npos);
  const std::string b = message([&] { pack_for_ranks(tokens, 8192, 0, ws, out); });
  CHECK(b == message([&] { (void)pack_for_ranks(tokens, 8192, 0); }));
  CHECK(b.find("ranks") != std::string::npos);
  const auto negative = [](std::uint32_t l) { return l == 42 ? -1.0 : static_cast<double>(l); };
  std::vector<std::uint32_t> with42 = tokens;
  with42[3] = 42;
  const std::string c = message([&] { pack_for_ranks(with42, 8192, 8, ws, out, rank_pack_options{}, negative); });
  CHECK(c == message([&] { (void)pack_for_ranks(with42, 8192, 8, rank_pack_options{}, negative); }));
  CHECK(c.find("cost") != std::string::npos);
  pack_for_ranks(tokens, 8192, 8, ws, out);
  require_same(out, pack_for_ranks(tokens, 8192, 8));
}

TEST_CASE("grouping and step_grid assign: copies - checks like the constructors - keeps storage") {
  const std::vector<std::size_t> offsets{0, 2, 2, 5};
  const std::vector<index_type> indices{4, 1, 0, 2, 3};
  grouping g;
  g.assign(offsets, indices);
  CHECK(g == grouping(offsets, indices));
  const std::vector<std::size_t> bad{0, 3, 2, 5};
  CHECK_THROWS_AS(g.assign(bad, indices), invalid_input);
  CHECK(g == grouping(offsets, indices));  // unchanged after a failed assign
  const std::vector<std::size_t> short_offsets{0, 2, 4};
  CHECK_THROWS_AS(g.assign(short_offsets, indices), invalid_input);  // last offset != indices
  step_grid grid;
  grid.assign(offsets, indices, 3, 1);
  CHECK(grid.steps() == 3);
  CHECK(grid.ranks() == 1);
  CHECK(grid.groups() == grouping(offsets, indices));
  CHECK_THROWS_AS(grid.assign(offsets, indices, 2, 2), invalid_input);  // 3 groups != 2 x 2
  CHECK(grid.steps() == 3);
  const std::size_t before = test_support::allocations.load();
  grid.assign(offsets, indices, 1, 3);  // same sizes: the storage is reused
  CHECK(test_support::allocations.load() - before == 0);
  CHECK(grid.ranks() == 3);
}
