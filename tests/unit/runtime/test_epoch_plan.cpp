// SPDX-License-Identifier: Apache-2.0
// epoch_planner (runtime/epoch_plan.hpp): every item exactly once per epoch, capacities held,
// steps x ranks with empty bins only in the last step, loads recomputed; determinism in (seed,
// epoch) across independently built planners; different epochs share < 5 % of their micro-batches
// on W1 (pack_for_ranks: all of them) with bins within 1 % of the bound and DistRatio <= 0.01;
// resume (rank_plan at any step) equals the full plan; cost-model balancing; bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include <fulcrum/core/cost_model.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/core/sample.hpp>
#include <fulcrum/packing/rank_packing.hpp>
#include <fulcrum/runtime/epoch_plan.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {

using size2 = std::array<std::uint64_t, 2>;

size2 w1_size(const multimodal_sample& s) {
  return size2{s.images, s.tokens()};
}

/// Independent checks of one epoch's plan against the (truncated) sizes.
template <std::size_t D>
void check_plan(const rank_packing& p, const std::vector<std::array<std::uint64_t, D>>& sizes,
                const std::array<std::uint64_t, D>& cap, std::size_t ranks) {
  REQUIRE(p.ranks() == ranks);
  REQUIRE(p.bins.groups().size() == p.steps() * ranks);
  std::vector<int> seen(sizes.size(), 0);
  std::size_t non_empty = 0;
  bool caps_ok = true, loads_ok = true, empty_only_last = true;
  for (std::size_t s = 0; s < p.steps(); ++s)
    for (std::size_t r = 0; r < ranks; ++r) {
      std::array<std::uint64_t, D> load{};
      for (const index_type i : p.bins(s, r)) {
        ++seen[i];
        for (std::size_t d = 0; d < D; ++d) load[d] += sizes[i][d];
      }
      if (p.bins(s, r).empty())
        empty_only_last = empty_only_last && s + 1 == p.steps();
      else
        ++non_empty;
      for (std::size_t d = 0; d < D; ++d) {
        caps_ok = caps_ok && load[d] <= cap[d];
        loads_ok = loads_ok && load[d] == p.load(s, r, d);
      }
    }
  CHECK(caps_ok);
  CHECK(loads_ok);
  CHECK(empty_only_last);
  CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
  CHECK(non_empty == p.used_bins);
  CHECK(p.used_bins >= p.lower_bound);
}

std::vector<size2> truncated(const std::vector<multimodal_sample>& w, const size2& cap) {
  std::vector<size2> out;
  for (const auto& s : w) out.push_back({std::min<std::uint64_t>(s.images, cap[0]), std::min(s.tokens(), cap[1])});
  return out;
}

/// Share of b's non-empty micro-batches that are also micro-batches of a (same item set).
double shared_share(const rank_packing& a, const rank_packing& b) {
  std::set<std::vector<index_type>> in_a;
  for (const auto g : a.bins.groups())
    if (!g.empty()) in_a.insert(std::vector<index_type>(g.begin(), g.end()));
  std::size_t shared = 0, total = 0;
  for (const auto g : b.bins.groups())
    if (!g.empty()) {
      ++total;
      shared += in_a.count(std::vector<index_type>(g.begin(), g.end()));
    }
  return total == 0 ? 0.0 : static_cast<double>(shared) / static_cast<double>(total);
}

}  // namespace

