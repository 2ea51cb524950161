// SPDX-License-Identifier: Apache-2.0
// Rank-aware packing on W1 (LLaVA-like, images as ViT tiles), 8 ranks, caps (8 images, 8192 tokens)
// and (4 images, 4096 tokens), items over a cap truncated to it. Three planners in one run:
//  - pack_for_ranks (fill packer + steps of ranks bins + in-step local search);
//  - OmniBal's ISF (shuffled next fit under both caps, keep packs full in either dimension --
//    images == cap or tokens >= cap - 128 --, re-pack the rest, T = 50 rounds), packs dealt to ranks;
//  - pack() (multi-constraint best-fit decreasing) with its bins dealt round-robin to ranks
//    (what a user writes first).
// Counters: bins (steps x ranks), lower_bound (max of L2 per dimension and the coupled bound),
// bins_per_lb, dist_vit / dist_llm (OmniBal's DistRatio over images / tokens), pad_images /
// pad_tokens (1 - used / (bins x cap)).
//
//   build/<dir>/bench/bench_rank_packing --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include <fulcrum/packing/detail/rank_omnibal.hpp>
#include <fulcrum/packing/pack.hpp>
#include <fulcrum/packing/rank_packing.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

using size2 = std::array<std::uint64_t, 2>;
constexpr std::size_t ranks = 8;

size2 cap_of(std::int64_t which) { return which == 0 ? size2{8, 8192} : size2{4, 4096}; }

const std::vector<size2>& workload(std::size_t n, const size2& cap) {
  static std::map<std::pair<std::size_t, std::uint64_t>, std::vector<size2>> cache;
  auto& w = cache[{n, cap[1]}];
  if (w.empty())
    for (const auto& s : fulcrum::testing::generate_w1(n))
      w.push_back({std::min<std::uint64_t>(s.images, cap[0]), std::min<std::uint64_t>(s.tokens(), cap[1])});
  return w;
}

void report(benchmark::State& state, const fulcrum::rank_packing& r) {
  state.counters["bins"] = static_cast<double>(r.bins.groups().size());
  state.counters["lower_bound"] = static_cast<double>(r.lower_bound);
  state.counters["bins_per_lb"] = static_cast<double>(r.bins.groups().size()) / static_cast<double>(r.lower_bound);
  state.counters["dist_vit"] = r.dist[0];
  state.counters["dist_llm"] = r.dist[1];
  state.counters["pad_images"] = r.pad[0];
  state.counters["pad_tokens"] = r.pad[1];
}

void BM_pack_for_ranks(benchmark::State& state) {
  const size2 cap = cap_of(state.range(1));
  const auto& w = workload(static_cast<std::size_t>(state.range(0)), cap);
  fulcrum::rank_packing r;
  for (auto _ : state) {
    r = fulcrum::pack_for_ranks(w, cap, ranks);
    benchmark::DoNotOptimize(r.bins.groups().indices().data());
  }
  report(state, r);
}

void BM_omnibal_isf(benchmark::State& state) {
  const size2 cap = cap_of(state.range(1));
  const auto& w = workload(static_cast<std::size_t>(state.range(0)), cap);
  fulcrum::rank_packing r;
  for (auto _ : state) {
    r = fulcrum::detail::omnibal_baseline<2>(w, cap, size2{cap[0], cap[1] - 128}, ranks, 50);
    benchmark::DoNotOptimize(r.bins.groups().indices().data());
  }
  report(state, r);
}

void BM_pack_round_robin(benchmark::State& state) {
  const size2 cap = cap_of(state.range(1));
  const auto& w = workload(static_cast<std::size_t>(state.range(0)), cap);
  fulcrum::rank_packing r;
  for (auto _ : state) {
    const auto p = fulcrum::pack(w, cap);
    const std::size_t steps = (p.bins.size() + ranks - 1) / ranks;
    std::vector<std::vector<fulcrum::index_type>> bins(steps * ranks);
    for (std::size_t b = 0; b < p.bins.size(); ++b) bins[b].assign(p.bins[b].begin(), p.bins[b].end());
    const std::uint64_t lb = std::max(p.lower_bound, fulcrum::detail::coupled_lower_bound<2>(w, cap));
    r = fulcrum::detail::make_rank_packing<2>(bins, steps, ranks, w, cap, {}, lb);
    benchmark::DoNotOptimize(r.bins.groups().indices().data());
  }
  report(state, r);
}

}  // namespace

BENCHMARK(BM_pack_for_ranks)->ArgsProduct({{100000}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_omnibal_isf)->ArgsProduct({{100000}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_pack_round_robin)->ArgsProduct({{100000}, {0, 1}})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
