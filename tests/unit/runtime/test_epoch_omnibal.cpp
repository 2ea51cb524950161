// SPDX-License-Identifier: Apache-2.0
// The OmniBal comparison on W3 (runtime/epoch_plan.hpp against OmniBal's ISF,
// packing/detail/rank_omnibal.hpp), 8 ranks, at caps (tiles, tokens) (20, 5824), (16, 4672) and
// (9, 4096): the epoch planner needs no more micro-batches than ISF, DistRatio <= 0.01 in both
// dimensions, and an estimated epoch time (sum over steps of the slowest rank's tokens) <= 0.98 x
// ISF's. Quality figures are deterministic, so they are asserted; every figure is recomputed from
// the plans. (The same comparison at 100k items: bench/bench_epoch.cpp, docs/benchmarks.md.)
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include <fulcrum/packing/detail/rank_omnibal.hpp>
#include <fulcrum/runtime/cap_search.hpp>
#include <fulcrum/runtime/epoch_plan.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {
using size2 = std::array<std::uint64_t, 2>;
}  // namespace

TEST_SUITE("runtime") {
  TEST_CASE("W3 20k - 8 ranks: epoch plans beat OmniBal's ISF in micro-batches - balance and epoch time") {
    const auto w = testing::generate_w3(20000);
    std::vector<size2> sizes;
    std::vector<std::uint64_t> tiles, tokens;
    for (const auto& s : w) {
      sizes.push_back({s.images, s.tokens()});
      tiles.push_back(s.images);
      tokens.push_back(s.tokens());
    }
    for (const size2 cap : {size2{20, 5824}, size2{16, 4672}, size2{9, 4096}}) {
      CAPTURE(cap[0]);
      CAPTURE(cap[1]);
      const auto isf = detail::omnibal_baseline<2>(sizes, cap, size2{cap[0], cap[1] - 128}, 8, 50);
      const auto planner = make_epoch_planner(sizes, cap, 8);
      for (const std::uint64_t epoch : {0u, 1u}) {
        const rank_packing p = planner.plan(epoch);
        std::size_t bins = 0;
        bool caps_ok = true;
        std::vector<int> seen(sizes.size(), 0);
        for (const auto g : p.bins.groups()) {
          if (!g.empty()) ++bins;
          size2 load{};
          for (const index_type i : g) {
            ++seen[i];
            load[0] += sizes[i][0];
            load[1] += sizes[i][1];
          }
          caps_ok = caps_ok && load[0] <= cap[0] && load[1] <= cap[1];
        }
        CHECK(caps_ok);
        CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
        const double dist_vit = dist_ratio(p.bins, std::span<const std::uint64_t>(tiles));
        const double dist_llm = dist_ratio(p.bins, std::span<const std::uint64_t>(tokens));
        const double time = estimated_epoch_time(p.bins, std::span<const std::uint64_t>(tokens));
        const double isf_time = estimated_epoch_time(isf.bins, std::span<const std::uint64_t>(tokens));
        MESSAGE("epoch ", epoch, ": bins ", bins, " (ISF ", isf.used_bins, ", bound ", p.lower_bound, "), Dist ",
                dist_vit, " / ", dist_llm, " (ISF ", isf.dist[0], " / ", isf.dist[1], "), time ratio ",
                time / isf_time);
        CHECK(bins <= isf.used_bins);
        CHECK(dist_vit <= 0.01);
        CHECK(dist_llm <= 0.01);
        CHECK(time <= 0.98 * isf_time);
      }
    }
  }
}
