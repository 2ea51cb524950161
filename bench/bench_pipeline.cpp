// Pipeline stage partitioning, schedule simulation, recompute selection and the joint search on
// the reference profiles (docs/workloads.md: vlm130, vlm130j, vlm520, vlm1040). In-run baselines:
// the plain O(n^2 p) DP and DeepSpeed-style epsilon-bisection (partition_balanced before
// 2023-12: bisection on the bottleneck with a greedy probe, stopped at a fixed precision).
// Counters: bottleneck / exact optimum, simulated iteration time, proven_optimal.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <fulcrum/pipeline/partition.hpp>
#include <fulcrum/pipeline/schedule.hpp>
#include <fulcrum/pipeline/search.hpp>
#include <fulcrum/recompute/joint.hpp>
#include <fulcrum/recompute/select.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

const char* profile_name(std::int64_t i) {
  static const char* names[] = {"vlm130", "vlm130j", "vlm520", "vlm1040"};
  return names[i];
}

// DeepSpeed-style bisection (epsilon-optimal): greedy probe on prefix sums, bisection on the
// bottleneck until hi - lo <= eps * hi, then the greedy partition at hi.
std::vector<std::size_t> deepspeed_bisection(const std::vector<double>& c, std::size_t p, double eps = 1e-3) {
  std::vector<double> pre(c.size() + 1, 0.0);
  for (std::size_t i = 0; i < c.size(); ++i) pre[i + 1] = pre[i] + c[i];
  auto probe = [&](double B, std::vector<std::size_t>* out) {
    std::size_t pos = 0;
    if (out) out->assign(1, 0);
    for (std::size_t s = 0; s < p; ++s) {
      const auto it = std::upper_bound(pre.begin() + static_cast<std::ptrdiff_t>(pos), pre.end(), pre[pos] + B);
      pos = static_cast<std::size_t>(it - pre.begin()) - 1;
      if (out) out->push_back(pos);
    }
    return pos == c.size();
  };
  double lo = *std::max_element(c.begin(), c.end()), hi = pre.back();
  while (hi - lo > eps * hi) {
    const double mid = (lo + hi) / 2;
    (probe(mid, nullptr) ? hi : lo) = mid;
  }
  std::vector<std::size_t> b;
  probe(hi, &b);
  return b;
}

void bm_partition(benchmark::State& state, fulcrum::stage_algorithm alg) {
  const auto prof = fulcrum::testing::pipeline_profile(profile_name(state.range(0)));
  const auto p = static_cast<std::size_t>(state.range(1));
  fulcrum::pipeline_options o;
  o.algorithm = alg;
  fulcrum::stage_partition r;
  for (auto _ : state) {
    r = fulcrum::partition_stages(prof.cost, p, o);
    benchmark::DoNotOptimize(r.bottleneck);
  }
  o.algorithm = fulcrum::stage_algorithm::exact_bisection;
  const auto opt = fulcrum::partition_stages(prof.cost, p, o);
  state.counters["bottleneck"] = r.bottleneck;
  state.counters["over_optimum"] = r.bottleneck / opt.bottleneck;
  state.counters["layers"] = static_cast<double>(prof.cost.size());
}

void bm_partition_deepspeed_bisection(benchmark::State& state) {
  const auto prof = fulcrum::testing::pipeline_profile(profile_name(state.range(0)));
  const auto p = static_cast<std::size_t>(state.range(1));
  std::vector<std::size_t> b;
  for (auto _ : state) {
    b = deepspeed_bisection(prof.cost, p);
    benchmark::DoNotOptimize(b.data());
  }
  const auto opt = fulcrum::partition_stages(prof.cost, p);
  // the greedy probe may leave trailing stages empty: report them
  std::size_t empty = 0;
  for (std::size_t s = 0; s < p; ++s) empty += b[s + 1] == b[s];
  double worst = 0;
  for (std::size_t s = 0; s < p; ++s) {
    double sum = 0;
    for (std::size_t i = b[s]; i < b[s + 1]; ++i) sum += prof.cost[i];
    worst = std::max(worst, sum);
  }
  state.counters["over_optimum"] = worst / opt.bottleneck;
  state.counters["empty_stages"] = static_cast<double>(empty);
}

