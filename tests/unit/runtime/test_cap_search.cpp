// SPDX-License-Identifier: Apache-2.0
// search_caps (runtime/cap_search.hpp): against brute force over a small cap grid (every candidate
// planned and priced independently), with and without a per-micro-batch overhead and a target
// micro-batch size; estimated_epoch_time by hand; the pruning bound is valid; bad input.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <fulcrum/core/step_grid.hpp>
#include <fulcrum/runtime/cap_search.hpp>
#include <fulcrum/runtime/epoch_plan.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {
using size2 = std::array<std::uint64_t, 2>;

size2 tiles_tokens(const multimodal_sample& s) {
  return size2{s.images, s.tokens()};
}

/// Independent price of a grid: sum over steps of max over ranks of (overhead + tokens).
double price(const step_grid& g, const std::vector<size2>& sizes, double overhead) {
  double total = 0;
  for (std::size_t s = 0; s < g.steps(); ++s) {
    double mx = 0;
    for (std::size_t r = 0; r < g.ranks(); ++r) {
      if (g(s, r).empty()) continue;
      double t = overhead;
      for (const index_type i : g(s, r)) t += static_cast<double>(sizes[i][1]);
      mx = std::max(mx, t);
    }
    total += mx;
  }
  return total;
}
}  // namespace

TEST_SUITE("runtime") {
  TEST_CASE("estimated_epoch_time by hand") {
    // 2 steps x 2 ranks: (0,0) = {0, 1}, (0,1) = {2}, (1,0) = {3}, (1,1) = {}.
    const std::vector<std::vector<index_type>> groups = {{0, 1}, {2}, {3}, {}};
    const step_grid g(grouping::from_groups(groups), 2, 2);
    const std::vector<double> t = {1, 2, 5, 4};
    CHECK(estimated_epoch_time(g, std::span<const double>(t)) == doctest::Approx(5 + 4));
    CHECK(estimated_epoch_time(g, std::span<const double>(t), 10.0) == doctest::Approx(15 + 14));
  }

  TEST_CASE("search_caps equals brute force over a small cap grid") {
    const auto w = testing::generate_w3(3000);
    std::vector<size2> sizes;
    for (const auto& s : w) sizes.push_back(tiles_tokens(s));
    const cap_grid grid{{5, 9, 12, 16, 20}, {2048, 3072, 4096, 4672, 5824}};
    for (const double overhead : {0.0, 300.0, 3000.0}) {
      for (const double target : {0.0, 3.0, 4.0}) {
        CAPTURE(overhead);
        CAPTURE(target);
        const cap_search_options opts{.overhead = overhead, .target_items = target, .tolerance = 0.15};
        const cap_search_result r = search_caps(w, grid, 4, opts, text_size_cost{}, tiles_tokens);
        // Brute force: plan and price every candidate.
        double best = std::numeric_limits<double>::infinity();
        size2 best_caps{};
        std::size_t k = 0;
        for (const std::uint64_t v : grid.vision)
          for (const std::uint64_t t : grid.text) {
            const size2 cap{v, t};
            const cap_candidate& c = r.candidates[k++];
            REQUIRE(c.caps == cap);
            bool fits = true;
            for (const auto& x : sizes) fits = fits && x[0] <= v && x[1] <= t;
            CHECK(c.feasible == fits);
            if (!fits) {
              CHECK_THROWS_AS((void)make_epoch_planner(sizes, cap, 4), infeasible);
              continue;
            }
            const rank_packing p = make_epoch_planner(sizes, cap, 4).plan(0);
            const double time = price(p.bins, sizes, overhead);
            CHECK(c.lower_bound <= time * (1 + 1e-12));  // the pruning bound is valid
            if (c.evaluated) CHECK(c.epoch_time == doctest::Approx(time));
            const double per = static_cast<double>(sizes.size()) / static_cast<double>(p.used_bins);
            const bool eligible = target <= 0 || std::abs(per / target - 1.0) <= 0.15;
            if (eligible && time < best) {
              best = time;
              best_caps = cap;
            }
          }
        CHECK(r.caps == best_caps);
        CHECK(r.epoch_time == doctest::Approx(best));
        CHECK(price(r.plan.bins, sizes, overhead) == doctest::Approx(best));
        CHECK(r.lower_bound <= r.epoch_time);
      }
    }
  }

  TEST_CASE("search_caps: a larger overhead prefers larger caps (fewer micro-batches)") {
    const auto w = testing::generate_w3(3000);
    const cap_grid grid{{5, 9, 20}, {2048, 4096, 5824}};
    const auto cheap = search_caps(w, grid, 4, {.overhead = 0}, text_size_cost{}, tiles_tokens);
    const auto costly = search_caps(w, grid, 4, {.overhead = 5000}, text_size_cost{}, tiles_tokens);
    CHECK(costly.plan.used_bins <= cheap.plan.used_bins);
    CHECK(costly.caps == size2{20, 5824});
  }

  TEST_CASE("search_caps: bad input") {
    const auto w = testing::generate_w3(100);
    CHECK_THROWS_AS((void)search_caps(w, cap_grid{{}, {4096}}, 4, {}, text_size_cost{}, tiles_tokens), invalid_input);
    CHECK_THROWS_AS((void)search_caps(w, cap_grid{{0}, {4096}}, 4, {}, text_size_cost{}, tiles_tokens), invalid_input);
    CHECK_THROWS_AS((void)search_caps(w, cap_grid{{9}, {4096}}, 0, {}, text_size_cost{}, tiles_tokens), invalid_input);
    CHECK_THROWS_AS((void)search_caps(w, cap_grid{{9}, {4096}}, 4, {.overhead = -1}, text_size_cost{}, tiles_tokens),
                    invalid_input);
    // Every candidate below the largest sample under oversize::error.
    CHECK_THROWS_AS((void)search_caps(w, cap_grid{{2}, {4096}}, 4, {}, text_size_cost{}, tiles_tokens), infeasible);
    // A target no candidate meets.
    CHECK_THROWS_AS(
        (void)search_caps(w, cap_grid{{9}, {4096}}, 4, {.target_items = 100}, text_size_cost{}, tiles_tokens),
        infeasible);
  }
}
