// SPDX-License-Identifier: Apache-2.0
// Packing benchmarks: every algorithm on W1 (LLaVA-like tokens) and W2 (long-tail text) at
// capacity 8192 (items longer than 8192 truncated: oversize::truncate), through the pack() front
// door, plus multi-constraint W1 (tokens x images) and an in-run baseline: best-fit decreasing
// written plainly on std::multiset (what a user writes first).
// Counters: bins, L2, bins_minus_L2, efficiency (sum / (bins x C)), and peak_extra_bytes_per_item
// (peak heap growth during the call, result included, over n; the input is not counted).
// Issue 22: bm_floor_count_scatter is the memory floor (count + scatter of n indices) and
// bm_pack_threads the histogram path on a caller's thread_pool (wall time).
//
//   build/<dir>/bench/bench_packing --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <utility>
#include <vector>

#include <fulcrum/packing/pack.hpp>
#include <fulcrum/runtime/thread_pool.hpp>
#include <fulcrum/testing/workloads.hpp>

#include "heap_accounting.hpp"

using heap_accounting::live_bytes;
using heap_accounting::peak_bytes;

namespace {

constexpr std::uint64_t capacity = 8192;

const std::vector<std::uint32_t>& workload(int which, std::size_t n) {
  static std::map<std::pair<int, std::size_t>, std::vector<std::uint32_t>> cache;
  auto& w = cache[{which, n}];
  if (w.empty()) w = which == 1 ? fulcrum::testing::generate_w1_tokens(n) : fulcrum::testing::generate_w2(n);
  return w;
}

void report(benchmark::State& state, std::size_t bins, std::uint64_t l2, const std::vector<std::uint32_t>& w) {
  std::uint64_t total = 0;
  for (auto s : w) total += std::min<std::uint64_t>(s, capacity);
  state.counters["bins"] = static_cast<double>(bins);
  state.counters["L2"] = static_cast<double>(l2);
  state.counters["bins_minus_L2"] = static_cast<double>(bins) - static_cast<double>(l2);
  state.counters["efficiency"] = fulcrum::packing_efficiency(total, bins, capacity);
}

// args: workload (1 = W1, 2 = W2), n, algorithm
void bm_pack(benchmark::State& state) {
  const auto& w = workload(static_cast<int>(state.range(0)), static_cast<std::size_t>(state.range(1)));
  const fulcrum::pack_options opts{.algorithm = static_cast<fulcrum::pack_algorithm>(state.range(2)),
                                   .oversize_policy = fulcrum::oversize::truncate};
  fulcrum::packing p;
  std::size_t extra = 0;
  for (auto _ : state) {
    p = fulcrum::packing{};
    const std::size_t before = live_bytes;
    peak_bytes = live_bytes;
    p = fulcrum::pack(w, capacity, opts);
    extra = peak_bytes - before;
    benchmark::DoNotOptimize(p.bins.size());
  }
  report(state, p.bins.size(), p.lower_bound, w);
  state.counters["peak_extra_bytes_per_item"] = static_cast<double>(extra) / static_cast<double>(w.size());
  state.SetLabel(fulcrum::detail::algorithm_name(p.algorithm));
}

// Baseline: BFD on std::multiset of remaining room (textbook, written plainly).
void bm_baseline_multiset_bfd(benchmark::State& state) {
  const auto& w = workload(static_cast<int>(state.range(0)), static_cast<std::size_t>(state.range(1)));
  std::size_t bins = 0;
  for (auto _ : state) {
    std::vector<std::uint64_t> sorted(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) sorted[i] = std::min<std::uint64_t>(w[i], capacity);
    std::sort(sorted.begin(), sorted.end(), std::greater<>{});
    std::multiset<std::uint64_t> rooms;
    bins = 0;
    for (const std::uint64_t s : sorted) {
      const auto it = rooms.lower_bound(s);
      if (it == rooms.end()) {
        ++bins;
        rooms.insert(capacity - s);
      } else {
        const std::uint64_t r = *it - s;
        rooms.erase(it);
        rooms.insert(r);
      }
    }
    benchmark::DoNotOptimize(bins);
  }
  std::vector<std::uint64_t> s64(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) s64[i] = std::min<std::uint64_t>(w[i], capacity);
  report(state, bins, fulcrum::lower_bound_l2(std::span<const std::uint64_t>(s64), capacity), w);
}

// Memory floor for the histogram path (issue 22): one counting pass over the sizes plus a stable
// scatter of the n item indices by size (a counting sort), into a fresh output array.
void bm_floor_count_scatter(benchmark::State& state) {
  const auto& w = workload(static_cast<int>(state.range(0)), static_cast<std::size_t>(state.range(1)));
  const std::size_t n = w.size();
  for (auto _ : state) {
    std::vector<std::uint32_t> start(capacity + 2, 0);
    for (const auto s : w) ++start[std::min<std::uint64_t>(s, capacity) + 1];
    for (std::size_t k = 1; k < start.size(); ++k) start[k] += start[k - 1];
    const std::unique_ptr<std::uint32_t[]> out(new std::uint32_t[n]);
    for (std::size_t i = 0; i < n; ++i)
      out[start[std::min<std::uint64_t>(w[i], capacity)]++] = static_cast<std::uint32_t>(i);
    benchmark::DoNotOptimize(out.get());
  }
}

// automatic (histogram) with a caller's thread_pool of `threads` threads. args: workload, n, threads
void bm_pack_threads(benchmark::State& state) {
  const auto& w = workload(static_cast<int>(state.range(0)), static_cast<std::size_t>(state.range(1)));
  fulcrum::thread_pool pool(static_cast<std::size_t>(state.range(2)));
  const fulcrum::pack_options opts{.oversize_policy = fulcrum::oversize::truncate, .executor = pool};
  fulcrum::packing p;
  for (auto _ : state) {
    p = fulcrum::packing{};
    p = fulcrum::pack(w, capacity, opts);
    benchmark::DoNotOptimize(p.bins.size());
  }
  report(state, p.bins.size(), p.lower_bound, w);
}

// Multi-constraint W1: {tokens, images} with caps {8192, 8} or {4096, 4}. args: n, cap index, algorithm
void bm_pack_multi(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  static std::map<std::size_t, std::vector<fulcrum::multimodal_sample>> cache;
  auto& w = cache[n];
  if (w.empty()) w = fulcrum::testing::generate_w1(n);
  const std::array<std::uint64_t, 2> cap =
      state.range(1) == 0 ? std::array<std::uint64_t, 2>{8192, 8} : std::array<std::uint64_t, 2>{4096, 4};
  const fulcrum::pack_options opts{.algorithm = static_cast<fulcrum::pack_algorithm>(state.range(2)),
                                   .oversize_policy = fulcrum::oversize::truncate};
  fulcrum::multi_packing<2> p;
  for (auto _ : state) {
    p = fulcrum::pack(w, cap, opts, [](const fulcrum::multimodal_sample& s) {
      return std::array<std::uint64_t, 2>{s.tokens(), s.images};
    });
    benchmark::DoNotOptimize(p.bins.size());
  }
  std::uint64_t tokens = 0, images = 0;
  for (const auto& s : w) {
    tokens += std::min<std::uint64_t>(s.tokens(), cap[0]);
    images += std::min<std::uint64_t>(s.images, cap[1]);
  }
  state.counters["bins"] = static_cast<double>(p.bins.size());
  state.counters["LB"] = static_cast<double>(p.lower_bound);
  state.counters["bins_over_LB"] = static_cast<double>(p.bins.size()) / static_cast<double>(p.lower_bound);
  state.counters["eff_tokens"] = fulcrum::packing_efficiency(tokens, p.bins.size(), cap[0]);
  state.counters["eff_images"] = fulcrum::packing_efficiency(images, p.bins.size(), cap[1]);
  state.SetLabel(fulcrum::detail::algorithm_name(p.algorithm));
}

void pack_args(benchmark::internal::Benchmark* b) {
  using A = fulcrum::pack_algorithm;
  b->ArgNames({"W", "n", "algo"});
  for (int wl : {1, 2})
    for (std::int64_t n : {100000, 1000000}) {
      for (A a : {A::automatic, A::histogram, A::best_fit_decreasing, A::first_fit_decreasing, A::best_fit,
                  A::first_fit, A::next_fit})
        b->Args({wl, n, static_cast<std::int64_t>(a)});
    }
  for (int wl : {1, 2})
    for (A a : {A::automatic, A::histogram}) b->Args({wl, 10000000, static_cast<std::int64_t>(a)});
}

}  // namespace

BENCHMARK(bm_pack)->Apply(pack_args)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_baseline_multiset_bfd)
    ->ArgNames({"W", "n"})
    ->Args({1, 100000})
    ->Args({1, 1000000})
    ->Args({2, 100000})
    ->Args({2, 1000000})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_floor_count_scatter)
    ->ArgNames({"W", "n"})
    ->Args({1, 1000000})
    ->Args({1, 10000000})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_pack_threads)
    ->ArgNames({"W", "n", "threads"})
    ->Args({1, 1000000, 1})
    ->Args({1, 1000000, 2})
    ->Args({1, 10000000, 1})
    ->Args({1, 10000000, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(bm_pack_multi)
    ->ArgNames({"n", "cap", "algo"})
    ->Args({100000, 0, 0})
    ->Args({100000, 1, 0})
    ->Args({1000000, 0, 0})
    ->Args({1000000, 1, 0})
    ->Args({100000, 0, static_cast<std::int64_t>(fulcrum::pack_algorithm::first_fit_decreasing)})
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
