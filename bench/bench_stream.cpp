// SPDX-License-Identifier: Apache-2.0
// Streaming batcher (runtime/streaming_batcher.hpp) on W1 (LLaVA-like), 8 ranks, caps (8 images,
// 8192 tokens) (items over a cap truncated to it) and the 1-D token budget 8192, over buffer sizes
// B = 256 .. 65536, next to
//  - next fit over the arrival order (what most loaders do: fill a micro-batch until the next item
//    does not fit, deal micro-batches to ranks in order);
//  - sorted-buffer next fit (fill a buffer of B items, sort it by tokens, next fit);
//  - the offline planners on the whole dataset: pack() and pack_for_ranks().
// Counters: items_per_second (pushes incl. finish()), bins (micro-batches, non-empty), bins_vs_pack
// (bins / offline pack() bins), dist_vit / dist_llm (OmniBal's DistRatio, rank_packing_result.hpp,
// averaged over steps).
//
//   build/<dir>/bench/bench_stream --benchmark_min_time=1x
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <numeric>
#include <vector>

#include <fulcrum/packing/pack.hpp>
#include <fulcrum/packing/rank_packing.hpp>
#include <fulcrum/runtime/streaming_batcher.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

using size2 = std::array<std::uint64_t, 2>;
constexpr std::size_t ranks = 8;
constexpr size2 cap2{8, 8192};
constexpr std::size_t n_items = 1000000;

const std::vector<size2>& workload() {
  static std::vector<size2> w;
  if (w.empty())
    for (const auto& s : fulcrum::testing::generate_w1(n_items))
      w.push_back({std::min<std::uint64_t>(s.images, cap2[0]), std::min<std::uint64_t>(s.tokens(), cap2[1])});
  return w;
}

std::size_t offline_pack_bins(bool two_d) {
  static std::map<bool, std::size_t> cache;
  auto it = cache.find(two_d);
  if (it != cache.end()) return it->second;
  const auto& w = workload();
  std::size_t bins = 0;
  if (two_d) {
    bins = fulcrum::pack(w, cap2).bins.size();
  } else {
    std::vector<std::uint64_t> t(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) t[i] = w[i][1];
    bins = fulcrum::pack(t, cap2[1]).bins.size();
  }
  return cache[two_d] = bins;
}

/// Quality of a list of micro-batches (loads per bin, steps of `ranks` in order).
struct quality {
  std::size_t bins = 0;
  double dist_vit = 0, dist_llm = 0;
};

quality of_loads(const std::vector<size2>& loads) {
  quality q;
  const std::size_t steps = (loads.size() + ranks - 1) / ranks;
  std::vector<double> v(steps * ranks, 0.0), t(steps * ranks, 0.0);
  for (std::size_t b = 0; b < loads.size(); ++b) {
    v[b] = static_cast<double>(loads[b][0]);
    t[b] = static_cast<double>(loads[b][1]);
    q.bins += loads[b][0] + loads[b][1] > 0 ? 1 : 0;
  }
  q.dist_vit = fulcrum::dist_ratio_of_loads(v, steps, ranks);
  q.dist_llm = fulcrum::dist_ratio_of_loads(t, steps, ranks);
  return q;
}

void report(benchmark::State& state, const quality& q, bool two_d) {
  state.counters["bins"] = static_cast<double>(q.bins);
  state.counters["bins_vs_pack"] = static_cast<double>(q.bins) / static_cast<double>(offline_pack_bins(two_d));
  state.counters["dist_vit"] = q.dist_vit;
  state.counters["dist_llm"] = q.dist_llm;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n_items));
}

template <std::size_t D>
quality run_batcher(std::size_t buffer) {
  const auto& w = workload();
  fulcrum::stream_options<D> o;
  o.buffer = buffer;
  o.ranks = ranks;
  if constexpr (D == 2) {
    o.caps = cap2;
  } else {
    o.caps = {cap2[1]};
  }
  fulcrum::streaming_batcher<D> b(o);
  std::vector<size2> loads;
  auto take = [&] {
    while (auto s = b.next())
      for (std::size_t r = 0; r < ranks; ++r)
        loads.push_back(D == 2 ? size2{s->loads[r * D], s->loads[r * D + D - 1]} : size2{0, s->loads[r]});
  };
  for (std::size_t i = 0; i < w.size(); ++i) {
    if constexpr (D == 2) {
      b.push(i, w[i]);
    } else {
      b.push(i, w[i][1]);
    }
    if (b.ready()) take();
  }
  b.finish();
  take();
  quality q = of_loads(loads);
  if constexpr (D == 1) {
    // dist_vit: the images the 1-D packing put in each micro-batch are not tracked here.
    q.dist_vit = 0;
  }
  return q;
}

