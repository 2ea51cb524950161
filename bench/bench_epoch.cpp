// SPDX-License-Identifier: Apache-2.0
// Epoch plans (runtime/epoch_plan.hpp) and the cap search (runtime/cap_search.hpp).
//  - BM_epoch_w3 / BM_isf_w3 / BM_pack_for_ranks_w3: W3 (OmniBal-shaped InternVL data) 100k
//    items, 8 ranks, caps (tiles, tokens) (20, 5824), (16, 4672), (9, 4096) (arg 0, 1, 2): the
//    epoch planner (epoch 0), OmniBal's ISF (50 rounds, packs full at tiles == cap or tokens >=
//    cap - 128) and pack_for_ranks. Counters: bins (non-empty micro-batches), lower_bound,
//    dist_vit / dist_llm (DistRatio over tiles / tokens), time_tokens (sum over steps of the
//    slowest rank's tokens), time_ovh (the same with 1024 token-equivalents of overhead per
//    micro-batch); BM_epoch_w3 adds the ratios to ISF of the same run: bins_vs_isf,
//    time_vs_isf, time_ovh_vs_isf.
//  - BM_epoch_overlap_w1: W1 100k, 8 ranks, caps (8 images, 8192 tokens) (arg 0), (4, 4096) (arg
//    1), tokens only at 8192 (arg 2): shared = share of epoch 1's micro-batches that are also
//    micro-batches of epoch 0 (pack_for_ranks: 1), bins_per_lb, dist (worst dimension).
//  - BM_cap_search_w3: W3 100k, 8 ranks, grid tiles {9, 12, 16, 20, 24} x tokens {4096, 4672,
//    5824, 6144, 8192}, overhead 1024 token-equivalents, target 5 samples per micro-batch (+-10 %):
//    the best caps and how many candidates it planned (the others were pruned by their bound).
//
//   build/<dir>/bench/bench_epoch --benchmark_min_time=0.1
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include <fulcrum/packing/detail/rank_omnibal.hpp>
#include <fulcrum/packing/rank_packing.hpp>
#include <fulcrum/runtime/cap_search.hpp>
#include <fulcrum/runtime/epoch_plan.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

using size2 = std::array<std::uint64_t, 2>;
constexpr std::size_t ranks = 8;
constexpr std::size_t n_items = 100000;
constexpr double overhead = 1024;

size2 w3_cap(std::int64_t which) {
  return which == 0 ? size2{20, 5824} : which == 1 ? size2{16, 4672} : size2{9, 4096};
}

const std::vector<size2>& w3() {
  static const std::vector<size2> w = [] {
    std::vector<size2> out;
    for (const auto& s : fulcrum::testing::generate_w3(n_items)) out.push_back({s.images, s.tokens()});
    return out;
  }();
  return w;
}

const std::vector<std::uint64_t>& w3_tokens() {
  static const std::vector<std::uint64_t> t = [] {
    std::vector<std::uint64_t> out;
    for (const auto& s : w3()) out.push_back(s[1]);
    return out;
  }();
  return t;
}

struct figures {
  double bins, time, time_ovh;
};

figures report(benchmark::State& state, const fulcrum::rank_packing& r) {
  const std::span<const std::uint64_t> tokens(w3_tokens());
  const figures f{static_cast<double>(r.used_bins), fulcrum::estimated_epoch_time(r.bins, tokens),
                  fulcrum::estimated_epoch_time(r.bins, tokens, overhead)};
  state.counters["bins"] = f.bins;
  state.counters["lower_bound"] = static_cast<double>(r.lower_bound);
  state.counters["dist_vit"] = r.dist[0];
  state.counters["dist_llm"] = r.dist[1];
  state.counters["time_tokens"] = f.time;
  state.counters["time_ovh"] = f.time_ovh;
  return f;
}

fulcrum::rank_packing isf(const size2& cap) {
  return fulcrum::detail::omnibal_baseline<2>(w3(), cap, size2{cap[0], cap[1] - 128}, ranks, 50);
}

