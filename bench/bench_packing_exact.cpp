// SPDX-License-Identifier: Apache-2.0
// Exact bin packing (pack_exact) on families with a known optimum, 1 s time limit per instance:
//  - triplets (Falkenauer-style: three items in (C/4, C/2) fill each bin exactly; C = 1000 and
//    C = 100000), 90 items = 30 bins;
//  - tuples (2..5 items fill each bin exactly, C = 2048), up to 90 items;
//  - random instances with L2 below the optimum (proof needs an exhausted search), n = 30.
// One benchmark iteration solves the whole family (100 instances); counters: proved (fraction
// proved optimal), wrong (claims that disagree with the known optimum: must be 0), worst_ms,
// mean_ms, mean_nodes, and the in-run baseline: best-fit decreasing's excess bins over the optimum.
//
//   build/bench/bench_packing_exact --benchmark_min_time=0.01
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "fulcrum/core/rng.hpp"
#include "fulcrum/packing/exact.hpp"
#include "fulcrum/testing/packing_instances.hpp"

namespace ft = fulcrum::testing;
using namespace fulcrum;

namespace {

enum family { triplets_1000 = 0, triplets_100000 = 1, tuples_2048 = 2 };

ft::known_instance make(int fam, std::uint64_t seed) {
  switch (fam) {
    case triplets_1000: return ft::triplet_instance(30, 1000, seed);
    case triplets_100000: return ft::triplet_instance(30, 100000, seed);
    default: {
      auto inst = ft::tuple_instance(22, 2048, 2, 5, seed);
      while (inst.sizes.size() > 90) inst = ft::tuple_instance(22, 2048, 2, 5, seed += 1000003);
      return inst;
    }
  }
}

void BM_exact_known_optimum(benchmark::State& state) {
  const int fam = static_cast<int>(state.range(0));
  constexpr int instances = 100;
  std::vector<ft::known_instance> family;
  for (int s = 1; s <= instances; ++s) family.push_back(make(fam, static_cast<std::uint64_t>(s) * 7 + 1));
  double proved = 0, wrong = 0, worst = 0, total = 0, nodes = 0, bfd_excess = 0, items = 0;
  for (auto _ : state) {
    proved = wrong = worst = total = nodes = bfd_excess = items = 0;
    for (const auto& inst : family) {
      pack_options opts;
      opts.limits.time = std::chrono::milliseconds(1000);
      exact_stats st;
      const auto t0 = std::chrono::steady_clock::now();
      const auto p = pack_exact(inst.sizes, inst.capacity, opts, &st);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      benchmark::DoNotOptimize(p.bins.size());
      worst = std::max(worst, ms);
      total += ms;
      nodes += static_cast<double>(st.nodes);
      items += static_cast<double>(inst.sizes.size());
      bfd_excess += static_cast<double>(st.incumbent) - static_cast<double>(inst.optimum);
      if (p.proven_optimal) {
        proved += 1;
        if (p.bins.size() != inst.optimum) wrong += 1;
      }
      if (p.lower_bound > inst.optimum) wrong += 1;
    }
  }
  state.counters["proved"] = proved / instances;
  state.counters["wrong"] = wrong;
  state.counters["worst_ms"] = worst;
  state.counters["mean_ms"] = total / instances;
  state.counters["mean_nodes"] = nodes / instances;
  state.counters["mean_items"] = items / instances;
  state.counters["bfd_excess_bins"] = bfd_excess / instances;
}
BENCHMARK(BM_exact_known_optimum)->Arg(triplets_1000)->Arg(triplets_100000)->Arg(tuples_2048)
    ->Iterations(1)->Unit(benchmark::kMillisecond);

// Random instances whose optimum exceeds L2: the proof is an exhausted search at L2.
void BM_exact_loose_bound(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  constexpr int instances = 100;
  std::vector<std::vector<std::uint64_t>> family;
  for (int s = 1; s <= instances; ++s) family.push_back(ft::uniform_instance(n, 26, 55, static_cast<std::uint64_t>(s)));
  double proved = 0, worst = 0, total = 0, gap_closed = 0;
  for (auto _ : state) {
    proved = worst = total = gap_closed = 0;
    for (const auto& sizes : family) {
      pack_options opts;
      opts.limits.time = std::chrono::milliseconds(1000);
      exact_stats st;
      const auto t0 = std::chrono::steady_clock::now();
      const auto p = pack_exact(sizes, 100, opts, &st);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      benchmark::DoNotOptimize(p.bins.size());
      worst = std::max(worst, ms);
      total += ms;
      proved += p.proven_optimal ? 1 : 0;
      gap_closed += p.lower_bound > st.l2 ? 1 : 0;
    }
  }
  state.counters["proved"] = proved / instances;
  state.counters["bound_above_L2"] = gap_closed / instances;
  state.counters["worst_ms"] = worst;
  state.counters["mean_ms"] = total / instances;
}
BENCHMARK(BM_exact_loose_bound)->Arg(20)->Arg(30)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
