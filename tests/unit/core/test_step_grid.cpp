#include <doctest/doctest.h>

#include <cstddef>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

#include <fulcrum/core/step_grid.hpp>

using namespace fulcrum;

namespace {
std::vector<index_type> items(std::span<const index_type> s) {
  return {s.begin(), s.end()};
}
}  // namespace

TEST_SUITE("core") {
  TEST_CASE("step_grid accessors follow the step-major layout") {
    // 3 steps x 2 ranks: group s*2+r holds item 10*s + r (and group (1 1) holds two items).
    const auto g = grouping::from_groups({{0}, {1}, {10}, {11, 12}, {20}, {}});
    const step_grid grid(g, 3, 2);
    CHECK(grid.steps() == 3);
    CHECK(grid.ranks() == 2);
    CHECK(grid.item_count() == 6);
    CHECK(grid.groups() == g);
    for (std::size_t s = 0; s < 3; ++s)
      for (std::size_t r = 0; r < 2; ++r) {
        CHECK(items(grid(s, r)) == items(g[s * 2 + r]));
        CHECK(items(grid.at(s, r)) == items(g[s * 2 + r]));
      }
    CHECK(items(grid(1, 1)) == std::vector<index_type>{11, 12});
    CHECK(grid(2, 1).empty());

    // One rank over all steps.
    const auto rank1 = grid.rank_groups(1);
    REQUIRE(rank1.size() == 3);
    CHECK(items(rank1[0]) == std::vector<index_type>{1});
    CHECK(items(rank1[1]) == std::vector<index_type>{11, 12});
    CHECK(rank1[2].empty());
    std::vector<index_type> seen;
    for (auto group : rank1) seen.insert(seen.end(), group.begin(), group.end());
    CHECK(seen == std::vector<index_type>{1, 11, 12});
    CHECK(grid.rank_item_count(0) == 3);
    CHECK(grid.rank_item_count(1) == 3);

    // One step over all ranks, and the range over steps.
    const auto step1 = grid.step(1);
    REQUIRE(step1.size() == 2);
    CHECK(items(step1[0]) == std::vector<index_type>{10});
    CHECK(step1.item_count() == 3);
    std::size_t s = 0;
    for (const auto& step : grid.by_step()) {
      std::size_t r = 0;
      for (auto group : step) {
        CHECK(items(group) == items(g[s * 2 + r]));
        ++r;
      }
      CHECK(r == 2);
      ++s;
    }
    CHECK(s == 3);
  }

  TEST_CASE("step_grid from_rank_major transposes the layout") {
    // Rank-major: group r*3+s holds item 10*s + r.
    const auto rank_major = grouping::from_groups({{0}, {10}, {20}, {1}, {11}, {21}});
    const auto grid = step_grid::from_rank_major(rank_major, 3, 2);
    for (std::size_t s = 0; s < 3; ++s)
      for (std::size_t r = 0; r < 2; ++r)
        CHECK(items(grid(s, r)) == std::vector<index_type>{static_cast<index_type>(10 * s + r)});
    CHECK(grid.groups() == grouping::from_groups({{0}, {1}, {10}, {11}, {20}, {21}}));
    CHECK(grid.rank_major_groups() == rank_major);
    CHECK(step_grid::from_rank_major(grid.rank_major_groups(), 3, 2) == grid);
    CHECK_THROWS_AS((void)step_grid::from_rank_major(rank_major, 2, 2), invalid_input);
  }

  TEST_CASE("step_grid validates its shape") {
    const auto g = grouping::from_groups({{0}, {1}, {2}, {3}});
    CHECK_NOTHROW(step_grid(g, 2, 2));
    CHECK_NOTHROW(step_grid(g, 4, 1));
    CHECK_NOTHROW(step_grid(g, 1, 4));
    CHECK_THROWS_WITH_AS(step_grid(g, 3, 2), doctest::Contains("groups.size() = 4"), invalid_input);
    CHECK_THROWS_AS(step_grid(g, 2, 1), invalid_input);
    CHECK_THROWS_AS(step_grid(g, 0, 4), invalid_input);
    // steps * ranks overflows to 4 (2^63 * 2 + 4 wraps): must be rejected as overflow, not accepted.
    constexpr std::size_t half = std::size_t{1} << (std::numeric_limits<std::size_t>::digits - 1);
    CHECK_THROWS_WITH_AS(step_grid(g, half, 2), doctest::Contains("overflows"), invalid_input);
    CHECK_THROWS_WITH_AS(step_grid(g, std::numeric_limits<std::size_t>::max(), std::numeric_limits<std::size_t>::max()),
                         doctest::Contains("overflows"), invalid_input);
    // Empty grids.
    const step_grid empty;
    CHECK(empty.steps() == 0);
    CHECK(empty.ranks() == 0);
    CHECK(empty.by_step().empty());
    CHECK_NOTHROW(step_grid(grouping(), 0, 5));
    CHECK_NOTHROW(step_grid(grouping(), 7, 0));
    CHECK(step_grid(grouping(), 7, 0).rank_groups(0).size() == 7);
  }

  TEST_CASE("step_grid at() rejects a step or rank out of range") {
    const step_grid grid(grouping::from_groups({{0}, {1}, {2}, {3}, {4}, {5}}), 2, 3);
    CHECK(items(grid.at(1, 2)) == std::vector<index_type>{5});
    CHECK_THROWS_WITH_AS((void)grid.at(2, 0), doctest::Contains("step = 2"), invalid_input);
    CHECK_THROWS_WITH_AS((void)grid.at(0, 3), doctest::Contains("rank = 3"), invalid_input);
    CHECK_THROWS_AS((void)grid.at(std::numeric_limits<std::size_t>::max(), 0), invalid_input);
  }

  TEST_CASE("step_grid does not convert from a flat grouping") {
    static_assert(!std::is_convertible_v<grouping, step_grid>);
    static_assert(!std::is_convertible_v<step_grid, grouping>);
    static_assert(!std::is_constructible_v<step_grid, grouping>);
  }
}