void BM_epoch_w3(benchmark::State& state) {
  const size2 cap = w3_cap(state.range(0));
  const auto planner = fulcrum::make_epoch_planner(w3(), cap, ranks);
  fulcrum::rank_packing r;
  for (auto _ : state) {
    r = planner.plan(0);
    benchmark::DoNotOptimize(r.bins.groups().indices().data());
  }
  const figures f = report(state, r);
  const fulcrum::rank_packing base = isf(cap);
  const std::span<const std::uint64_t> tokens(w3_tokens());
  state.counters["bins_vs_isf"] = f.bins / static_cast<double>(base.used_bins);
  state.counters["time_vs_isf"] = f.time / fulcrum::estimated_epoch_time(base.bins, tokens);
  state.counters["time_ovh_vs_isf"] = f.time_ovh / fulcrum::estimated_epoch_time(base.bins, tokens, overhead);
}

void BM_isf_w3(benchmark::State& state) {
  const size2 cap = w3_cap(state.range(0));
  fulcrum::rank_packing r;
  for (auto _ : state) {
    r = isf(cap);
    benchmark::DoNotOptimize(r.bins.groups().indices().data());
  }
  (void)report(state, r);
}

void BM_pack_for_ranks_w3(benchmark::State& state) {
  const size2 cap = w3_cap(state.range(0));
  fulcrum::rank_packing r;
  for (auto _ : state) {
    r = fulcrum::pack_for_ranks(w3(), cap, ranks);
    benchmark::DoNotOptimize(r.bins.groups().indices().data());
  }
  (void)report(state, r);
}

double shared_share(const fulcrum::rank_packing& a, const fulcrum::rank_packing& b) {
  std::set<std::vector<fulcrum::index_type>> in_a;
  for (const auto g : a.bins.groups())
    if (!g.empty()) in_a.insert(std::vector<fulcrum::index_type>(g.begin(), g.end()));
  double shared = 0, total = 0;
  for (const auto g : b.bins.groups())
    if (!g.empty()) {
      total += 1;
      shared += static_cast<double>(in_a.count(std::vector<fulcrum::index_type>(g.begin(), g.end())));
    }
  return total == 0 ? 0 : shared / total;
}

void BM_epoch_overlap_w1(benchmark::State& state) {
  const auto w = fulcrum::testing::generate_w1(n_items);
  const fulcrum::epoch_plan_options opts{.oversize_policy = fulcrum::oversize::truncate};
  fulcrum::rank_packing e0, e1;
  const auto run = [&](const auto& planner) {
    for (auto _ : state) {
      e0 = planner.plan(0);
      benchmark::DoNotOptimize(e0.bins.groups().indices().data());
    }
    e1 = planner.plan(1);
  };
  if (state.range(0) == 2) {
    run(fulcrum::make_epoch_planner(w, 8192, ranks, opts, fulcrum::balance_sizes{}, fulcrum::tokens_of{}));
  } else {
    const size2 cap = state.range(0) == 0 ? size2{8, 8192} : size2{4, 4096};
    run(fulcrum::make_epoch_planner(w, cap, ranks, opts, fulcrum::balance_sizes{},
                                    [](const fulcrum::multimodal_sample& s) {
                                      return size2{s.images, s.tokens()};
                                    }));
  }
  state.counters["shared"] = shared_share(e0, e1);
  state.counters["bins_per_lb"] = static_cast<double>(e0.used_bins) / static_cast<double>(e0.lower_bound);
  state.counters["dist"] = *std::max_element(e0.dist.begin(), e0.dist.end());
}

void BM_cap_search_w3(benchmark::State& state) {
  const fulcrum::cap_grid grid{{9, 12, 16, 20, 24}, {4096, 4672, 5824, 6144, 8192}};
  fulcrum::cap_search_result r;
  for (auto _ : state) {
    r = fulcrum::search_caps(w3(), grid, ranks, {.overhead = overhead, .target_items = 5});
    benchmark::DoNotOptimize(r.candidates.data());
  }
  double evaluated = 0;
  for (const auto& c : r.candidates) evaluated += c.evaluated ? 1 : 0;
  state.counters["best_tiles"] = static_cast<double>(r.caps[0]);
  state.counters["best_tokens"] = static_cast<double>(r.caps[1]);
  state.counters["time_ovh"] = r.epoch_time;
  state.counters["evaluated"] = evaluated;
  state.counters["candidates"] = static_cast<double>(r.candidates.size());
}

}  // namespace

BENCHMARK(BM_epoch_w3)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_isf_w3)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_pack_for_ranks_w3)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_epoch_overlap_w1)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_cap_search_w3)->Unit(benchmark::kMillisecond)->Iterations(1);

BENCHMARK_MAIN();
