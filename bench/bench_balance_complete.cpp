// Exact balancing: proof times on planted perfect partitions (k = 4..8, n = 24..48) for several
// magnitudes of item costs (mean item = part_sum / (n/k)), and complete_balance vs LPT on W1.
// Counters: proven (fraction of instances proven optimal), makespan_over_bound, worst_ms.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include <fulcrum/balance/complete.hpp>
#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/testing/balance_instances.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {
// One iteration solves every (k, n) in k = 4..8, n in {24, 32, 40, 48} (n >= 3k), 5 seeds each.
void bm_perfect_family(benchmark::State& state) {
  const auto mean_item = static_cast<std::uint64_t>(state.range(0));
  std::vector<fulcrum::testing::perfect_instance> family;
  for (std::size_t k = 4; k <= 8; ++k)
    for (std::size_t n : {24u, 32u, 40u, 48u})
      if (n >= 3 * k)
        for (std::uint64_t seed = 0; seed < 5; ++seed)
          family.push_back(fulcrum::testing::generate_perfect_instance(k, n, mean_item * n / k, seed));
  fulcrum::balance_options o;
  o.limits.time = std::chrono::milliseconds(1000);
  double proven = 0, worst_ms = 0, ratio = 0;
  for (auto _ : state) {
    proven = 0;
    worst_ms = 0;
    ratio = 0;
    for (const auto& inst : family) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto p = fulcrum::complete_balance(inst.costs, inst.k, o);
      worst_ms = std::max(worst_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      proven += p.proven_optimal && p.makespan == inst.part_sum ? 1 : 0;
      ratio = std::max(ratio, p.makespan / inst.part_sum);
    }
  }
  state.counters["instances"] = static_cast<double>(family.size());
  state.counters["proven"] = proven / static_cast<double>(family.size());
  state.counters["worst_ms"] = worst_ms;
  state.counters["worst_makespan_over_opt"] = ratio;
}

// The in-run baseline on the same family: LPT, and how far it is from the known optimum.
void bm_perfect_family_lpt(benchmark::State& state) {
  const auto mean_item = static_cast<std::uint64_t>(state.range(0));
  std::vector<fulcrum::testing::perfect_instance> family;
  for (std::size_t k = 4; k <= 8; ++k)
    for (std::size_t n : {24u, 32u, 40u, 48u})
      if (n >= 3 * k)
        for (std::uint64_t seed = 0; seed < 5; ++seed)
          family.push_back(fulcrum::testing::generate_perfect_instance(k, n, mean_item * n / k, seed));
  double optimal = 0, ratio = 0;
  for (auto _ : state) {
    optimal = 0;
    ratio = 0;
    for (const auto& inst : family) {
      const auto p = fulcrum::lpt(inst.costs, inst.k);
      optimal += p.makespan == inst.part_sum ? 1 : 0;
      ratio = std::max(ratio, p.makespan / inst.part_sum);
    }
  }
  state.counters["instances"] = static_cast<double>(family.size());
  state.counters["optimal"] = optimal / static_cast<double>(family.size());
  state.counters["worst_makespan_over_opt"] = ratio;
}

// W1 (tokens) batches, k parts: complete_balance under a node limit vs LPT.
void bm_w1_complete(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto k = static_cast<std::size_t>(state.range(1));
  const auto tokens = fulcrum::testing::generate_w1_tokens(n);
  std::vector<fulcrum::cost_t> c(tokens.begin(), tokens.end());
  fulcrum::balance_options o;
  o.limits.nodes = 1'000'000;
  fulcrum::partition p;
  for (auto _ : state) {
    p = state.range(2) ? fulcrum::complete_balance(c, k, o) : fulcrum::lpt(c, k);
    const double makespan = p.makespan;  // a copy: benchmark 1.7's DoNotOptimize(double&) may clobber it (GCC)
    benchmark::DoNotOptimize(makespan);
  }
  state.counters["makespan_over_bound"] = p.makespan / p.lower_bound;
  state.counters["proven"] = p.proven_optimal ? 1 : 0;
}
}  // namespace

BENCHMARK(bm_perfect_family)->Arg(100)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(bm_perfect_family_lpt)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_w1_complete)->Args({64, 8, 0})->Args({64, 8, 1})->Args({512, 16, 0})->Args({512, 16, 1})->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