void bm_partition_uniform(benchmark::State& state) {
  const auto prof = fulcrum::testing::pipeline_profile(profile_name(state.range(0)));
  const auto p = static_cast<std::size_t>(state.range(1));
  fulcrum::stage_partition r;
  for (auto _ : state) {
    r = fulcrum::evaluate_partition(prof.cost, fulcrum::uniform_boundaries(prof.cost.size(), p));
    benchmark::DoNotOptimize(r.bottleneck);
  }
  state.counters["over_optimum"] = r.bottleneck / fulcrum::partition_stages(prof.cost, p).bottleneck;
}

// The vlm memory model of examples/pipeline_partition.cpp: forward = cost / 3, backward =
// 2 cost / 3; static memory (params + grads + Adam) ViT 400, LLM 1600, embed / head 1000 MiB per
// vlm130 layer; activations 8 x the profile's value per micro-batch, selective recompute keeps a
// quarter for 15% of the forward, full recompute keeps 1/16 for a whole forward. Split layers
// (vlm520 / vlm1040) divide everything evenly.
struct vlm_model {
  std::vector<fulcrum::pipeline_layer> layers;
  std::vector<std::vector<fulcrum::recompute_option>> options;
};
vlm_model make_vlm_model(const char* name) {
  const auto prof = fulcrum::testing::pipeline_profile(name);
  const auto base = fulcrum::testing::pipeline_profile("vlm130j");
  const std::size_t split = prof.cost.size() / base.cost.size();
  vlm_model m;
  for (std::size_t i = 0; i < prof.cost.size(); ++i) {
    const std::uint64_t a0 = base.activation_memory[i / split];
    const std::uint64_t par = (a0 == 64 ? 400 : a0 == 160 ? 1600 : 1000) / split;
    const std::uint64_t act = 8 * a0 / split;
    const double f = prof.cost[i] / 3.0;
    m.layers.push_back({f, 2.0 * f, par, act});
    m.options.push_back({{act, 0.0}, {act / 4, 0.15 * f}, {act / 16, f}});
  }
  return m;
}

fulcrum::pipeline_search_options search_opts(std::size_t p, std::size_t m) {
  fulcrum::pipeline_search_options o;
  o.stages = p;
  o.micro_batches = m;
  o.device_memory = 32768;
  o.p2p_time = 5;
  return o;
}

void bm_joint(benchmark::State& state) {
  const auto model = make_vlm_model(profile_name(state.range(0)));
  const auto o = search_opts(static_cast<std::size_t>(state.range(1)), static_cast<std::size_t>(state.range(2)));
  fulcrum::pipeline_plan plan;
  for (auto _ : state) {
    plan = fulcrum::joint_partition_recompute(model.layers, model.options, o);
    benchmark::DoNotOptimize(plan.iteration_time);
  }
  const auto plain = fulcrum::partition_stages(model.layers, o.stages, {}, &fulcrum::pipeline_layer::time);
  const auto balanced = fulcrum::evaluate_pipeline(model.layers, model.options, plain.boundaries, o);
  const auto uniform = fulcrum::evaluate_pipeline(model.layers, model.options,
                                                  fulcrum::uniform_boundaries(model.layers.size(), o.stages), o);
  state.counters["iteration"] = plan.iteration_time;
  state.counters["vs_balanced"] = balanced.iteration_time / plan.iteration_time;
  state.counters["vs_uniform"] = uniform.iteration_time / plan.iteration_time;
  state.counters["proven"] = plan.proven_optimal;
  state.counters["nodes"] = static_cast<double>(plan.nodes);
}

