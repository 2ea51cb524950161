// The balance fast paths of issue 22 and the equal-counts rows of the Python peers table
// (issue 18), in C++ on precomputed costs, each with its quality counter:
//  - W1 N = 65536 onto k = 512, attention cost L + L^2/4096: automatic, karmarkar_karp (front
//    door) and the raw karmarkar_karp_assign;
//  - W1 65536 and 1e6 onto k = 64 under verl's workload 24576 L + L^2 with equal counts:
//    automatic and karmarkar_karp (docs/benchmarks.md, "Python API vs Python peers");
//  - per step: two-level balance of a 4096-sample W1 global batch (attention cost) over 64 ranks
//    x 4 micro-batches, 10k calls, median and p99 per call and heap allocations per call.
//   build/<dir>/bench/bench_balance_fast --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/karmarkar_karp.hpp>
#include <fulcrum/balance/two_level.hpp>
#include <fulcrum/testing/workloads.hpp>

#include "heap_accounting.hpp"

namespace {

const std::vector<std::uint32_t>& w1_tokens() {
  static const auto tokens = fulcrum::testing::generate_w1_tokens(1'000'000);
  return tokens;
}

// cost 0: attention L + L^2/4096; cost 1: verl's workload 24576 L + L^2.
std::vector<fulcrum::cost_t> costs_of(std::size_t n, int cost) {
  std::vector<fulcrum::cost_t> c(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double l = w1_tokens()[i];
    c[i] = cost == 0 ? fulcrum::attention_cost{}(w1_tokens()[i]) : 24576 * l + l * l;
  }
  return c;
}

void quality(benchmark::State& state, const fulcrum::partition& p) {
  state.counters["makespan_over_bound"] = p.makespan / p.lower_bound;
  state.counters["gap_ppb"] = (p.makespan / p.lower_bound - 1) * 1e9;
}

// Args: n, k, cost (0 attention, 1 verl), algorithm (0 automatic, 2 karmarkar_karp), equal counts.
void bm_balance_fast(benchmark::State& state) {
  const auto costs = costs_of(static_cast<std::size_t>(state.range(0)), static_cast<int>(state.range(2)));
  fulcrum::balance_options opts;
  opts.algorithm = static_cast<fulcrum::balance_algorithm>(state.range(3));
  opts.equal_counts = state.range(4) != 0;
  const auto k = static_cast<std::size_t>(state.range(1));
  fulcrum::partition p;
  for (auto _ : state) {
    p = fulcrum::balance(costs, k, opts);
    benchmark::DoNotOptimize(p.makespan);
  }
  quality(state, p);
}

void bm_karmarkar_karp_assign_fast(benchmark::State& state) {
  const auto costs = costs_of(65536, 0);
  std::vector<fulcrum::index_type> a;
  for (auto _ : state) {
    a = fulcrum::karmarkar_karp_assign(costs, 512);
    benchmark::DoNotOptimize(a.data());
  }
  quality(state, fulcrum::detail::make_partition(a, costs, 512, fulcrum::makespan_lower_bound(costs, 512)));
}

// Per step: 10k calls on consecutive 4096-sample windows of W1 (wrapping), each timed.
void bm_step_two_level(benchmark::State& state) {
  constexpr std::size_t batch = 4096, calls = 10'000, windows = 1'000'000 / batch;
  const auto all = costs_of(1'000'000, 0);
  std::vector<double> us(calls);
  std::size_t allocations = 0;
  double lockstep = 0;
  for (auto _ : state) {
    const std::size_t before = heap_accounting::allocations;
    for (std::size_t c = 0; c < calls; ++c) {
      const std::span<const fulcrum::cost_t> window(all.data() + (c % windows) * batch, batch);
      const auto t0 = std::chrono::steady_clock::now();
      const auto plan = fulcrum::balance_two_level(window, 64, 4);
      us[c] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      lockstep += plan.lockstep_time;
    }
    allocations = heap_accounting::allocations - before;
    benchmark::DoNotOptimize(lockstep);
  }
  std::sort(us.begin(), us.end());
  state.counters["median_us"] = us[calls / 2];
  state.counters["p99_us"] = us[calls * 99 / 100];
  state.counters["p99_over_median"] = us[calls * 99 / 100] / us[calls / 2];
  state.counters["allocations_per_call"] = static_cast<double>(allocations) / static_cast<double>(calls);
}

}  // namespace

BENCHMARK(bm_balance_fast)
    ->ArgNames({"n", "k", "cost", "alg", "equal"})
    ->Args({65536, 512, 0, 0, 0})
    ->Args({65536, 512, 0, 2, 0})
    ->Args({65536, 64, 1, 0, 1})
    ->Args({65536, 64, 1, 2, 1})
    ->Args({1'000'000, 64, 1, 0, 1})
    ->Args({1'000'000, 64, 1, 2, 1})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_karmarkar_karp_assign_fast)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_step_two_level)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
