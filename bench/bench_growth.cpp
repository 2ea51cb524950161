// Worst-case growth of the front doors under their default options (issue 15): each front door
// runs an adversarial family at growing n, and the growth exponent (log-log slope of the time
// between the smallest and the largest n) must stay below 1.3. Families:
//  - pack_2d:        pack() with capacity {4096, 4096} (no capacity classes, so the bounded FFD
//                    fallback runs): near-complementary items {4095, 1000} / {1000, 4095}
//                    interleaved, then unit-ish items {2, 2} that fit no heavy bin although every
//                    subtree's per-dimension maximum admits them (quadratic for plain first fit).
//  - pack_for_ranks: the same heavy items, then {300 + i % 7, 300 + i % 5} (13 per bin), through
//                    pack_for_ranks (its multi-constraint fallback).
//  - pack_for_ranks_large_bins: pack_for_ranks one-dimensional, capacity 65536, sizes 1..64
//                    (about 2000 items per bin) onto 8 ranks: the rank balancing's swap search
//                    between two bins (O(m^2) per pair before the sorted search of
//                    packing/detail/rank_steps.hpp).
//  - select_recompute: n / 16 layers x 3 options {2m, 0}, {m, t}, {0, 3t} with distinct m and t
//                    per layer and a budget of half the largest memory (a large Pareto frontier,
//                    so the default limits switch from the DP to the branch and bound). n / 16:
//                    0.8 s CPU at 4096 layers already (the branch and bound searches with an
//                    explicit stack, so deep instances no longer risk the call stack).
//  - partition_stages: n layers of sevenths onto 16 stages, default options (Nicol's search).
//  - search_partition: n / 16 layers (sevenths, backward = 2 x forward, activation and parameter
//                    memory varying, a device memory 20-30% above the even split) onto 8 stages x
//                    16 micro-batches, default options: the tolerance window holds very many
//                    near-balanced partitions (512 layers needed 3.3M outer nodes to prove), so the
//                    default node budget (default_pipeline_search_nodes) is what bounds it; the
//                    set-up is banded to the starts and ends the window allows.
//  - search_partition_recompute: the same with 3 recompute options per layer (keep, selective,
//                    full) on n / 16 layers: each stage's recompute frontier is large (distinct memories),
//                    so the set-up budget (stage_search_engine::setup_work, frontier thinning) bounds it.
// glibc: main() fixes the mmap and trim thresholds at 32 MiB, so that every size allocates the
// same way. By default an array above 128 KiB (16384 doubles) is fresh mmap'd pages on every
// call (page faults) and the threshold then moves with the history of frees, which put the
// partition_stages slope anywhere from 1.1 to 1.66 between runs of the same build.
//  - pack_1d:        pack() one-dimensional, capacity 2^23 (best-fit decreasing path), sizes
//                    just above C/3 and C/2 (many bins, many distinct rooms).
//  - balance:        balance() automatic on sevenths (non-integer costs, no exact sums) onto n/8
//                    parts; then with equal_counts.
//  - post_balance:   every sample starts on rank 0 of 2 (the old swap_home was quadratic here).
//  - two_level:      balance_two_level onto 8 ranks x n/64 micro-batches.
//  - balance_phases: two phases (vision, LLM) of sevenths onto 64 ranks, default options.
// Usage (the CTest test `bench.growth`, label `growth`, runs a small range):
//   bench_growth --growth_min=4096 --growth_max=65536 [--growth_limit=1.3] [google benchmark flags]
// Prints one line per front door with its slope and exits 1 if any slope >= the limit.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/phases.hpp>
#include <fulcrum/balance/post_balance.hpp>
#include <fulcrum/balance/two_level.hpp>
#include <fulcrum/packing/pack.hpp>
#include <fulcrum/packing/rank_packing.hpp>
#include <fulcrum/pipeline/partition.hpp>
#include <fulcrum/pipeline/search.hpp>
#include <fulcrum/recompute/joint.hpp>
#include <fulcrum/recompute/select.hpp>

namespace {

using size2 = std::array<std::uint64_t, 2>;

std::vector<size2> adversarial_2d(std::size_t n, bool medium = false) {
  std::vector<size2> s;
  s.reserve(n);
  for (std::size_t i = 0; i < n / 2; ++i) s.push_back(i % 2 ? size2{4095, 1000} : size2{1000, 4095});
  for (std::size_t i = n / 2; i < n; ++i) s.push_back(medium ? size2{300 + i % 7, 300 + i % 5} : size2{2, 2});
  return s;
}

std::vector<double> sevenths(std::size_t n) {
  std::vector<double> c(n);
  std::uint64_t x = 88172645463325252ull;
  for (auto& v : c) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    v = static_cast<double>(1 + x % 1000) / 7.0;
  }
  return c;
}

