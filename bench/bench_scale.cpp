// Scale benchmark (reliability, issue 11): pack() of 10^6, 10^7 and 10^8 W1 items (tokens =
// 576 x images + text) into bins of 8192 tokens (longer items truncated), through the front door
// with the default algorithm (automatic = histogram best-fit decreasing, O(n + C)), and through
// best_fit_decreasing (O(n log n)) for comparison.
//
// Input: generated straight into a std::vector<std::uint32_t> (4 bytes per item; the same values
// as testing::generate_w1_tokens, without its temporary vector of samples), read in place by
// pack() (zero copy). Measured per call:
//   ns_per_item           wall time / n (linear time <=> flat across n)
//   scan_ratio            time / time of one summing pass over the input (an O(n) floor measured
//                         in the same run)
//   heap_peak_B_per_item  peak growth of live heap bytes during the call (result included, input
//                         excluded), counted by a replacement operator new / delete
//   rss_peak_B_per_item   growth of the resident set's high-water mark (VmHWM, reset through
//                         /proc/self/clear_refs before the call) over n
//   bins, efficiency      quality: bins used and sum / (bins x C)
// Target (issue 11): at most 16 bytes per item + O(capacity), time linear in n.
// Run: build/bench/bench_scale --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <new>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/packing/pack.hpp>

#include "heap_accounting.hpp"

using heap_accounting::live_bytes;
using heap_accounting::peak_bytes;

namespace {

constexpr std::uint32_t capacity = 8192;

/// W1 total tokens, the same sequence as testing::generate_w1_tokens(n) (default seed).
std::vector<std::uint32_t> w1_tokens(std::size_t n) {
  fulcrum::rng gen(fulcrum::default_seed);
  std::vector<std::uint32_t> out(n);
  for (auto& t : out) {
    const double u = gen.uniform();
    const std::uint32_t images = u < 0.20 ? 0u : u < 0.80 ? 1u : u < 0.90 ? 2u : u < 0.95 ? 3u : 4u;
    const double text = std::clamp(std::nearbyint(gen.lognormal(300.0, 1.0)), 8.0, 8192.0);
    t = 576u * images + static_cast<std::uint32_t>(text);
  }
  return out;
}

const std::vector<std::uint32_t>& workload(std::size_t n) {
  static std::map<std::size_t, std::vector<std::uint32_t>> cache;
  if (cache.find(n) == cache.end()) {
    cache.clear();  // keep one input alive at a time (10^8 items: 400 MB)
    cache[n] = w1_tokens(n);
  }
  return cache[n];
}

/// A field of /proc/self/status in kB (0 if unavailable).
std::size_t status_kb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == field + ":") {
      std::size_t kb = 0;
      in >> kb;
      return kb;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return 0;
}

/// Resets VmHWM to the current RSS (Linux >= 4.0); false if not permitted.
bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  return static_cast<bool>(out);
}

double scan_seconds(const std::vector<std::uint32_t>& w) {
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t sum = 0;
  for (auto v : w) sum += v;
  benchmark::DoNotOptimize(sum);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void bm_pack_scale(benchmark::State& state, fulcrum::pack_algorithm algorithm) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto& w = workload(n);
  const fulcrum::pack_options opts{.algorithm = algorithm, .oversize_policy = fulcrum::oversize::truncate};
  std::size_t bins = 0;
  double efficiency = 0, seconds = 0;
  std::size_t heap_peak = 0, rss_peak_kb = 0;
  bool rss_ok = true;
  for (auto _ : state) {
    rss_ok = reset_peak_rss() && rss_ok;
    const std::size_t rss_before = status_kb("VmRSS");
    const std::size_t live_before = live_bytes;
    peak_bytes = live_bytes;
    const auto t0 = std::chrono::steady_clock::now();
    {
      auto p = fulcrum::pack(w, capacity, opts);
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      heap_peak = peak_bytes - live_before;
      const std::size_t hwm = status_kb("VmHWM");
      rss_peak_kb = hwm > rss_before ? hwm - rss_before : 0;
      bins = p.bin_count();
      std::uint64_t sum = 0;
      for (auto l : p.loads) sum += l;
      efficiency = static_cast<double>(sum) / (static_cast<double>(bins) * capacity);
      benchmark::DoNotOptimize(p);
    }
  }
  const double scan = scan_seconds(w);
  const double dn = static_cast<double>(n);
  state.counters["ns_per_item"] = seconds * 1e9 / dn;
  state.counters["scan_ratio"] = seconds / scan;
  state.counters["heap_peak_B_per_item"] = static_cast<double>(heap_peak) / dn;
  state.counters["rss_peak_B_per_item"] = rss_ok ? static_cast<double>(rss_peak_kb) * 1024.0 / dn : -1.0;
  state.counters["bins"] = static_cast<double>(bins);
  state.counters["efficiency"] = efficiency;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void register_all() {
  for (std::int64_t n : {1'000'000, 10'000'000, 100'000'000})  // one input alive at a time
    for (auto algorithm : {fulcrum::pack_algorithm::automatic, fulcrum::pack_algorithm::best_fit_decreasing})
      benchmark::RegisterBenchmark((std::string("pack_w1_scale/") + std::string(fulcrum::to_string(algorithm))).c_str(),
                                   bm_pack_scale, algorithm)
          ->Arg(n)
          ->Iterations(n >= 100'000'000 ? 1 : n >= 10'000'000 ? 2 : 5)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
