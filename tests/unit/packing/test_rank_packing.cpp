// SPDX-License-Identifier: Apache-2.0
// pack_for_ranks: every item exactly once, capacities in every dimension, steps * ranks bins with
// empty bins only in the last step, determinism, the W1 targets (DistRatio <= 0.01 for images and
// tokens, bins within 1% of the lower bound) at (8, 8192) and (4, 4096), the coupled lower bound
// against brute force, cost-model balancing, OmniBal's baseline, metrics by hand, bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/core/cost_model.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/core/sample.hpp>
#include <fulcrum/packing/detail/rank_omnibal.hpp>
#include <fulcrum/packing/rank_packing.hpp>
#include <fulcrum/testing/checkers.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {

using size2 = std::array<std::uint64_t, 2>;

/// Structural checks shared by every test: exactly once, capacities, steps x ranks, empty bins only
/// in the last step, reported loads recomputed, non-empty bins >= lower bound.
template <std::size_t D>
void check_structure(const rank_packing& r, const std::vector<std::array<std::uint64_t, D>>& sizes,
                     const std::array<std::uint64_t, D>& cap, std::size_t ranks, bool own_bins = false) {
  const std::size_t n = sizes.size();
  REQUIRE(r.ranks() == ranks);
  REQUIRE(r.dims == D);
  REQUIRE(r.bins.groups().size() == r.steps() * r.ranks());
  REQUIRE(r.steps() == (n == 0 ? 0 : (r.used_bins + ranks - 1) / ranks));
  const auto once = testing::check_exactly_once(r.bins.groups(), n);
  INFO(once.message);
  REQUIRE(once.ok);
  if (!own_bins) {
    const auto c = testing::check_capacity(r.bins.groups(), std::span<const std::array<std::uint64_t, D>>(sizes), cap);
    INFO(c.message);
    REQUIRE(c.ok);
  }
  std::size_t used = 0;
  for (std::size_t s = 0; s < r.steps(); ++s)
    for (std::size_t rank = 0; rank < r.ranks(); ++rank) {
      if (r.bins(s, rank).empty()) {
        INFO("empty bin of rank " << rank << " in step " << s << " of " << r.steps());
        REQUIRE(s + 1 == r.steps());
      } else {
        ++used;
      }
      for (std::size_t d = 0; d < D; ++d) {
        std::uint64_t l = 0;
        for (const auto i : r.bins(s, rank)) l += sizes[i][d];
        REQUIRE(r.load(s, rank, d) == l);
        REQUIRE(r.loads[(s * ranks + rank) * D + d] == l);  // the flat arrays are step-major
      }
    }
  REQUIRE(used == r.used_bins);
  REQUIRE(r.used_bins >= r.lower_bound);
}

std::vector<size2> w1_sizes(std::size_t n, const size2& cap, std::uint64_t seed = default_seed) {
  std::vector<size2> out;
  for (const auto& s : testing::generate_w1(n, seed))
    out.push_back({std::min<std::uint64_t>(s.images, cap[0]), std::min<std::uint64_t>(s.tokens(), cap[1])});
  return out;
}

/// Optimal vector packing by exhaustive search (n <= 8).
template <std::size_t D>
std::size_t brute_force_bins(const std::vector<std::array<std::uint64_t, D>>& sizes,
                             const std::array<std::uint64_t, D>& cap) {
  std::size_t best = sizes.size();
  std::vector<std::array<std::uint64_t, D>> loads;
  std::function<void(std::size_t)> go = [&](std::size_t i) {
    if (loads.size() >= best) return;
    if (i == sizes.size()) {
      best = loads.size();
      return;
    }
    for (std::size_t b = 0; b < loads.size(); ++b) {
      bool ok = true;
      for (std::size_t d = 0; d < D; ++d) ok = ok && loads[b][d] + sizes[i][d] <= cap[d];
      if (!ok) continue;
      for (std::size_t d = 0; d < D; ++d) loads[b][d] += sizes[i][d];
      go(i + 1);
      for (std::size_t d = 0; d < D; ++d) loads[b][d] -= sizes[i][d];
    }
    loads.push_back(sizes[i]);
    go(i + 1);
    loads.pop_back();
  };
  go(0);
  return best;
}

/// pack_for_ranks(samples, capacity, ranks, opts, cost, proj) is a valid call.
template <class Cost, class Proj>
concept packs_samples_with = requires(const std::vector<multimodal_sample>& v, Cost c, Proj p) {
  pack_for_ranks(v, size2{8, 8192}, 4, rank_pack_options{}, c, p);
};

}  // namespace

