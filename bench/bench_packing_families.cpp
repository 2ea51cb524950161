// SPDX-License-Identifier: Apache-2.0
// pack_exact on generated versions of the literature's bin-packing benchmark families
// (testing/bin_packing_families.hpp: Falkenauer U and T, Scholl 1-3, Schwerin 1-2, Wäscher-like,
// near-IRUP-like; generated from the published descriptions, not the published files).
//
// One benchmark per family; one iteration solves the whole family with a wall-clock limit per
// instance (1 s; 10 s for near_irup). Counters:
//   instances, proved (fraction proven optimal), proved_n, wrong (claims that contradict a known
//   optimum or another run's proof or bound: must be 0), invalid (packings failing the
//   independent checker: must be 0), mean_ms, max_ms, gap (mean bins - lower_bound over the
//   instances not proven), bfd_excess (best-fit decreasing's mean bins above the best bound),
//   and with FULCRUM_BENCH_BASELINE=1 the solver without the primal heuristics and the LP bound
//   (the one before issue 23) under the same limit: base_proved, base_mean_ms.
//
//   build/bench/bench_packing_families --benchmark_min_time=0.01
//   FULCRUM_BENCH_BASELINE=1 build/bench/bench_packing_families --benchmark_filter=scholl_1
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "fulcrum/packing/best_fit_decreasing.hpp"
#include "fulcrum/packing/exact.hpp"
#include "fulcrum/testing/bin_packing_families.hpp"
#include "fulcrum/testing/checkers.hpp"

namespace ft = fulcrum::testing;
using namespace fulcrum;

namespace {

bool env_on(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && std::string(v) != "0" && !std::string(v).empty();
}

struct run_result {
  packing p;
  double ms = 0;
};

run_result solve(const ft::family_instance& inst, std::chrono::milliseconds limit, bool strong) {
  pack_options opts;
  opts.limits.time = limit;
  const auto t0 = std::chrono::steady_clock::now();
  run_result r;
  r.p = detail::exact::pack_exact_impl(inst.sizes, inst.capacity, opts, nullptr, strong);
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

bool valid(const packing& p, const ft::family_instance& inst) {
  return ft::check_exactly_once(p.bins, inst.sizes.size()).ok &&
         ft::check_capacity(p.bins, std::span<const std::uint64_t>(inst.sizes), inst.capacity).ok &&
         p.bins.size() >= p.lower_bound;
}

void BM_family(benchmark::State& state) {
  const auto fam = static_cast<ft::bin_packing_family>(state.range(0));
  const auto instances = ft::make_family(fam);
  const auto limit = std::chrono::milliseconds(fam == ft::bin_packing_family::near_irup ? 10'000 : 1'000);
  const bool baseline = env_on("FULCRUM_BENCH_BASELINE");
  double proved = 0, wrong = 0, invalid = 0, total_ms = 0, max_ms = 0, gap = 0, open = 0, bfd_excess = 0;
  double base_proved = 0, base_ms = 0;
  for (auto _ : state) {
    proved = wrong = invalid = total_ms = max_ms = gap = open = bfd_excess = base_proved = base_ms = 0;
    for (const auto& inst : instances) {
      const auto r = solve(inst, limit, true);
      benchmark::DoNotOptimize(r.p.bins.size());
      total_ms += r.ms;
      max_ms = std::max(max_ms, r.ms);
      if (!valid(r.p, inst)) ++invalid;
      std::uint64_t best_bound = r.p.lower_bound;
      std::uint64_t best_bins = r.p.bins.size();
      if (r.p.proven_optimal)
        ++proved;
      else
        ++open, gap += static_cast<double>(r.p.bins.size() - r.p.lower_bound);
      if (inst.known_optimum != 0 &&
          ((r.p.proven_optimal && r.p.bins.size() != inst.known_optimum) || r.p.lower_bound > inst.known_optimum))
        ++wrong;
      if (baseline) {
        const auto b = solve(inst, limit, false);
        base_ms += b.ms;
        if (!valid(b.p, inst)) ++invalid;
        if (b.p.proven_optimal) ++base_proved;
        // Cross-check: each run's bound is below the other's packing; two proofs agree.
        if (b.p.lower_bound > r.p.bins.size() || r.p.lower_bound > b.p.bins.size()) ++wrong;
        if (b.p.proven_optimal && r.p.proven_optimal && b.p.bins.size() != r.p.bins.size()) ++wrong;
        best_bound = std::max<std::uint64_t>(best_bound, b.p.lower_bound);
        best_bins = std::min<std::uint64_t>(best_bins, b.p.bins.size());
      }
      const auto bfd = best_fit_decreasing(std::span<const std::uint64_t>(inst.sizes), inst.capacity);
      bfd_excess += static_cast<double>(bfd.bins.size() - best_bound);
      (void)best_bins;
    }
  }
  const double n = static_cast<double>(instances.size());
  state.SetLabel(ft::family_name(fam));
  state.counters["instances"] = n;
  state.counters["proved"] = proved / n;
  state.counters["proved_n"] = proved;
  state.counters["wrong"] = wrong;
  state.counters["invalid"] = invalid;
  state.counters["mean_ms"] = total_ms / n;
  state.counters["max_ms"] = max_ms;
  state.counters["gap"] = open > 0 ? gap / open : 0;
  state.counters["bfd_excess"] = bfd_excess / n;
  if (baseline) {
    state.counters["base_proved"] = base_proved / n;
    state.counters["base_mean_ms"] = base_ms / n;
  }
}

}  // namespace

BENCHMARK(BM_family)
    ->Name("pack_exact_family")
    ->DenseRange(0, 8)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
