// SPDX-License-Identifier: Apache-2.0
// The streaming batcher's step evening (runtime/detail/stream_refine.hpp): the deficit fill keeps
// every item once (bins + unused pool), keeps every coarse load within its step's range and never
// widens a step in a coarse dimension, never passes the step's largest fine load, never widens a
// step in the fine dimension when its coarse loads were even, and mends a lone coarse outlier; the
// flush's LPT re-deal of the last steps holds the caps; and the whole batcher on W1 reaches the
// issue's balance target at test scale (token budget; images and tokens).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/packing/rank_packing.hpp>
#include <fulcrum/runtime/streaming_batcher.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {

/// Spread of step s in dimension d: max - min load over its bins.
template <std::size_t D>
std::uint64_t spread(const detail::rank_state<D>& st, std::size_t s, std::size_t d) {
  std::uint64_t hi = 0, lo = ~std::uint64_t{0};
  for (std::size_t b = s * st.ranks; b < (s + 1) * st.ranks; ++b) {
    hi = std::max(hi, st.loads[b][d]);
    lo = std::min(lo, st.loads[b][d]);
  }
  return hi - lo;
}

template <std::size_t D>
void check_fill(std::uint64_t seed) {
  rng g(seed);
  const std::size_t ranks = 2 + g.below(6);
  const std::size_t steps = 1 + g.below(5);
  const std::size_t fine = D - 1;
  std::vector<size_vector<D>> sizes;
  detail::rank_state<D> st;
  st.ranks = ranks;
  for (std::size_t d = 0; d < D; ++d) st.capacity[d] = d == fine ? 1000 : 4;
  // Bins of 1-6 items; then a pool of 30-200 items.
  std::vector<std::vector<index_type>> bins(ranks * steps);
  for (auto& bin : bins)
    for (std::size_t q = 0, m = 1 + g.below(6); q < m; ++q) {
      size_vector<D> s{};
      for (std::size_t d = 0; d < D; ++d) s[d] = d == fine ? 20 + g.below(140) : g.below(2);
      bin.push_back(static_cast<index_type>(sizes.size()));
      sizes.push_back(s);
    }
  std::vector<index_type> pool;
  for (std::size_t q = 0, m = 30 + g.below(170); q < m; ++q) {
    size_vector<D> s{};
    for (std::size_t d = 0; d < D; ++d) s[d] = d == fine ? 1 + g.below(160) : g.below(2);
    pool.push_back(static_cast<index_type>(sizes.size()));
    sizes.push_back(s);
  }
  std::vector<char> movable(sizes.size(), 1);
  for (auto& m : movable) m = g.below(8) == 0 ? 0 : 1;
  st.sizes = sizes;
  st.bins = bins;
  detail::rank_recompute(st);
  const auto loads_before = st.loads;
  std::vector<std::array<std::uint64_t, D>> spread_before(steps);
  for (std::size_t s = 0; s < steps; ++s)
    for (std::size_t d = 0; d < D; ++d) spread_before[s][d] = spread(st, s, d);

  detail::stream_deficit_fill<D> fill(st, fine, pool);
  fill.run(st, steps, movable, 8);

  // Every item once: in a bin, or (a pool item or an item swapped out) nowhere; unmovable items stay.
  std::vector<int> in_bin(sizes.size(), 0);
  for (std::size_t b = 0; b < st.bins.size(); ++b) {
    size_vector<D> load{};
    for (const index_type i : st.bins[b]) {
      ++in_bin[i];
      for (std::size_t d = 0; d < D; ++d) load[d] += sizes[i][d];
    }
    for (std::size_t d = 0; d < D; ++d) REQUIRE(load[d] == st.loads[b][d]);
  }
  for (std::size_t i = 0; i < sizes.size(); ++i) REQUIRE(in_bin[i] <= 1);
  for (std::size_t b = 0; b < bins.size(); ++b)
    for (const index_type i : bins[b])
      if (movable[i] == 0) CHECK(in_bin[i] == 1);
  for (std::size_t s = 0; s < steps; ++s) {
    std::array<std::uint64_t, D> top_before{}, top_after{}, low_before{}, low_after{};
    low_before.fill(~std::uint64_t{0});
    low_after.fill(~std::uint64_t{0});
    for (std::size_t b = s * ranks; b < (s + 1) * ranks; ++b)
      for (std::size_t d = 0; d < D; ++d) {
        top_before[d] = std::max(top_before[d], loads_before[b][d]);
        top_after[d] = std::max(top_after[d], st.loads[b][d]);
        low_before[d] = std::min(low_before[d], loads_before[b][d]);
        low_after[d] = std::min(low_after[d], st.loads[b][d]);
      }
    bool coarse_even = true;
    for (std::size_t d = 0; d < D; ++d) {
      CHECK(top_after[d] <= top_before[d]);  // never above the step's largest load: caps hold
      if (d == fine) continue;
      CHECK(low_after[d] >= low_before[d]);  // coarse loads stay within the step's range
      CHECK(spread(st, s, d) <= spread_before[s][d]);
      coarse_even = coarse_even && spread_before[s][d] == 0;
    }
    if (coarse_even) CHECK(spread(st, s, fine) <= spread_before[s][fine]);
  }
}

}  // namespace