/// Streaming batcher; range(0) = B, range(1) = dimensions (1: token budget, 2: images + tokens).
void BM_stream(benchmark::State& state) {
  const auto buffer = static_cast<std::size_t>(state.range(0));
  const bool two_d = state.range(1) == 2;
  (void)workload();
  (void)offline_pack_bins(two_d);
  quality q;
  for (auto _ : state) {
    q = two_d ? run_batcher<2>(buffer) : run_batcher<1>(buffer);
    benchmark::DoNotOptimize(q.bins);
  }
  report(state, q, two_d);
}

/// Next fit over the arrival order (B ignored) or over a sorted buffer of B items.
void BM_next_fit(benchmark::State& state) {
  const auto buffer = static_cast<std::size_t>(state.range(0));
  const bool sorted = state.range(1) == 1;
  const auto& w = workload();
  (void)offline_pack_bins(true);
  quality q;
  for (auto _ : state) {
    std::vector<size2> loads;
    size2 open{0, 0};
    auto add = [&](const size2& s) {
      if (open[0] + s[0] > cap2[0] || open[1] + s[1] > cap2[1]) {
        loads.push_back(open);
        open = {0, 0};
      }
      open[0] += s[0];
      open[1] += s[1];
    };
    if (!sorted) {
      for (const auto& s : w) add(s);
    } else {
      std::vector<size2> buf;
      buf.reserve(buffer);
      auto drain = [&] {
        std::sort(buf.begin(), buf.end(), [](const size2& a, const size2& b) { return a[1] > b[1]; });
        for (const auto& s : buf) add(s);
        buf.clear();
      };
      for (const auto& s : w) {
        buf.push_back(s);
        if (buf.size() == buffer) drain();
      }
      drain();
    }
    if (open[0] + open[1] > 0) loads.push_back(open);
    q = of_loads(loads);
    benchmark::DoNotOptimize(q.bins);
  }
  report(state, q, true);
}

/// The offline planners on the whole dataset: range(0) = 0 pack() dealt round robin (2-D), 1
/// pack_for_ranks (2-D), 2 pack_for_ranks on the tokens alone (1-D; bins_vs_pack against the 2-D pack()).
void BM_offline(benchmark::State& state) {
  const auto& w = workload();
  (void)offline_pack_bins(true);
  quality q;
  for (auto _ : state) {
    if (state.range(0) == 0) {
      const auto p = fulcrum::pack(w, cap2);
      std::vector<size2> loads;
      for (std::size_t b = 0; b < p.bins.size(); ++b) {
        size2 l{0, 0};
        for (const auto i : p.bins[b]) l = {l[0] + w[i][0], l[1] + w[i][1]};
        loads.push_back(l);
      }
      q = of_loads(loads);
    } else if (state.range(0) == 2) {
      std::vector<std::uint64_t> t(w.size());
      for (std::size_t i = 0; i < w.size(); ++i) t[i] = w[i][1];
      const auto r = fulcrum::pack_for_ranks(t, cap2[1], ranks);
      q.bins = r.used_bins;
      q.dist_vit = 0;
      q.dist_llm = r.dist[0];
    } else {
      const auto r = fulcrum::pack_for_ranks(w, cap2, ranks);
      q.bins = r.used_bins;
      q.dist_vit = r.dist[0];
      q.dist_llm = r.dist[1];
    }
    benchmark::DoNotOptimize(q.bins);
  }
  report(state, q, true);
}

}  // namespace

BENCHMARK(BM_stream)
    ->ArgsProduct({{256, 1024, 4096, 16384, 65536}, {2, 1}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(BM_next_fit)
    ->ArgsProduct({{256, 1024, 4096, 16384, 65536}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(BM_offline)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(1);

BENCHMARK_MAIN();
