// SPDX-License-Identifier: Apache-2.0
// Workload W3 (OmniBal-shaped InternVL instruction data, testing/workloads.hpp): the statistics
// docs/workloads.md states (tiles in {1, 3, 4, 5}, 256 tokens per tile counted in the tokens,
// median ~1300, p99 ~1900, max ~2500 tokens, four sources with different mixes), recomputed here,
// and its determinism and prefix property.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

TEST_SUITE("runtime") {
  TEST_CASE("W3 statistics: tiles - tokens per tile - total-token quantiles - four distinct sources") {
    const std::size_t n = 200000;
    const auto w = testing::generate_w3_with_sources(n);
    std::vector<std::uint64_t> totals;
    std::array<std::array<double, 6>, 4> tiles_by_source{};
    std::array<double, 4> per_source{};
    std::array<double, 4> text_by_source{};
    std::array<double, 6> tiles{};
    for (const auto& s : w) {
      REQUIRE(s.source < 4);
      REQUIRE(s.sample.tokens_per_image == 256);
      const std::uint32_t v = s.sample.images;
      REQUIRE((v == 1 || v == 3 || v == 4 || v == 5));
      REQUIRE(s.sample.text_tokens >= 8);
      REQUIRE(s.sample.tokens() == 256u * v + s.sample.text_tokens);
      totals.push_back(s.sample.tokens());
      tiles[v] += 1;
      tiles_by_source[s.source][v] += 1;
      per_source[s.source] += 1;
      text_by_source[s.source] += s.sample.text_tokens;
    }
    std::sort(totals.begin(), totals.end());
    const auto q = [&](double p) { return totals[static_cast<std::size_t>(p * static_cast<double>(n - 1))]; };
    CHECK(q(0.5) >= 1250);
    CHECK(q(0.5) <= 1350);
    CHECK(q(0.99) >= 1800);
    CHECK(q(0.99) <= 2000);
    CHECK(totals.back() <= 2500);
    CHECK(totals.back() >= 2400);
    CHECK(q(0.1) >= 700);
    CHECK(q(0.9) <= 1550);
    // Overall tile mix about 9 % / 32 % / 1 % / 58 %.
    CHECK(tiles[1] / static_cast<double>(n) == doctest::Approx(0.09).epsilon(0.15));
    CHECK(tiles[3] / static_cast<double>(n) == doctest::Approx(0.32).epsilon(0.1));
    CHECK(tiles[5] / static_cast<double>(n) == doctest::Approx(0.58).epsilon(0.1));
    // Four sources, each present, with different mixes: the share of 5-tile samples and the mean
    // text length differ pairwise.
    for (std::size_t a = 0; a < 4; ++a) {
      CAPTURE(a);
      CHECK(per_source[a] / static_cast<double>(n) == doctest::Approx(testing::w3_sources[a].share).epsilon(0.05));
      for (std::size_t b = a + 1; b < 4; ++b) {
        const double fa = tiles_by_source[a][5] / per_source[a], fb = tiles_by_source[b][5] / per_source[b];
        const double ta = text_by_source[a] / per_source[a], tb = text_by_source[b] / per_source[b];
        CHECK((std::abs(fa - fb) > 0.1 || std::abs(ta - tb) > 10.0));
      }
    }
  }

  TEST_CASE("W3 is deterministic and a prefix of a larger W3 equals a smaller W3") {
    const auto a = testing::generate_w3(5000);
    const auto b = testing::generate_w3(20000);
    const auto c = testing::generate_w3(5000, 7);
    CHECK(std::equal(a.begin(), a.end(), b.begin()));
    CHECK(a == testing::generate_w3(5000));
    CHECK_FALSE(a == c);
  }
}