TEST_SUITE("runtime") {
  TEST_CASE("epoch plans on W1 20k: valid - < 5 % micro-batches shared between epochs - bins within 1 % - Dist <= 0.01") {
    const auto w = testing::generate_w1(20000);
    for (const size2 cap : {size2{8, 8192}, size2{4, 4096}}) {
      CAPTURE(cap[0]);
      const auto planner =
          make_epoch_planner(w, cap, 8, {.oversize_policy = oversize::truncate}, balance_sizes{}, w1_size);
      const auto sizes = truncated(w, cap);
      const rank_packing e0 = planner.plan(0), e1 = planner.plan(1), e2 = planner.plan(2);
      for (const rank_packing* p : {&e0, &e1, &e2}) {
        check_plan<2>(*p, sizes, cap, 8);
        CHECK(static_cast<double>(p->used_bins) <= 1.01 * static_cast<double>(p->lower_bound));
        CHECK(p->dist[0] <= 0.01);
        CHECK(p->dist[1] <= 0.01);
      }
      MESSAGE("shared micro-batches e0/e1 ", shared_share(e0, e1), ", e1/e2 ", shared_share(e1, e2));
      CHECK(shared_share(e0, e1) < 0.05);
      CHECK(shared_share(e1, e2) < 0.05);
      // pack_for_ranks repeats its micro-batches every epoch (only the seed's order changes).
      const auto a =
          pack_for_ranks(w, cap, 8, {.oversize_policy = oversize::truncate, .seed = 1}, balance_sizes{}, w1_size);
      const auto b =
          pack_for_ranks(w, cap, 8, {.oversize_policy = oversize::truncate, .seed = 2}, balance_sizes{}, w1_size);
      CHECK(shared_share(a, b) == 1.0);
      // Not worse than pack_for_ranks in bins by more than 0.5 %.
      CHECK(static_cast<double>(e0.used_bins) <= 1.005 * static_cast<double>(a.used_bins));
    }
  }

  TEST_CASE("epoch plans on W1 tokens (one dimension - capacity 8192)") {
    const auto w = testing::generate_w1_tokens(20000);
    const auto planner = make_epoch_planner(w, 8192, 8, {.oversize_policy = oversize::truncate});
    std::vector<std::array<std::uint64_t, 1>> sizes;
    for (const auto t : w) sizes.push_back({std::min<std::uint64_t>(t, 8192)});
    const rank_packing e0 = planner.plan(0), e1 = planner.plan(1);
    check_plan<1>(e0, sizes, {8192}, 8);
    check_plan<1>(e1, sizes, {8192}, 8);
    CHECK(static_cast<double>(e0.used_bins) <= 1.01 * static_cast<double>(e0.lower_bound));
    CHECK(e0.dist[0] <= 0.01);
    MESSAGE("shared micro-batches e0/e1 ", shared_share(e0, e1));
    CHECK(shared_share(e0, e1) < 0.05);
  }

  TEST_CASE("epoch plans are deterministic in (seed - epoch) and independent of earlier epochs") {
    const auto w = testing::generate_w1(3000);
    const size2 cap{8, 8192};
    const auto p1 = make_epoch_planner(w, cap, 4, {.oversize_policy = oversize::truncate}, balance_sizes{}, w1_size);
    const auto p2 = make_epoch_planner(w, cap, 4, {.oversize_policy = oversize::truncate}, balance_sizes{}, w1_size);
    const rank_packing a = p1.plan(7);
    (void)p2.plan(3);  // planning another epoch first changes nothing
    const rank_packing b = p2.plan(7);
    CHECK(a.bins.groups() == b.bins.groups());
    CHECK(a.loads == b.loads);
    CHECK(a.dist == b.dist);
    CHECK_FALSE(p1.plan(8).bins.groups() == a.bins.groups());
    const auto p3 =
        make_epoch_planner(w, cap, 4, {.oversize_policy = oversize::truncate, .seed = 99}, balance_sizes{}, w1_size);
    CHECK_FALSE(p3.plan(7).bins.groups() == a.bins.groups());
    // Pinned values: the plan must not change across platforms or standard libraries.
    REQUIRE_FALSE(a.bins(0, 0).empty());
    CHECK(a.steps() == 111);
    CHECK(a.bins(0, 0)[0] == 516);
    // The whole plan, pinned (a change here changes every user's epochs: only on purpose).
    CHECK(a.bins.groups().fingerprint() == 8502909290366418652ULL);
  }

  TEST_CASE(
      "resume: rank_plan(epoch - rank - step) equals the full plan from that step - the ranks cover the epoch once") {
    const auto w = testing::generate_w3(4000);
    const size2 cap{16, 4672};
    const auto planner = make_epoch_planner(w, cap, 8, {}, balance_sizes{}, w1_size);
    const rank_packing full = planner.plan(5);
    rng gen(11);
    for (int trial = 0; trial < 6; ++trial) {
      const std::size_t rank = static_cast<std::size_t>(gen.below(8));
      const std::size_t step = static_cast<std::size_t>(gen.below(full.steps() + 1));
      CAPTURE(rank);
      CAPTURE(step);
      const rank_schedule s = planner.rank_plan(5, rank, step);
      REQUIRE(s.steps == full.steps());
      REQUIRE(s.micro_batches.size() == full.steps() - step);
      for (std::size_t k = 0; k < s.micro_batches.size(); ++k) {
        const auto g = full.bins(step + k, rank);
        CHECK(std::equal(g.begin(), g.end(), s.micro_batches[k].begin(), s.micro_batches[k].end()));
      }
    }
    std::vector<int> seen(w.size(), 0);
    for (std::size_t r = 0; r < 8; ++r)
      for (const auto& mb : planner.rank_plan(5, r).micro_batches)
        for (const index_type i : mb) ++seen[i];
    CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
    CHECK(planner.rank_plan(5, 0, full.steps() + 3).micro_batches.empty());
  }

  TEST_CASE("epoch plans with a cost model balance the cost - small and empty inputs") {
    const auto w = testing::generate_w1_tokens(5000);
    const auto planner =
        make_epoch_planner(w, 8192, 8, {.oversize_policy = oversize::truncate}, attention_cost{1, 1.0 / 4096, 0});
    const rank_packing p = planner.plan(0);
    std::vector<std::array<std::uint64_t, 1>> sizes;
    for (const auto t : w) sizes.push_back({std::min<std::uint64_t>(t, 8192)});
    check_plan<1>(p, sizes, {8192}, 8);
    CHECK(p.costs.size() == p.steps() * 8);
    CHECK(p.cost_dist <= 0.02);
    const std::vector<std::uint32_t> none;
    const rank_packing e = make_epoch_planner(none, 100, 4).plan(0);
    CHECK(e.steps() == 0);
    const std::vector<std::uint32_t> three = {5, 60, 100};
    const auto small = make_epoch_planner(three, 100, 4).plan(1);
    check_plan<1>(small, {{5}, {60}, {100}}, {100}, 4);
    CHECK(small.steps() == 1);
  }

  TEST_CASE("epoch planner: bad input is a clear error") {
    const std::vector<std::uint32_t> v = {5, 60, 100};
    CHECK_THROWS_AS((void)make_epoch_planner(v, 100, 0), invalid_input);
    CHECK_THROWS_AS((void)make_epoch_planner(v, 50, 2), infeasible);
    CHECK_THROWS_AS((void)make_epoch_planner(v, 0, 2), invalid_input);
    CHECK_THROWS_AS((void)make_epoch_planner(v, 100, 2, {.full_slack = 1.5}), invalid_input);
    CHECK_THROWS_AS((void)epoch_planner<1>({{5}}, {0}, 2, {}, {}), invalid_input);
    const auto p = make_epoch_planner(v, 100, 2);
    CHECK_THROWS_AS((void)p.rank_plan(0, 2), invalid_input);
    const auto own = make_epoch_planner(v, 50, 2, {.oversize_policy = oversize::own_bin}).plan(0);
    CHECK(own.used_bins == 3);
  }
}
