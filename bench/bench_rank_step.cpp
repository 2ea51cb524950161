// SPDX-License-Identifier: Apache-2.0
// Per-step planning latency of pack_for_ranks (issue 22): one W1 global batch of 4096 samples
// (tokens clipped to the budget) over 64 ranks, token budget 8192 per micro-batch, attention cost
// L + L^2/4096, planned 10k times through the workspace overload (caller-owned
// rank_packing_workspace and rank_packing reused), and through the value-returning overload for
// comparison. Reports the median and p99 of the per-call times and the heap allocations per call
// (bench/heap_accounting.hpp counts every operator new), in wall time and in thread CPU time (on a
// shared machine the wall-time p99 measures preemption by other jobs).
//
//   build/<dir>/bench/bench_rank_step [--calls=10000]
#include "heap_accounting.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>
#include <vector>

#include <fulcrum/packing/rank_packing.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

struct figures {
  double median_us = 0, p99_us = 0, cpu_median_us = 0, cpu_p99_us = 0, allocs_per_call = 0;
};

/// CPU time of this thread in microseconds (the machine is shared: wall time includes preemption).
double thread_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return 1e6 * static_cast<double>(ts.tv_sec) + 1e-3 * static_cast<double>(ts.tv_nsec);
}

template <class Call>
figures measure(std::size_t calls, Call&& call) {
  for (int i = 0; i < 20; ++i) call();  // warm-up: the workspace reaches its size
  std::vector<double> us(calls), cpu(calls);
  std::size_t allocs = 0;
  for (std::size_t c = 0; c < calls; ++c) {
    const std::size_t before = heap_accounting::allocations;
    const double c0 = thread_us();
    const auto t0 = std::chrono::steady_clock::now();
    call();
    const auto t1 = std::chrono::steady_clock::now();
    cpu[c] = thread_us() - c0;
    allocs += heap_accounting::allocations - before;
    us[c] = std::chrono::duration<double, std::micro>(t1 - t0).count();
  }
  std::sort(us.begin(), us.end());
  std::sort(cpu.begin(), cpu.end());
  return {us[calls / 2], us[calls * 99 / 100], cpu[calls / 2], cpu[calls * 99 / 100],
          static_cast<double>(allocs) / static_cast<double>(calls)};
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t calls = 10000;
  for (int a = 1; a < argc; ++a)
    if (std::strncmp(argv[a], "--calls=", 8) == 0) calls = std::strtoull(argv[a] + 8, nullptr, 10);
  constexpr std::size_t n = 4096, ranks = 64;
  constexpr std::uint32_t budget = 8192;
  auto tokens = fulcrum::testing::generate_w1_tokens(n);
  for (auto& t : tokens) t = std::min(t, budget);
  const fulcrum::attention_cost cost{};
  fulcrum::rank_packing_workspace ws;
  fulcrum::rank_packing plan;
  const figures reused = measure(
      calls, [&] { fulcrum::pack_for_ranks(tokens, budget, ranks, ws, plan, fulcrum::rank_pack_options{}, cost); });
  fulcrum::rank_packing fresh;
  const figures value = measure(calls / 10 + 1, [&] {
    fresh = fulcrum::pack_for_ranks(tokens, budget, ranks, fulcrum::rank_pack_options{}, cost);
  });
  const bool same = fresh.bins.groups() == plan.bins.groups() && fresh.loads == plan.loads && fresh.costs == plan.costs;
  std::printf(
      "pack_for_ranks W1 %zu samples, %zu ranks, budget %u, attention cost: %zu steps, %zu bins used, lower bound "
      "%llu, cost DistRatio %.4f\n",
      n, ranks, budget, plan.steps(), plan.used_bins, static_cast<unsigned long long>(plan.lower_bound),
      plan.cost_dist);
  std::printf("%-24s %10s %10s %8s %12s %12s %8s %12s\n", "path", "median_us", "p99_us", "p99/med", "cpu_med_us",
              "cpu_p99_us", "p99/med", "allocs/call");
  for (const auto& [name, f] : {std::pair{"workspace (reused)", reused}, std::pair{"value overload", value}})
    std::printf("%-24s %10.1f %10.1f %8.2f %12.1f %12.1f %8.2f %12.2f\n", name, f.median_us, f.p99_us,
                f.p99_us / f.median_us, f.cpu_median_us, f.cpu_p99_us, f.cpu_p99_us / f.cpu_median_us,
                f.allocs_per_call);
  std::printf("plans identical: %s\n", same ? "yes" : "NO");
  return same && reused.allocs_per_call == 0 ? 0 : 1;
}