TEST_SUITE("packing") {
  TEST_CASE("pack_for_ranks W1 20k meets the OmniBal targets at (8 images - 8192 tokens) and (4 - 4096)") {
    for (const size2 cap : {size2{8, 8192}, size2{4, 4096}}) {
      CAPTURE(cap[0]);
      const auto samples = testing::generate_w1(20000);
      const auto r = pack_for_ranks(samples, cap, 8, {.oversize_policy = oversize::truncate}, balance_sizes{},
                                    [](const multimodal_sample& s) { return size2{s.images, s.tokens()}; });
      const auto sizes = w1_sizes(20000, cap);
      check_structure<2>(r, sizes, cap, 8);
      // Independent recomputation of the metrics from the items.
      std::vector<std::uint64_t> images, tokens;
      for (const auto& s : sizes) {
        images.push_back(s[0]);
        tokens.push_back(s[1]);
      }
      const double dist_vit = dist_ratio(r.bins, std::span<const std::uint64_t>(images));
      const double dist_llm = dist_ratio(r.bins, std::span<const std::uint64_t>(tokens));
      CHECK(dist_vit == doctest::Approx(r.dist[0]));
      CHECK(dist_llm == doctest::Approx(r.dist[1]));
      CHECK(dist_vit <= 0.01);
      CHECK(dist_llm <= 0.01);
      CHECK(static_cast<double>(r.bins.groups().size()) <= 1.01 * static_cast<double>(r.lower_bound));
      CHECK(r.lower_bound >= multi_lower_bound<2>(sizes, cap));
      CHECK(r.pad[1] == doctest::Approx(pad_ratio(r.bins, std::span<const std::uint64_t>(tokens), cap[1])));
      // OmniBal's ISF on the same data is clearly worse in balance.
      const auto base = detail::omnibal_baseline<2>(sizes, cap, size2{cap[0], cap[1] - 128}, 8, 20);
      check_structure<2>(base, sizes, cap, 8);
      CHECK(base.dist[1] > r.dist[1]);
    }
  }

  TEST_CASE("pack_for_ranks W1 20k at other cap settings: Dist <= 0.01 - bins within 1% of the bound") {
    // OmniBal's own settings (9, 4096), (14, 6144), (20, 8192) (tokens bind), and others where the
    // images bind. (2, 2048) is left out: there the bound is weak (best-fit decreasing gives the same
    // bin count, 6% over it).
    const auto samples = testing::generate_w1(20000);
    for (const size2 cap : {size2{9, 4096}, size2{14, 6144}, size2{20, 8192}, size2{6, 8192}, size2{12, 8192},
                            size2{3, 4096}, size2{16, 16384}}) {
      CAPTURE(cap[0]);
      CAPTURE(cap[1]);
      const auto r = pack_for_ranks(samples, cap, 8, {.oversize_policy = oversize::truncate}, balance_sizes{},
                                    [](const multimodal_sample& s) { return size2{s.images, s.tokens()}; });
      check_structure<2>(r, w1_sizes(20000, cap), cap, 8);
      CHECK(r.dist[0] <= 0.01);
      CHECK(r.dist[1] <= 0.01);
      CHECK(static_cast<double>(r.bins.groups().size()) <= 1.01 * static_cast<double>(r.lower_bound));
    }
  }

  TEST_CASE("pack_for_ranks with many ranks (windowed pair search)") {
    const size2 cap{8, 8192};
    const auto sizes = w1_sizes(20000, cap);
    for (const std::size_t ranks : {17u, 64u}) {
      CAPTURE(ranks);
      const auto r = pack_for_ranks(sizes, cap, ranks);
      check_structure<2>(r, sizes, cap, ranks);
      CHECK(r.dist[0] <= 0.03);
      CHECK(r.dist[1] <= 0.01);
      // Not worse than without the local search.
      const auto flat = pack_for_ranks(sizes, cap, ranks, {.passes = 0});
      check_structure<2>(flat, sizes, cap, ranks);
      CHECK(r.dist[1] <= flat.dist[1]);
    }
  }

  TEST_CASE("pack_for_ranks is deterministic and the seed only reorders steps and ranks") {
    const auto sizes = w1_sizes(3000, size2{8, 8192});
    const auto a = pack_for_ranks(sizes, size2{8, 8192}, 4);
    const auto b = pack_for_ranks(sizes, size2{8, 8192}, 4);
    CHECK(a.bins == b.bins);
    const auto c = pack_for_ranks(sizes, size2{8, 8192}, 4, {.seed = 7});
    check_structure<2>(c, sizes, size2{8, 8192}, 4);
    CHECK(c.bins.steps() == a.bins.steps());
    CHECK(c.dist == a.dist);  // same steps, other order
    const auto d = pack_for_ranks(sizes, size2{8, 8192}, 4, {.shuffle = false});
    check_structure<2>(d, sizes, size2{8, 8192}, 4);
    CHECK(d.dist == a.dist);
  }

  TEST_CASE("pack_for_ranks random instances: structure - capacities - bound below brute force") {
    rng gen(12345);
    for (int t = 0; t < 600; ++t) {
      const std::size_t n = t < 300 ? 1 + gen.below(8) : 1 + gen.below(300);
      const std::size_t ranks = 1 + gen.below(9);
      const size2 cap{1 + gen.below(10), 20 + gen.below(2000)};
      std::vector<size2> sizes(n);
      for (auto& s : sizes) {
        s[0] = gen.below(cap[0] + 1);
        s[1] = gen.below(2) ? s[0] * (cap[1] / (cap[0] + 2)) + gen.below(cap[1] / 3)  // coupled like W1
                            : gen.below(cap[1] + 1);
        s[1] = std::min(s[1], cap[1]);
      }
      CAPTURE(t);
      const auto r = pack_for_ranks(sizes, cap, ranks);
      check_structure<2>(r, sizes, cap, ranks);
      if (n <= 8) CHECK(r.lower_bound <= brute_force_bins<2>(sizes, cap));
    }
  }

  TEST_CASE("pack_for_ranks one dimension - three dimensions and a cost model") {
    const auto tokens = testing::generate_w1_tokens(4000);
    std::vector<std::array<std::uint64_t, 1>> sizes1;
    for (const auto t : tokens) sizes1.push_back({std::min<std::uint64_t>(t, 8192)});
    const auto r1 = pack_for_ranks(tokens, 8192, 8, {.oversize_policy = oversize::truncate});
    check_structure<1>(r1, sizes1, std::array<std::uint64_t, 1>{8192}, 8);
    CHECK(r1.dist[0] <= 0.01);
    CHECK(r1.used_bins <= r1.lower_bound + r1.lower_bound / 50);

    // Balance attention cost instead of sizes.
    const auto rc = pack_for_ranks(tokens, 8192, 8, {.oversize_policy = oversize::truncate}, attention_cost{},
                                   [](std::uint32_t t) { return std::min<std::uint32_t>(t, 8192); });
    check_structure<1>(rc, sizes1, std::array<std::uint64_t, 1>{8192}, 8);
    REQUIRE(rc.costs.size() == rc.bins.groups().size());
    std::vector<double> item_cost;
    for (const auto& s : sizes1) item_cost.push_back(attention_cost{}(s[0]));
    CHECK(dist_ratio(rc.bins, std::span<const double>(item_cost)) ==
          doctest::Approx(rc.cost_dist));
    CHECK(rc.cost_dist <= 0.02);

    // A ViT + LLM cost model priced on the projected sizes {images, tokens}, as balance() would.
    const auto samples = testing::generate_w1(4000);
    const auto vit_llm = [](const size2& s) { return 1000.0 * static_cast<double>(s[0]) + attention_cost{}(s[1]); };
    const auto r2 = pack_for_ranks(samples, size2{8, 8192}, 4, {.oversize_policy = oversize::truncate}, vit_llm,
                                   [](const multimodal_sample& s) { return size2{s.images, s.tokens()}; });
    check_structure<2>(r2, w1_sizes(4000, size2{8, 8192}), size2{8, 8192}, 4);
    CHECK(r2.cost_dist <= 0.02);

    // Three dimensions: {images, tokens, text tokens}.
    using size3 = std::array<std::uint64_t, 3>;
    std::vector<size3> sizes3;
    for (const auto& s : samples)
      sizes3.push_back({s.images, std::min<std::uint64_t>(s.tokens(), 8192), std::min<std::uint64_t>(s.text_tokens, 6000)});
    const auto r3 = pack_for_ranks(sizes3, size3{8, 8192, 6000}, 8);
    check_structure<3>(r3, sizes3, size3{8, 8192, 6000}, 8);
    CHECK(r3.dist[0] <= 0.02);
    CHECK(r3.dist[1] <= 0.02);
  }

  TEST_CASE("pack_for_ranks edge cases: empty input - fewer items than ranks - oversize policies") {
    const std::vector<size2> none;
    const auto e = pack_for_ranks(none, size2{8, 8192}, 8);
    CHECK(e.steps() == 0);
    CHECK(e.bins.groups().size() == 0);

    const std::vector<size2> three{{1, 100}, {2, 200}, {0, 50}};
    const auto small = pack_for_ranks(three, size2{8, 8192}, 8);
    check_structure<2>(small, three, size2{8, 8192}, 8);
    CHECK(small.steps() == 1);
    CHECK(small.used_bins == 3);  // the last step's empty bins receive items

    // All-zero items: one non-empty bin, the rest of the step empty.
    const std::vector<size2> zeros(5, size2{0, 0});
    const auto z = pack_for_ranks(zeros, size2{8, 8192}, 4);
    check_structure<2>(z, zeros, size2{8, 8192}, 4);
    CHECK(z.steps() == 1);

    // A capacity beyond the class buckets (2^30): multi-constraint best-fit decreasing fills the bins.
    std::vector<std::array<std::uint64_t, 1>> huge;
    rng gen(99);
    for (int i = 0; i < 500; ++i) huge.push_back({gen.below(std::uint64_t{1} << 28)});
    const auto h = pack_for_ranks(huge, std::array<std::uint64_t, 1>{std::uint64_t{1} << 30}, 4);
    check_structure<1>(h, huge, std::array<std::uint64_t, 1>{std::uint64_t{1} << 30}, 4);

    const std::vector<size2> big{{1, 100}, {9, 200}, {2, 9000}, {1, 10}};
    CHECK_THROWS_WITH_AS((void)pack_for_ranks(big, size2{8, 8192}, 2), doctest::Contains("sizes[1][0] = 9"), infeasible);
    const auto tr = pack_for_ranks(big, size2{8, 8192}, 2, {.oversize_policy = oversize::truncate});
    CHECK(testing::check_exactly_once(tr.bins.groups(), big.size()).ok);
    for (std::size_t s = 0; s < tr.steps(); ++s)
      for (std::size_t r = 0; r < tr.ranks(); ++r) {
        CHECK(tr.load(s, r, 0) <= 8);
        CHECK(tr.load(s, r, 1) <= 8192);
      }
    const auto own = pack_for_ranks(big, size2{8, 8192}, 2, {.oversize_policy = oversize::own_bin});
    check_structure<2>(own, big, size2{8, 8192}, 2, true);
    for (std::size_t s = 0; s < own.steps(); ++s)
      for (std::size_t r = 0; r < own.ranks(); ++r)
        if (own.load(s, r, 0) > 8 || own.load(s, r, 1) > 8192) CHECK(own.bins(s, r).size() == 1);
  }

  TEST_CASE("pack_for_ranks bad input names field - index and value") {
    const std::vector<size2> items{{1, 100}, {2, 200}};
    CHECK_THROWS_WITH_AS((void)pack_for_ranks(items, size2{8, 8192}, 0), doctest::Contains("ranks = 0"), invalid_input);
    CHECK_THROWS_WITH_AS((void)pack_for_ranks(items, size2{0, 8192}, 2), doctest::Contains("capacity[0] = 0"),
                         invalid_input);
    CHECK_THROWS_AS((void)pack_for_ranks(std::vector<int>{5, 3}, 0, 2), invalid_input);
    CHECK_THROWS_WITH_AS((void)pack_for_ranks(std::vector<int>{5, -3}, 10, 2), doctest::Contains("sizes[1] = -3"),
                         invalid_input);
    CHECK_THROWS_WITH_AS((void)pack_for_ranks(std::vector<double>{5, 2.5}, 10, 2), doctest::Contains("sizes[1] = 2.5"),
                         invalid_input);
    CHECK_THROWS_WITH_AS((void)pack_for_ranks(std::vector<double>{5, std::nan("")}, 10.0, 2), doctest::Contains("NaN"),
                         invalid_input);
    CHECK_THROWS_WITH_AS(
        (void)pack_for_ranks(std::vector<int>{5, 3}, 10, 2, {}, [](int x) { return x == 3 ? -1.0 : 1.0; }),
        doctest::Contains("cost[1] = -1"), invalid_input);
    CHECK_THROWS_WITH_AS((void)pack_for_ranks(std::vector<int>{5, 11}, 10, 2), doctest::Contains("sizes[1]"), infeasible);
    CHECK_THROWS_AS((void)detail::omnibal_baseline<2>(std::span<const size2>(items), size2{8, 8192}, size2{8, 8064}, 0),
                    invalid_input);
  }

  TEST_CASE("DistRatio and PadRatio by hand") {
    // Two steps of two ranks: step 0 loads {4, 2} -> (0 + 2/4) / 2 = 0.25; step 1 {3, 3} -> 0.
    const std::vector<double> loads{4, 2, 3, 3};
    CHECK(dist_ratio_of_loads(loads, 2, 2) == doctest::Approx(0.125));
    // A step whose bins are all empty counts as balanced.
    CHECK(dist_ratio_of_loads(std::vector<double>{5, 5, 0, 0}, 2, 2) == doctest::Approx(0.0));
    const step_grid g(grouping::from_groups({{0, 1}, {2}, {3}, {}}), 2, 2);
    const std::vector<std::uint64_t> v{1, 3, 2, 3};
    CHECK(dist_ratio(g, std::span<const std::uint64_t>(v)) == doctest::Approx((0.5 * 0.5 + 0.5 * 1.0) / 2));
    CHECK(pad_ratio(g, std::span<const std::uint64_t>(v), 4) == doctest::Approx(1.0 - 9.0 / 16.0));
  }

  TEST_CASE("pack_for_ranks prices cost(proj(item)) as balance() does") {
    // A model callable on both the sample and the projected sizes, with different answers. The old
    // pack_for_ranks called cost(item) whenever the projection gave a std::array; it must price the
    // projected value, like balance().
    struct either {
      double operator()(const multimodal_sample&) const { return 1.0; }
      double operator()(const size2& s) const { return 1000.0 * static_cast<double>(s[0]) + static_cast<double>(s[1]); }
    };
    const auto samples = testing::generate_w1(600);
    const auto proj = [](const multimodal_sample& s) {
      return size2{std::min<std::uint64_t>(s.images, 8), std::min<std::uint64_t>(s.tokens(), 8192)};
    };
    const auto r = pack_for_ranks(samples, size2{8, 8192}, 4, {}, either{}, proj);
    const auto b = balance(samples, 4, {}, either{}, proj);
    std::vector<double> item_cost;
    for (const auto& s : samples) item_cost.push_back(either{}(proj(s)));
    double total = 0;
    for (std::size_t s = 0; s < r.steps(); ++s)
      for (std::size_t k = 0; k < r.ranks(); ++k) {
        double bin = 0;
        for (const auto i : r.bins(s, k)) bin += item_cost[i];
        CHECK(r.costs[s * r.ranks() + k] == doctest::Approx(bin));
        total += bin;
      }
    double parts = 0;
    for (const double l : b.loads) parts += l;
    CHECK(total == doctest::Approx(parts));  // the same per-item costs as balance()
    CHECK(total > static_cast<double>(samples.size()));

    // A scalar projection: the model sees the projected token count, never the sample.
    struct scalar_either {
      double operator()(const multimodal_sample&) const { return 1.0; }
      double operator()(std::uint64_t t) const { return static_cast<double>(t); }
    };
    const auto tokens = [](const multimodal_sample& s) { return std::min<std::uint64_t>(s.tokens(), 8192); };
    const auto t = pack_for_ranks(samples, std::uint64_t{8192}, 4, {}, scalar_either{}, tokens);
    double sum = 0;
    for (const double c : t.costs) sum += c;
    double want = 0;
    for (const auto& s : samples) want += static_cast<double>(tokens(s));
    CHECK(sum == doctest::Approx(want));
  }

  TEST_CASE("pack_for_ranks rejects a cost model that does not price the projected value") {
    const auto samples = testing::generate_w1(10);
    const auto proj = [](const multimodal_sample& s) { return size2{s.images, s.tokens()}; };
    const auto item_only = [](const multimodal_sample& s) { return static_cast<double>(s.images); };
    const auto on_sizes = [](const size2& s) { return static_cast<double>(s[1]); };
    static_assert(!packs_samples_with<decltype(item_only), decltype(proj)>);
    static_assert(packs_samples_with<decltype(on_sizes), decltype(proj)>);
    static_assert(packs_samples_with<balance_sizes, decltype(proj)>);
    CHECK(pack_for_ranks(samples, size2{8, 8192}, 4, {.oversize_policy = oversize::truncate}, on_sizes, proj)
              .bins.item_count() == samples.size());
  }
}
