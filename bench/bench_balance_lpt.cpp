// Greedy LPT on W1 (N = 65536, k = 512) under the linear and attention cost models, against an
// in-run baseline written plainly (priority-queue LPT over a std::sort'ed copy). Counters report
// quality: makespan / lower bound.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <functional>
#include <queue>
#include <vector>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

std::vector<fulcrum::cost_t> w1_costs(std::size_t n, bool attention) {
  const auto w1 = fulcrum::testing::generate_w1(n);
  std::vector<fulcrum::cost_t> c;
  c.reserve(n);
  for (const auto& s : w1) c.push_back(attention ? fulcrum::attention_cost{}(s.tokens()) : static_cast<double>(s.tokens()));
  return c;
}

void bm_lpt(benchmark::State& state) {
  const auto costs = w1_costs(static_cast<std::size_t>(state.range(0)), state.range(2) != 0);
  const auto k = static_cast<std::size_t>(state.range(1));
  fulcrum::partition p;
  for (auto _ : state) {
    p = fulcrum::lpt(costs, k);
    const double makespan = p.makespan;  // a copy: benchmark 1.7's DoNotOptimize(double&) may clobber it (GCC)
    benchmark::DoNotOptimize(makespan);
  }
  state.counters["makespan_over_bound"] = p.makespan / p.lower_bound;
  state.counters["items_per_s"] = benchmark::Counter(static_cast<double>(costs.size()), benchmark::Counter::kIsIterationInvariantRate);
}

// Baseline: the textbook implementation a user would write first.
void bm_baseline_lpt(benchmark::State& state) {
  const auto costs = w1_costs(static_cast<std::size_t>(state.range(0)), state.range(2) != 0);
  const auto k = static_cast<std::size_t>(state.range(1));
  double makespan = 0;
  for (auto _ : state) {
    std::vector<double> sorted = costs;
    std::sort(sorted.begin(), sorted.end(), std::greater<>{});
    std::priority_queue<double, std::vector<double>, std::greater<>> loads;
    for (std::size_t p = 0; p < k; ++p) loads.push(0.0);
    for (double c : sorted) {
      const double l = loads.top();
      loads.pop();
      loads.push(l + c);
    }
    makespan = 0;
    while (!loads.empty()) makespan = std::max(makespan, loads.top()), loads.pop();
    benchmark::DoNotOptimize(makespan);
  }
  state.counters["makespan"] = makespan;
}

}  // namespace

BENCHMARK(bm_lpt)->ArgNames({"n", "k", "attention"})->Args({65536, 512, 0})->Args({65536, 512, 1})->Unit(benchmark::kMillisecond);
BENCHMARK(bm_baseline_lpt)->ArgNames({"n", "k", "attention"})->Args({65536, 512, 0})->Args({65536, 512, 1})->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
