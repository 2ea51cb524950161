// Dispatcher benchmarks.
//  - BM_dispatch_threads: thread_world with 64 ranks x 1,024 W1 samples each, 4 KiB payloads
//    (256 MiB in all): planning time (pricing + LPT over 64 x micro-batches parts + validation,
//    max over ranks), payload exchange time (all_to_all_v, max over ranks), bytes moved, and
//    planning / exchange ratio.
//  - BM_node_traffic: W1 on 8 nodes x 8 ranks (uneven shards): payload bytes crossing nodes for a
//    plain LPT re-dispatch vs the node-aware planner (post_balance), and the resulting balance.
//    Planner only (the bytes are a property of the plan), so it runs in one thread.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <vector>

#include <fulcrum/comm/thread_world.hpp>
#include <fulcrum/dispatch/dispatch.hpp>
#include <fulcrum/dispatch/node_aware.hpp>
#include <fulcrum/testing/dispatch_checks.hpp>

namespace {

const auto llm_cost = fulcrum::projected_cost{fulcrum::attention_cost{}, fulcrum::tokens_of{}};

void BM_dispatch_threads(benchmark::State& state) {
  const std::size_t ranks = 64, per_rank = 1024, payload = 4096;
  const std::size_t steps = static_cast<std::size_t>(state.range(0));
  // Shards: rank r holds samples [r*1024, (r+1)*1024) of W1(65,536) with 4 KiB payloads.
  const auto all = fulcrum::testing::generate_w1(ranks * per_rank);
  std::vector<fulcrum::sample_batch<fulcrum::multimodal_sample>> shards(ranks);
  for (std::size_t r = 0; r < ranks; ++r) {
    shards[r].reserve(per_rank, per_rank * payload);
    for (std::size_t i = 0; i < per_rank; ++i) {
      const auto g = r * per_rank + i;
      shards[r].push_back(all[g], fulcrum::testing::synthetic_payload(g, payload));
    }
  }
  fulcrum::comm::thread_world world(ranks);
  double plan_s = 0, exch_s = 0;
  std::uint64_t moved = 0, total = 0;
  for (auto _ : state) {
    const auto stats = world.run([&](fulcrum::comm::thread_world::endpoint& c) {
      const auto r = fulcrum::dispatch(c, shards[c.rank()], llm_cost, steps);
      benchmark::DoNotOptimize(r.samples.payloads().bytes().data());
      return std::tuple{r.planning_seconds, r.exchange_seconds, r.traffic};
    });
    double p = 0, e = 0;
    for (const auto& [ps, es, t] : stats) {
      p = std::max(p, ps);
      e = std::max(e, es);
    }
    plan_s += p;
    exch_s += e;
    moved = std::get<2>(stats[0]).bytes_moved;
    total = std::get<2>(stats[0]).bytes_total;
  }
  const double it = static_cast<double>(state.iterations());
  state.counters["plan_ms"] = 1e3 * plan_s / it;
  state.counters["exchange_ms"] = 1e3 * exch_s / it;
  state.counters["plan_over_exchange"] = plan_s / exch_s;
  state.counters["MiB_moved"] = static_cast<double>(moved) / (1 << 20);
  state.counters["MiB_total"] = static_cast<double>(total) / (1 << 20);
}
BENCHMARK(BM_dispatch_threads)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

// One rank's planning step alone, uncontended (one thread): gather result -> costs -> LPT over
// 64 x steps parts -> validation -> hash -> destinations. This is the work every rank repeats.
void BM_plan_only(benchmark::State& state) {
  const std::size_t ranks = 64, n = 64 * 1024;
  const std::size_t steps = static_cast<std::size_t>(state.range(0));
  const auto all = fulcrum::testing::generate_w1(n);
  std::vector<fulcrum::index_type> current(n);
  std::vector<std::uint64_t> bytes(n, 4096);
  for (std::size_t g = 0; g < n; ++g) current[g] = static_cast<fulcrum::index_type>(g / 1024);
  for (auto _ : state) {
    const auto costs = fulcrum::evaluate_costs(all, llm_cost);
    const fulcrum::planning_input<fulcrum::multimodal_sample> in{all, costs, current, bytes, ranks, steps, 0};
    const auto plan = fulcrum::detail::to_dispatch_plan(fulcrum::lpt_planner{}(in), in);
    benchmark::DoNotOptimize(fulcrum::plan_hash(plan));
    benchmark::DoNotOptimize(plan.destination(n).data());
  }
}
BENCHMARK(BM_plan_only)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_node_traffic(benchmark::State& state) {
  const std::size_t nodes = 8, per_node = 8, ranks = nodes * per_node, n = 65536;
  const bool aware = state.range(0) != 0;
  const auto all = fulcrum::testing::generate_w1(n);
  const auto start = fulcrum::testing::skewed_split(n, ranks);
  std::vector<fulcrum::index_type> current(n);
  std::vector<std::uint64_t> bytes(n);
  for (std::size_t r = 0; r < ranks; ++r)
    for (std::size_t g = start[r]; g < start[r + 1]; ++g) current[g] = static_cast<fulcrum::index_type>(r);
  for (std::size_t g = 0; g < n; ++g) bytes[g] = 2 * all[g].tokens();  // e.g. 16-bit token ids / patches
  const auto costs = fulcrum::evaluate_costs(all, llm_cost);
  const fulcrum::planning_input<fulcrum::multimodal_sample> in{all, costs, current, bytes, ranks, 1, per_node};
  fulcrum::dispatch_plan plan;
  for (auto _ : state) {
    plan = aware ? fulcrum::detail::to_dispatch_plan(fulcrum::node_aware_planner{}(in), in)
                 : fulcrum::detail::to_dispatch_plan(fulcrum::lpt_planner{}(in), in);
    benchmark::DoNotOptimize(plan.bins.groups().indices().data());
  }
  const auto dest = plan.destination(n);
  const auto t = fulcrum::detail::traffic_of(current, dest, bytes, per_node);
  std::vector<double> load(ranks, 0);
  for (std::size_t g = 0; g < n; ++g) load[dest[g]] += costs[g];
  const double bound = fulcrum::makespan_lower_bound(costs, ranks);
  state.counters["inter_node_MiB"] = static_cast<double>(t.bytes_inter_node) / (1 << 20);
  state.counters["moved_MiB"] = static_cast<double>(t.bytes_moved) / (1 << 20);
  state.counters["total_MiB"] = static_cast<double>(t.bytes_total) / (1 << 20);
  state.counters["makespan_over_bound"] = *std::max_element(load.begin(), load.end()) / bound;
  state.SetLabel(aware ? "node-aware (post_balance)" : "plain LPT re-dispatch");
}
BENCHMARK(BM_node_traffic)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