void bm_pack_2d(benchmark::State& state) {
  const auto s = adversarial_2d(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(fulcrum::pack(s, size2{4096, 4096}));
}

void bm_pack_for_ranks(benchmark::State& state) {
  const auto s = adversarial_2d(static_cast<std::size_t>(state.range(0)), true);
  for (auto _ : state) benchmark::DoNotOptimize(fulcrum::pack_for_ranks(s, size2{4096, 4096}, 8));
}

void bm_pack_1d(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  constexpr std::uint64_t cap = std::uint64_t{1} << 23;
  std::vector<std::uint64_t> s(n);
  for (std::size_t i = 0; i < n; ++i) s[i] = (i % 2 ? cap / 2 : cap / 3) + 1 + (i * 7919) % 4096;
  for (auto _ : state) benchmark::DoNotOptimize(fulcrum::pack(s, cap));
}

void bm_balance(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto c = sevenths(n);
  for (auto _ : state) benchmark::DoNotOptimize(fulcrum::balance(c, n / 8));
}

void bm_balance_equal_counts(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto c = sevenths(n);
  fulcrum::balance_options o;
  o.equal_counts = true;
  for (auto _ : state) benchmark::DoNotOptimize(fulcrum::balance(c, n / 8, o));
}

void bm_post_balance(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto c = sevenths(n);
  const std::vector<fulcrum::index_type> at(n, 0);
  std::vector<std::uint64_t> bytes(n);
  for (std::size_t i = 0; i < n; ++i) bytes[i] = 1 + i % 5;
  fulcrum::post_balance_options o;
  o.ranks_per_node = 2;
  for (auto _ : state) benchmark::DoNotOptimize(fulcrum::post_balance(c, at, bytes, 2, o));
}

void bm_balance_phases(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto vision = sevenths(n);
  auto llm = sevenths(n + 1);
  llm.erase(llm.begin());
  for (auto _ : state)
    benchmark::DoNotOptimize(fulcrum::detail::balance_phases_costs(vision, llm, 64, fulcrum::balance_options{}));
}

void bm_two_level(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto c = sevenths(n);
  for (auto _ : state) benchmark::DoNotOptimize(fulcrum::balance_two_level(c, 8, std::max<std::size_t>(1, n / 64)));
}

void bm_pack_for_ranks_large_bins(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::uint64_t> s(n);
  for (std::size_t i = 0; i < n; ++i) s[i] = 1 + (i * 7919) % 64;
  for (auto _ : state) benchmark::DoNotOptimize(fulcrum::pack_for_ranks(s, std::uint64_t{65536}, 8));
}

void bm_select_recompute(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0)) / 16;  // layers: 256 .. 4096 in the CTest range
  std::vector<std::vector<fulcrum::recompute_option>> layers(n);
  std::uint64_t full = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t m = 1000 + (i * 7919) % 997;
    const double t = 1.0 + static_cast<double>((i * 104729) % 1009) / 7.0;
    layers[i] = {{2 * m, 0.0}, {m, t}, {0, 3.0 * t}};
    full += 2 * m;
  }
  for (auto _ : state) benchmark::DoNotOptimize(fulcrum::select_recompute(layers, full / 2));
}