void bm_balanced_search(benchmark::State& state) {
  const auto model = make_vlm_model(profile_name(state.range(0)));
  const auto o = search_opts(static_cast<std::size_t>(state.range(1)), static_cast<std::size_t>(state.range(2)));
  fulcrum::pipeline_plan plan;
  for (auto _ : state) {
    plan = fulcrum::search_partition(model.layers, model.options, o);
    benchmark::DoNotOptimize(plan.iteration_time);
  }
  const auto plain = fulcrum::partition_stages(model.layers, o.stages, {}, &fulcrum::pipeline_layer::time);
  const auto balanced = fulcrum::evaluate_pipeline(model.layers, model.options, plain.boundaries, o);
  state.counters["iteration"] = plan.iteration_time;
  state.counters["vs_balanced"] = balanced.iteration_time / plan.iteration_time;
  state.counters["proven"] = plan.proven_optimal;
}

void bm_select_recompute(benchmark::State& state, fulcrum::recompute_algorithm alg) {
  const auto model = make_vlm_model("vlm130j");
  std::uint64_t keep = 0;
  for (const auto& l : model.layers) keep += l.activation_memory;
  const std::uint64_t budget = keep / 3;
  fulcrum::recompute_options o;
  o.algorithm = alg;
  o.limits.nodes = 2'000'000;
  fulcrum::recompute_plan r;
  for (auto _ : state) {
    r = fulcrum::select_recompute(model.options, budget, o);
    benchmark::DoNotOptimize(r.time);
  }
  o.algorithm = fulcrum::recompute_algorithm::dynamic_programming;
  state.counters["added_time"] = r.time;
  state.counters["over_optimum"] = r.time / fulcrum::select_recompute(model.options, budget, o).time;
  state.counters["proven"] = r.proven_optimal;
}

void bm_simulate(benchmark::State& state) {
  const auto p = static_cast<std::size_t>(state.range(0)), m = static_cast<std::size_t>(state.range(1));
  const auto v = static_cast<std::size_t>(state.range(2));
  std::vector<double> f(p * v, 1.0 / double(v)), b(p * v, 2.0 / double(v));
  fulcrum::schedule_options o;
  o.kind = v > 1 ? fulcrum::pipeline_schedule::interleaved_1f1b : fulcrum::pipeline_schedule::one_f_one_b;
  o.micro_batches = m;
  o.virtual_stages = v;
  fulcrum::schedule_result r;
  for (auto _ : state) {
    r = fulcrum::simulate_schedule(f, b, o);
    benchmark::DoNotOptimize(r.iteration_time);
  }
  state.counters["bubble"] = r.bubble_fraction;
}

}  // namespace

#define PROFILES Args({0, 8})->Args({1, 8})->Args({2, 16})->Args({3, 16})
BENCHMARK_CAPTURE(bm_partition, automatic, fulcrum::stage_algorithm::automatic)->ArgNames({"profile", "p"})->PROFILES->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_partition, exact_bisection, fulcrum::stage_algorithm::exact_bisection)->ArgNames({"profile", "p"})->PROFILES->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_partition, baseline_dp, fulcrum::stage_algorithm::dynamic_programming)->ArgNames({"profile", "p"})->PROFILES->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_partition_deepspeed_bisection)->ArgNames({"profile", "p"})->PROFILES->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_partition_uniform)->ArgNames({"profile", "p"})->PROFILES->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_joint)->ArgNames({"profile", "p", "m"})->Args({1, 8, 16})->Args({1, 8, 32})->Args({0, 8, 16})->Unit(benchmark::kMillisecond);
BENCHMARK(bm_balanced_search)->ArgNames({"profile", "p", "m"})->Args({1, 8, 16})->Args({1, 8, 32})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_select_recompute, dp, fulcrum::recompute_algorithm::dynamic_programming)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_select_recompute, greedy, fulcrum::recompute_algorithm::greedy)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_select_recompute, branch_and_bound_2M_nodes, fulcrum::recompute_algorithm::branch_and_bound)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(bm_simulate)->ArgNames({"p", "m", "v"})->Args({8, 32, 1})->Args({8, 32, 4})->Args({16, 128, 1})->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