TEST_SUITE("runtime") {
  TEST_CASE("stream even: the deficit fill keeps items once - coarse loads in range - never widens a step") {
    for (std::uint64_t seed = 1; seed <= 400; ++seed) {
      CAPTURE(seed);
      check_fill<1>(seed);
      check_fill<2>(seed);
      check_fill<3>(seed);
    }
  }

  TEST_CASE("stream even: a lone image among text-only micro-batches is swapped out") {
    // Step of 4 bins {images, tokens}: three of two text items, one holding a 1-image item of 60
    // tokens; the pool holds a text item of 58 tokens (within the coarse window) and one of 40.
    std::vector<size_vector<2>> sizes{{0, 50}, {0, 50}, {0, 40}, {0, 60}, {0, 45},
                                      {0, 55}, {0, 40}, {1, 60}, {0, 58}, {0, 40}};
    detail::rank_state<2> st;
    st.ranks = 4;
    st.capacity = {4, 1000};
    st.sizes = sizes;
    st.bins = {{0, 1}, {2, 3}, {4, 5}, {6, 7}};
    detail::rank_recompute(st);
    const std::vector<index_type> pool{8, 9};
    const std::vector<char> movable(sizes.size(), 1);
    detail::stream_deficit_fill<2> fill(st, 1, pool);
    fill.run(st, 1, movable, 4);
    for (std::size_t b = 0; b < 4; ++b) CHECK(st.loads[b][0] == 0);
    CHECK(st.bins[3] == std::vector<index_type>{6, 8});
    CHECK(st.loads[3][1] == 98);
  }

  TEST_CASE("stream even: a pool with the exact sizes closes every deficit") {
    // Steps of 4 bins {100, 90, 95, 100}: the pool holds items 10 and 5 larger than bin items.
    std::vector<size_vector<1>> sizes{{50}, {50}, {45}, {45}, {50}, {45}, {50}, {50}, {55}, {55}};
    detail::rank_state<1> st;
    st.ranks = 4;
    st.capacity = {100};
    st.sizes = sizes;
    st.bins = {{0, 1}, {2, 3}, {4, 5}, {6, 7}};
    detail::rank_recompute(st);
    const std::vector<index_type> pool{8, 9};
    const std::vector<char> movable(sizes.size(), 1);
    detail::stream_deficit_fill<1> fill(st, 0, pool);
    fill.run(st, 1, movable, 4);
    for (std::size_t b = 0; b < 4; ++b) CHECK(st.loads[b][0] == 100);
  }

  TEST_CASE("stream even: the flush re-deal of the last steps holds the caps and evens them") {
    // Two steps of 4 bins: one step of full bins and one of a few items each; LPT over all 8 bins.
    std::vector<size_vector<2>> sizes;
    detail::rank_state<2> st;
    st.ranks = 4;
    st.capacity = {3, 100};
    st.norm = {3.0, 100.0};
    rng g(7);
    st.bins.resize(8);
    for (std::size_t b = 0; b < 8; ++b)
      for (std::size_t q = 0, m = b < 4 ? 4 : 1; q < m; ++q) {
        st.bins[b].push_back(static_cast<index_type>(sizes.size()));
        sizes.push_back({g.below(2), b < 4 ? 20 + g.below(5) : 10 + g.below(5)});
      }
    st.sizes = sizes;
    detail::rank_recompute(st);
    auto widest = [&] {
      double w = 0;
      for (std::size_t s = 0; s < 2; ++s)
        w = std::max(w, static_cast<double>(spread(st, s, 1)) / 100.0 + static_cast<double>(spread(st, s, 0)) / 3.0);
      return w;
    };
    const double before = widest();
    detail::stream_even_steps(st, 0, 2);
    std::vector<int> seen(sizes.size(), 0);
    for (std::size_t b = 0; b < 8; ++b) {
      size_vector<2> load{};
      for (const index_type i : st.bins[b]) {
        ++seen[i];
        load[0] += sizes[i][0];
        load[1] += sizes[i][1];
      }
      CHECK(load == st.loads[b]);
      CHECK(load[0] <= 3);
      CHECK(load[1] <= 100);
    }
    for (const int c : seen) CHECK(c == 1);
    CHECK(widest() <= before);
  }

  TEST_CASE("stream even: W1 50k under a token budget is balanced within 4x of pack_for_ranks") {
    stream_options<1> o;
    o.caps = {8192};
    o.ranks = 8;
    o.buffer = 4096;
    std::vector<std::uint64_t> tokens;
    for (const auto& s : testing::generate_w1(50000)) tokens.push_back(std::min<std::uint64_t>(s.tokens(), 8192));
    streaming_batcher<1> b(o);
    double dist = 0;
    std::size_t steps = 0, bins = 0, items = 0;
    auto take = [&] {
      while (auto s = b.next()) {
        dist += s->dist(0);
        ++steps;
        items += s->item_count();
        for (std::size_t r = 0; r < s->ranks; ++r) bins += s->micro_batch(r).empty() ? 0 : 1;
        for (std::size_t r = 0; r < s->ranks; ++r) CHECK(s->loads[r] <= 8192);
      }
    };
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      b.push(i, tokens[i]);
      take();
    }
    b.finish();
    take();
    CHECK(items == tokens.size());
    dist /= static_cast<double>(steps);
    const auto offline = pack_for_ranks(tokens, std::uint64_t{8192}, 8);
    MESSAGE("stream bins " << bins << " dist " << dist << " offline bins " << offline.used_bins << " dist "
                           << offline.dist[0]);
    CHECK(static_cast<double>(bins) <= 1.01 * static_cast<double>(offline.used_bins));
    // Before the step evening the stream was about 200x off the offline figure (the flush tail and
    // the top step of every flush); with it, about 3x at this small buffer (2x at buffer 16384).
    CHECK(dist <= 4 * offline.dist[0]);
  }

  TEST_CASE("stream even: W1 100k under 8 images x 8192 tokens is balanced like pack_for_ranks") {
    // Two dimensions: the reserve of items with images and the coarse evening (image counts first,
    // then tokens). Before them the tokens were 1.15x the offline figure here (6.8x at 1M, B = 16384).
    stream_options<2> o;
    o.caps = {8, 8192};
    o.ranks = 8;
    o.buffer = 8192;
    std::vector<std::array<std::uint64_t, 2>> sizes;
    for (const auto& s : testing::generate_w1(100000))
      sizes.push_back({std::min<std::uint64_t>(s.images, 8), std::min<std::uint64_t>(s.tokens(), 8192)});
    streaming_batcher<2> b(o);
    std::array<double, 2> dist{};
    std::size_t steps = 0, bins = 0, items = 0;
    auto take = [&] {
      while (auto s = b.next()) {
        for (std::size_t d = 0; d < 2; ++d) dist[d] += s->dist(d);
        ++steps;
        items += s->item_count();
        for (std::size_t r = 0; r < s->ranks; ++r) {
          bins += s->micro_batch(r).empty() ? 0 : 1;
          CHECK(s->loads[r * 2] <= 8);
          CHECK(s->loads[r * 2 + 1] <= 8192);
        }
      }
    };
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      b.push(i, sizes[i]);
      take();
    }
    b.finish();
    take();
    CHECK(items == sizes.size());
    for (double& d : dist) d /= static_cast<double>(steps);
    const auto offline = pack_for_ranks(sizes, std::array<std::uint64_t, 2>{8, 8192}, 8);
    MESSAGE("stream bins " << bins << " dist " << dist[0] << " / " << dist[1] << " offline bins " << offline.used_bins
                           << " dist " << offline.dist[0] << " / " << offline.dist[1]);
    CHECK(static_cast<double>(bins) <= 1.01 * static_cast<double>(offline.used_bins));
    CHECK(dist[0] <= 1.5 * offline.dist[0]);
    CHECK(dist[1] <= offline.dist[1]);
  }
}
