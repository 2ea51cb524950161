// SPDX-License-Identifier: Apache-2.0
// grouping as a range, per-group sums, composition, and the group-count limits of from_assignment.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <ranges>
#include <span>
#include <vector>

#include <fulcrum/core/grouping.hpp>
#include <fulcrum/core/hash.hpp>
#include <fulcrum/core/rng.hpp>

using namespace fulcrum;

static_assert(std::ranges::random_access_range<grouping>);
static_assert(std::ranges::sized_range<grouping>);
static_assert(std::random_access_iterator<grouping::iterator>);
static_assert(std::same_as<std::ranges::range_reference_t<grouping>, std::span<const index_type>>);

namespace {

grouping random_grouping(std::size_t items, std::size_t groups, std::uint64_t seed) {
  rng gen(seed);
  std::vector<std::uint32_t> g(items);
  for (auto& x : g) x = static_cast<std::uint32_t>(gen.below(groups));
  return grouping::from_assignment(g, groups);
}

}  // namespace

TEST_SUITE("core") {
  TEST_CASE("grouping is a random-access range of its groups") {
    const auto g = random_grouping(50, 7, 1);
    std::size_t n = 0;
    for (std::span<const index_type> group : g) {
      const auto expected = g[n];
      CHECK(group.data() == expected.data());
      CHECK(group.size() == expected.size());
      ++n;
    }
    CHECK(n == g.size());
    CHECK(std::ranges::size(g) == g.size());
    CHECK(g.end() - g.begin() == static_cast<std::ptrdiff_t>(g.size()));
    CHECK(g.begin()[3].data() == g[3].data());
    CHECK((g.begin() + 2 < g.end()));
    auto it = g.end();
    --it;
    CHECK((*it).data() == g[g.size() - 1].data());
    const grouping empty;
    CHECK(empty.begin() == empty.end());
  }

  TEST_CASE("group_sums matches a naive sum per group") {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      const std::size_t items = 1 + seed * 7, groups = 1 + seed % 5;
      const auto g = random_grouping(items, groups, seed);
      std::vector<std::uint64_t> sizes(items);
      std::vector<double> costs(items);
      for (std::size_t i = 0; i < items; ++i) {
        sizes[i] = (i * 2654435761u) % 1000;
        costs[i] = 0.5 * static_cast<double>(i) + 0.25;
      }
      const auto s = group_sums(g, sizes);
      const auto c = group_sums(g, std::span<const double>(costs));
      REQUIRE(s.size() == groups);
      REQUIRE(c.size() == groups);
      const auto of = g.assignment(items);
      std::vector<std::uint64_t> naive_s(groups, 0);
      std::vector<double> naive_c(groups, 0);
      for (std::size_t i = 0; i < items; ++i) {  // index order == group order for from_assignment
        naive_s[of[i]] += sizes[i];
        naive_c[of[i]] += costs[i];
      }
      CHECK(s == naive_s);
      CHECK(c == naive_c);
    }
  }

  TEST_CASE("group_sums rejects overflow and out-of-range indices") {
    const auto g = grouping::from_groups({{0, 1}, {2}});
    const std::vector<std::uint64_t> big{std::numeric_limits<std::uint64_t>::max(), 1, 5};
    CHECK_THROWS_WITH_AS((void)group_sums(g, big), doctest::Contains("overflows"), invalid_input);
    const std::vector<std::int32_t> neg{std::numeric_limits<std::int32_t>::min(), -1, 0};
    CHECK_THROWS_AS((void)group_sums(g, neg), invalid_input);
    const std::vector<std::uint64_t> short_list{1, 2};
    CHECK_THROWS_WITH_AS((void)group_sums(g, short_list), doctest::Contains("index[1] = 2"), invalid_input);
  }

  TEST_CASE("compose flattens packs of samples onto ranks") {
    // 6 samples in 4 packs; packs onto 2 ranks.
    const auto packs = grouping::from_groups({{0, 3}, {1}, {2, 4}, {5}});
    const auto ranks = grouping::from_groups({{2, 0}, {1, 3}});
    const auto samples = compose(ranks, packs);
    CHECK(samples == grouping::from_groups({{2, 4, 0, 3}, {1, 5}}));
    CHECK_THROWS_AS((void)compose(grouping::from_groups({{4}}), packs), invalid_input);
    // Against a naive recomputation on random instances.
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      const auto inner = random_grouping(40 + seed, 9, seed);
      const auto outer = random_grouping(9, 3, seed + 100);
      const auto c = compose(outer, inner);
      std::vector<std::vector<index_type>> naive(outer.size());
      for (std::size_t g = 0; g < outer.size(); ++g)
        for (index_type j : outer[g])
          for (index_type i : inner[j]) naive[g].push_back(i);
      CHECK(c == grouping::from_groups(naive));
      // Sums compose too: the sum over a rank = sum of its packs' sums.
      std::vector<std::uint64_t> w(inner.item_count());
      for (std::size_t i = 0; i < w.size(); ++i) w[i] = i + 1;
      CHECK(group_sums(c, w) == group_sums(outer, group_sums(inner, w)));
    }
  }

  TEST_CASE("from_assignment rejects absurd group counts before allocating") {
    // Regression: groups == SIZE_MAX made `groups + 1` wrap to 0 and wrote through a null pointer.
    const std::vector<std::uint32_t> one{0};
    CHECK_THROWS_WITH_AS(grouping::from_assignment(one, std::numeric_limits<std::size_t>::max()),
                         doctest::Contains("groups"), invalid_input);
    const std::vector<std::uint32_t> none;
    CHECK_THROWS_AS(grouping::from_assignment(none, std::numeric_limits<std::size_t>::max()), invalid_input);
    CHECK_THROWS_AS(grouping::from_assignment(one, grouping::max_groups + 1), invalid_input);
    const std::vector<int> negative{0, -1};
    CHECK_THROWS_WITH_AS(grouping::from_assignment(negative, 2), doctest::Contains("negative"), invalid_input);
    CHECK(grouping::from_assignment(one, 1).size() == 1);
  }

  TEST_CASE("fnv1a64 matches the reference vectors and the fingerprint is unchanged") {
    // FNV-1a 64 reference values: "" and "a".
    CHECK(fnv1a64{}.value() == 0xcbf29ce484222325ULL);
    const std::byte a[] = {std::byte{'a'}};
    CHECK(fnv1a64_bytes(a) == 0xaf63dc4c8601ec8cULL);
    // The fingerprint of a fixed grouping is pinned (plans are compared across runs by it).
    const auto g = grouping::from_groups({{0, 2}, {1}});
    std::uint64_t h = 0xcbf29ce484222325ULL;  // the former hand-written loop
    auto mix = [&h](std::uint64_t v) {
      for (int b = 0; b < 8; ++b) {
        h ^= (v >> (8 * b)) & 0xffU;
        h *= 0x100000001b3ULL;
      }
    };
    mix(g.size());
    for (auto o : g.offsets()) mix(o);
    for (auto i : g.indices()) mix(i);
    CHECK(g.fingerprint() == h);
  }
}