void bm_partition_stages(benchmark::State& state) {
  const auto c = sevenths(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(fulcrum::partition_stages(c, 16));
}

struct pipeline_instance {
  std::vector<fulcrum::pipeline_layer> layers;
  std::vector<std::vector<fulcrum::recompute_option>> options;
  fulcrum::pipeline_search_options opts;
};

pipeline_instance pipeline_family(std::size_t n) {
  pipeline_instance in;
  in.layers.resize(n);
  const auto t = sevenths(n);
  std::uint64_t params = 0, act = 0;
  for (std::size_t i = 0; i < n; ++i) {
    auto& l = in.layers[i];
    l.forward = t[i];
    l.backward = 2 * t[i];
    l.activation_memory = 100 + (i * 7919) % 50;
    l.parameter_memory = 1000 + (i * 104729) % 300;
    params += l.parameter_memory, act += l.activation_memory;
    in.options.push_back({{l.activation_memory, 0.0}, {l.activation_memory / 3, 0.3 * t[i]}, {0, t[i]}});
  }
  in.opts.stages = 8;
  in.opts.micro_batches = 16;
  in.opts.p2p_time = 0.5;
  in.opts.device_memory = params / 8 * 13 / 10 + act / 8 * 8 * 12 / 10;
  return in;
}

void bm_search_partition(benchmark::State& state) {
  const auto in = pipeline_family(static_cast<std::size_t>(state.range(0)) / 16);
  for (auto _ : state) benchmark::DoNotOptimize(fulcrum::search_partition(in.layers, in.opts));
}

void bm_search_partition_recompute(benchmark::State& state) {
  const auto in = pipeline_family(static_cast<std::size_t>(state.range(0)) / 16);
  for (auto _ : state) benchmark::DoNotOptimize(fulcrum::search_partition(in.layers, in.options, in.opts));
}

/// Keeps the fastest repetition of every (front door, n), in CPU time (stable when other jobs
/// share the cores; every front door here is single-threaded).
class growth_reporter : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, std::map<std::int64_t, double>> seconds;  // door -> n -> best time
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.iterations == 0) continue;
      const std::string name = r.run_name.function_name;
      const std::string args = r.run_name.args;
      const std::int64_t n = std::strtoll(args.c_str(), nullptr, 10);
      const double t = r.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(r.time_unit);
      auto& slot = seconds[name][n];
      slot = slot == 0 ? t : std::min(slot, t);
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

std::int64_t take_flag(int& argc, char** argv, const char* name, std::int64_t fallback, double* as_double = nullptr) {
  const std::size_t len = std::strlen(name);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], name, len) == 0 && argv[i][len] == '=') {
      const char* v = argv[i] + len + 1;
      if (as_double != nullptr) *as_double = std::strtod(v, nullptr);
      const std::int64_t r = std::strtoll(v, nullptr, 10);
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      return r;
    }
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
  const std::int64_t lo = take_flag(argc, argv, "--growth_min", 4096);
  const std::int64_t hi = take_flag(argc, argv, "--growth_max", 65536);
  double limit = 1.3;
  (void)take_flag(argc, argv, "--growth_limit", 0, &limit);
  const std::int64_t reps = take_flag(argc, argv, "--growth_repetitions", 3);
  using fn = void (*)(benchmark::State&);
  const std::pair<const char*, fn> doors[] = {
      {"pack_2d", bm_pack_2d},
      {"pack_for_ranks", bm_pack_for_ranks},
      {"pack_for_ranks_large_bins", bm_pack_for_ranks_large_bins},
      {"select_recompute", bm_select_recompute},
      {"partition_stages", bm_partition_stages},
      {"search_partition", bm_search_partition},
      {"search_partition_recompute", bm_search_partition_recompute},
      {"pack_1d", bm_pack_1d},
      {"balance", bm_balance},
      {"balance_equal_counts", bm_balance_equal_counts},
      {"post_balance", bm_post_balance},
      {"two_level", bm_two_level},
      {"balance_phases", bm_balance_phases},
  };
  for (const auto& [name, f] : doors)
    for (std::int64_t n = lo; n <= hi; n *= 4)
      benchmark::RegisterBenchmark(name, f)
          ->Arg(n)
          ->Unit(benchmark::kMillisecond)
          ->Repetitions(static_cast<int>(reps))
          ->ReportAggregatesOnly(false)
          ->MinTime(0.05);
  benchmark::Initialize(&argc, argv);
  growth_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  int failures = 0;
  std::printf("\nWorst-case growth (log-log slope of the best CPU time, n = %lld .. %lld, limit %.2f):\n",
              static_cast<long long>(lo), static_cast<long long>(hi), limit);
  for (const auto& [door, times] : reporter.seconds) {
    if (times.size() < 2) continue;
    const auto& [n0, t0] = *times.begin();
    const auto& [n1, t1] = *times.rbegin();
    const double slope = std::log(t1 / t0) / std::log(static_cast<double>(n1) / static_cast<double>(n0));
    const bool ok = slope < limit;
    failures += ok ? 0 : 1;
    std::printf("  %-26s slope %.3f  (%lld: %.3g s, %lld: %.3g s)%s\n", door.c_str(), slope, static_cast<long long>(n0),
                t0, static_cast<long long>(n1), t1,
                ok ? "" : "  <-- at or above the limit");
  }
  benchmark::Shutdown();
  return failures == 0 ? 0 : 1;
}
