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
#include <span>
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
    const double makespan = p.makespan;  // a copy: benchmark 1.7's DoNotOptimize(double&) may clobber it (GCC)
    benchmark::DoNotOptimize(makespan);
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

// Per step: balance() of one global batch (Args: batch, k, workspace 0/1) on consecutive windows of
// W1 (wrapping), attention cost, automatic; 10k calls, each timed; allocations counted. With
// workspace = 1 the overload balance(items, k, ws, out, ...) reuses a workspace and a result.
void bm_step_balance(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  const auto k = static_cast<std::size_t>(state.range(1));
  const bool reuse = state.range(2) != 0;
  const std::size_t calls = 10'000, windows = 1'000'000 / batch;
  const auto all = costs_of(1'000'000, 0);
  std::vector<double> us(calls);
  std::size_t allocations = 0;
  double makespans = 0;
  fulcrum::workspace ws;
  fulcrum::partition out;
  for (std::size_t c = 0; c < 20; ++c)  // warm-up: the workspace and the result reach their size
    fulcrum::balance(std::span<const fulcrum::cost_t>(all.data() + c * batch, batch), k, ws, out);
  for (auto _ : state) {
    const std::size_t before = heap_accounting::allocations;
    for (std::size_t c = 0; c < calls; ++c) {
      const std::span<const fulcrum::cost_t> window(all.data() + (c % windows) * batch, batch);
      const auto t0 = std::chrono::steady_clock::now();
      if (reuse) {
        fulcrum::balance(window, k, ws, out);
      } else {
        out = fulcrum::balance(window, k);
      }
      us[c] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      makespans += out.makespan;
    }
    allocations = heap_accounting::allocations - before;
    benchmark::DoNotOptimize(makespans);
  }
  std::sort(us.begin(), us.end());
  state.counters["median_us"] = us[calls / 2];
  state.counters["p99_us"] = us[calls * 99 / 100];
  state.counters["p99_over_median"] = us[calls * 99 / 100] / us[calls / 2];
  state.counters["allocations_per_call"] = static_cast<double>(allocations) / static_cast<double>(calls);
  state.counters["workspace_bytes"] = static_cast<double>(ws.capacity());
}

// bm_balance_fast through the workspace overload (same plans): W1 65,536 onto 64, equal counts.
void bm_balance_fast_workspace(benchmark::State& state) {
  const auto costs = costs_of(65536, 1);
  fulcrum::balance_options opts;
  opts.equal_counts = true;
  fulcrum::workspace ws;
  fulcrum::partition p;
  for (auto _ : state) {
    fulcrum::balance(costs, 64, ws, p, opts);
    const double makespan = p.makespan;  // a copy: benchmark 1.7's DoNotOptimize(double&) may clobber it (GCC)
    benchmark::DoNotOptimize(makespan);
  }
  quality(state, p);
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
BENCHMARK(bm_step_balance)
    ->ArgNames({"batch", "k", "workspace"})
    ->Args({512, 8, 0})
    ->Args({512, 8, 1})
    ->Args({4096, 64, 0})
    ->Args({4096, 64, 1})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_balance_fast_workspace)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
