// pack_for_ranks() under group cost models (packing/rank_packing_grouped.hpp), checked
// independently: every item once, capacities held, empty micro-batches only in the last step, the
// same number of micro-batches as the size-balanced packing, costs recomputed here from each
// micro-batch's sizes, and no step's costliest micro-batch above the size-balanced plan's.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <fulcrum/packing/rank_packing_grouped.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

double padded(std::span<const std::uint32_t> sizes, const fulcrum::step_grid& grid, std::size_t s, std::size_t r,
              double per_token) {
  double longest = 0, count = 0;
  for (auto i : grid(s, r)) longest = std::max(longest, static_cast<double>(sizes[i])), count += 1;
  return per_token * longest * count;
}

void check_packing(std::span<const std::uint32_t> sizes, std::uint64_t capacity, const fulcrum::rank_packing& p) {
  std::vector<int> seen(sizes.size(), 0);
  for (std::size_t s = 0; s < p.steps(); ++s)
    for (std::size_t r = 0; r < p.ranks(); ++r) {
      std::uint64_t load = 0;
      for (auto i : p.bins(s, r)) {
        REQUIRE(i < sizes.size());
        ++seen[i];
        load += sizes[i];
      }
      CHECK(load <= capacity);
      CHECK(p.load(s, r, 0) == load);
      if (s + 1 < p.steps()) CHECK(!p.bins(s, r).empty());
    }
  for (int v : seen) CHECK(v == 1);
}

}  // namespace

TEST_CASE("pack_for_ranks under padded_cost evens each step without breaking the packing") {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const auto sizes = fulcrum::testing::generate_w1_tokens(3000, seed);
    std::vector<std::uint32_t> clipped(sizes.size());
    std::transform(sizes.begin(), sizes.end(), clipped.begin(),
                   [](std::uint32_t v) { return std::min<std::uint32_t>(v, 8192); });
    for (std::size_t ranks : {std::size_t{4}, std::size_t{8}}) {
      fulcrum::rank_pack_options opts;
      opts.seed = seed;
      const auto plain = fulcrum::pack_for_ranks(clipped, 8192, ranks, opts);
      const auto grouped = fulcrum::pack_for_ranks(clipped, 8192, ranks, opts, fulcrum::padded_cost{1.0});
      check_packing(clipped, 8192, grouped);
      CHECK(grouped.used_bins == plain.used_bins);
      CHECK(grouped.steps() == plain.steps());
      CHECK(grouped.lower_bound == plain.lower_bound);
      REQUIRE(grouped.costs.size() == grouped.steps() * ranks);
      double before_sum = 0, after_sum = 0;
      std::size_t improved = 0;
      for (std::size_t s = 0; s < grouped.steps(); ++s) {
        double before = 0, after = 0;
        for (std::size_t r = 0; r < ranks; ++r) {
          const double c = padded(clipped, grouped.bins, s, r, 1.0);
          CHECK(grouped.costs[s * ranks + r] == c);
          after = std::max(after, c);
          before = std::max(before, padded(clipped, plain.bins, s, r, 1.0));
        }
        CHECK(after <= before);  // the search only ever lowers a step's costliest micro-batch
        improved += after < before;
        before_sum += before;
        after_sum += after;
      }
      std::vector<double> recomputed(grouped.costs.begin(), grouped.costs.end());
      CHECK(grouped.cost_dist == doctest::Approx(fulcrum::dist_ratio_of_loads(recomputed, grouped.steps(), ranks)));
      MESSAGE("seed " << seed << " ranks " << ranks << ": padded step makespan summed over steps " << before_sum
                      << " -> " << after_sum << " (" << improved << " of " << grouped.steps() << " steps lowered)");
      CHECK(after_sum <= before_sum);
    }
  }
}

TEST_CASE("pack_for_ranks under padded_attention_cost and a user group model") {
  const auto sizes = fulcrum::testing::generate_w1_tokens(800, 9);
  std::vector<std::uint32_t> clipped(sizes.size());
  std::transform(sizes.begin(), sizes.end(), clipped.begin(),
                 [](std::uint32_t v) { return std::min<std::uint32_t>(v, 4096); });
  const auto p = fulcrum::pack_for_ranks(clipped, 4096, 4, {}, fulcrum::padded_attention_cost{1.0, 1.0 / 4096, 0.0});
  check_packing(clipped, 4096, p);
  auto user = [](std::span<const double> v) {
    double longest = 0, sum = 0;
    for (double x : v) longest = std::max(longest, x), sum += x;
    return longest + 0.5 * sum;
  };
  const auto q = fulcrum::pack_for_ranks(clipped, 4096, 4, {}, user);
  check_packing(clipped, 4096, q);
  CHECK(q.costs.size() == q.steps() * 4);
}

TEST_CASE("pack_for_ranks under a group model rejects bad input") {
  const std::vector<int> sizes{5, 3, 9};
  CHECK_THROWS_AS((void)fulcrum::pack_for_ranks(sizes, 10, 0, {}, fulcrum::padded_cost{}), fulcrum::invalid_input);
  CHECK_THROWS_AS((void)fulcrum::pack_for_ranks(std::vector<int>{5, -3}, 10, 2, {}, fulcrum::padded_cost{}),
                  fulcrum::invalid_input);
  CHECK_THROWS_AS((void)fulcrum::pack_for_ranks(std::vector<int>{5, 30}, 10, 2, {}, fulcrum::padded_cost{}),
                  fulcrum::infeasible);
  auto nan_model = [](std::span<const double> v) { return v.size() > 1 ? std::nan("") : 1.0; };
  try {
    (void)fulcrum::pack_for_ranks(std::vector<int>{1, 2, 3, 4, 5, 6}, 100, 2, {}, nan_model);
    FAIL("a NaN group cost was accepted");
  } catch (const fulcrum::invalid_input& e) {
    CHECK(std::string(e.what()).find("pack_for_ranks") != std::string::npos);
  }
}
