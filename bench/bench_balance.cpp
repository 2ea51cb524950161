// Balancing W1 (N = 65536 samples, k = 512 ranks) under the linear cost L and the attention-like
// cost L + L^2/4096: every heuristic behind balance(), the raw Karmarkar-Karp assignment, equal
// counts, two-level and per-phase balancing, against an in-run plain baseline (textbook
// priority-queue LPT over a std::sort'ed copy). Counters: makespan / lower bound.
//   build/<dir>/bench/bench_balance --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <algorithm>
#include <functional>
#include <queue>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/karmarkar_karp.hpp>
#include <fulcrum/balance/phases.hpp>
#include <fulcrum/balance/two_level.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

const std::vector<fulcrum::multimodal_sample>& w1() {
  static const auto samples = fulcrum::testing::generate_w1(65536);
  return samples;
}

std::vector<fulcrum::cost_t> w1_costs(bool attention) {
  std::vector<fulcrum::cost_t> c;
  for (const auto& s : w1()) c.push_back(attention ? fulcrum::attention_cost{}(s.tokens()) : static_cast<double>(s.tokens()));
  return c;
}

// balance() end to end from precomputed costs (cost evaluation excluded, as in the peers' figures).
void bm_balance(benchmark::State& state) {
  const auto costs = w1_costs(state.range(1) != 0);
  fulcrum::balance_options opts;
  opts.algorithm = static_cast<fulcrum::balance_algorithm>(state.range(0));
  opts.equal_counts = state.range(2) != 0;
  fulcrum::partition p;
  for (auto _ : state) {
    p = fulcrum::balance(costs, 512, opts);
    const double makespan = p.makespan;  // a copy: benchmark 1.7's DoNotOptimize(double&) may clobber it (GCC)
    benchmark::DoNotOptimize(makespan);
  }
  state.counters["makespan_over_bound"] = p.makespan / p.lower_bound;
  state.counters["gap_ppm"] = (p.makespan / p.lower_bound - 1) * 1e6;
}

void bm_karmarkar_karp_assign(benchmark::State& state) {
  const auto costs = w1_costs(state.range(0) != 0);
  std::vector<fulcrum::index_type> a;
  for (auto _ : state) {
    a = fulcrum::karmarkar_karp_assign(costs, 512);
    benchmark::DoNotOptimize(a.data());
  }
  const auto p = fulcrum::detail::make_partition(a, costs, 512, fulcrum::makespan_lower_bound(costs, 512));
  state.counters["makespan_over_bound"] = p.makespan / p.lower_bound;
  state.counters["gap_ppm"] = (p.makespan / p.lower_bound - 1) * 1e6;
}

void bm_two_level(benchmark::State& state) {  // 64 ranks x 8 micro-batches = 512 micro-batches
  const auto costs = w1_costs(true);
  fulcrum::two_level_partition t;
  for (auto _ : state) {
    t = fulcrum::balance_two_level(costs, 64, 8);
    benchmark::DoNotOptimize(t.lockstep_time);
  }
  state.counters["rank_makespan_over_bound"] = t.ranks.makespan / t.ranks.lower_bound;
  state.counters["mb_makespan_over_bound"] = t.micro_batch_makespan / t.micro_batch_lower_bound;
  state.counters["lockstep_over_bound"] = t.lockstep_time / t.ranks.lower_bound;
}

void bm_phases(benchmark::State& state) {
  const auto vision = fulcrum::projected_cost{fulcrum::linear_cost{576.0, 0.0}, fulcrum::images_of{}};
  const auto llm = fulcrum::projected_cost{fulcrum::attention_cost{}, fulcrum::tokens_of{}};
  fulcrum::phase_plan plan;
  for (auto _ : state) {
    plan = fulcrum::balance_phases(w1(), 512, vision, llm);
    benchmark::DoNotOptimize(plan.samples_kept);
  }
  state.counters["vision_over_bound"] = plan.vision.makespan / plan.vision.lower_bound;
  state.counters["llm_over_bound"] = plan.llm.makespan / plan.llm.lower_bound;
  state.counters["kept_fraction"] = static_cast<double>(plan.samples_kept) / static_cast<double>(w1().size());
}

// Baseline: the textbook LPT a user would write first.
void bm_baseline_lpt(benchmark::State& state) {
  const auto costs = w1_costs(state.range(0) != 0);
  double makespan = 0;
  for (auto _ : state) {
    std::vector<double> sorted = costs;
    std::sort(sorted.begin(), sorted.end(), std::greater<>{});
    std::priority_queue<double, std::vector<double>, std::greater<>> loads;
    for (std::size_t p = 0; p < 512; ++p) loads.push(0.0);
    for (double c : sorted) {
      const double l = loads.top();
      loads.pop();
      loads.push(l + c);
    }
    makespan = 0;
    while (!loads.empty()) makespan = std::max(makespan, loads.top()), loads.pop();
    benchmark::DoNotOptimize(makespan);
  }
  state.counters["makespan_over_bound"] = makespan / fulcrum::makespan_lower_bound(costs, 512);
  state.counters["gap_ppm"] = (makespan / fulcrum::makespan_lower_bound(costs, 512) - 1) * 1e6;
}

// algorithm: 0 automatic, 1 greedy, 2 karmarkar_karp, 3 multifit, 5 local_search.
void algorithms(benchmark::internal::Benchmark* b) {
  for (int attention : {0, 1})
    for (int alg : {0, 1, 2, 3, 5}) b->Args({alg, attention, 0});
  for (int alg : {0, 1, 2, 5}) b->Args({alg, 1, 1});
}

}  // namespace

BENCHMARK(bm_balance)->ArgNames({"alg", "attention", "equal_counts"})->Apply(algorithms)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_karmarkar_karp_assign)->ArgName("attention")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_two_level)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_phases)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_baseline_lpt)->ArgName("attention")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
