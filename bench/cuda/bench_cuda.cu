// GPU benchmarks for fulcrum::cuda (Google Benchmark, manual timing with CUDA events on the
// benchmark's stream). Each GPU benchmark also times the CPU algorithm on the same data in the
// same run and reports the ratio (`speedup_vs_cpu` = CPU time / GPU time) and throughput.
//   W1 packing:     1,048,576 W1 samples (token counts clipped to 8192), capacity 8192, sizes on
//                   the device; histogram packing (= the CPU `automatic` path for integer sizes)
//                   and best-fit decreasing. Target: <= 1 ms and >= 20x the CPU.
//   Batched LPT:    1,000 steps x 4,096 samples onto 64 ranks (attention costs). Target <= 20 ms.
//   Single LPT:     1,048,576 items onto 64 parts (the greedy scan is sequential; for reference).
//   Pipeline:       100,000 candidate boundary vectors (16 stages over 96 layers) scored at once.
// Every timed GPU call includes its validation, allocations and result read-back (end to end,
// data already on the device). GPU results are checked against the CPU once per benchmark.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <span>
#include <vector>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/core/cost_model.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/cuda/best_fit_decreasing.cuh>
#include <fulcrum/cuda/histogram.cuh>
#include <fulcrum/cuda/lpt.cuh>
#include <fulcrum/cuda/pipeline.cuh>
#include <fulcrum/packing/best_fit_decreasing.hpp>
#include <fulcrum/packing/histogram.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

namespace fc = fulcrum::cuda;

/// A stream and two events for manual timing; released at scope exit.
struct gpu_timer {
  cudaStream_t stream{};
  cudaEvent_t start{}, stop{};
  gpu_timer() {
    FULCRUM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "bench: stream");
    FULCRUM_CUDA_CHECK(cudaEventCreate(&start), "bench: event");
    FULCRUM_CUDA_CHECK(cudaEventCreate(&stop), "bench: event");
  }
  ~gpu_timer() {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    cudaStreamDestroy(stream);
  }
  template <class F>
  double seconds(F&& f) {
    FULCRUM_CUDA_CHECK(cudaEventRecord(start, stream), "bench: record");
    f();
    FULCRUM_CUDA_CHECK(cudaEventRecord(stop, stream), "bench: record");
    FULCRUM_CUDA_CHECK(cudaEventSynchronize(stop), "bench: sync");
    float ms = 0;
    FULCRUM_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop), "bench: elapsed");
    return static_cast<double>(ms) / 1e3;
  }
};

/// Best of `reps` wall-clock timings of a CPU call.
template <class F>
double cpu_seconds(F&& f, int reps = 3) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

std::vector<std::uint32_t> w1_sizes(std::size_t n, std::uint32_t capacity) {
  auto tokens = fulcrum::testing::generate_w1_tokens(n, 20240601);
  for (auto& t : tokens) t = std::min(t, capacity);
  return tokens;
}

bool same_bins(const fulcrum::packing& a, const fulcrum::packing& b) {
  return std::ranges::equal(a.bins.offsets(), b.bins.offsets()) && std::ranges::equal(a.bins.indices(), b.bins.indices()) &&
         a.loads == b.loads;
}

template <bool Histogram>
void BM_pack_w1(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  constexpr std::uint32_t capacity = 8192;
  const auto sizes = w1_sizes(n, capacity);
  const thrust::device_vector<std::uint32_t> d(sizes.begin(), sizes.end());
  auto cpu_pack = [&] { return Histogram ? fulcrum::histogram_pack(sizes, capacity) : fulcrum::best_fit_decreasing(sizes, capacity); };
  fulcrum::packing cpu;
  const double cpu_s = cpu_seconds([&] { cpu = cpu_pack(); });
  gpu_timer timer;
  const auto policy = fc::par_on(timer.stream);
  auto gpu_pack = [&] {
    return Histogram ? fc::histogram_pack(policy, d, capacity) : fc::best_fit_decreasing(policy, d, capacity);
  };
  if (!same_bins(gpu_pack().to_host(), cpu)) state.SkipWithError("GPU bins differ from the CPU's");
  double total = 0;
  std::size_t bins = 0;
  for (auto _ : state) {
    const double s = timer.seconds([&] { bins = gpu_pack().bin_count(); });
    state.SetIterationTime(s);
    total += s;
  }
  const double gpu_s = total / static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["bins"] = static_cast<double>(bins);
  state.counters["bins_over_L2"] = static_cast<double>(bins) / static_cast<double>(cpu.lower_bound);
  state.counters["cpu_ms"] = cpu_s * 1e3;
  state.counters["gpu_ms"] = gpu_s * 1e3;
  state.counters["speedup_vs_cpu"] = cpu_s / gpu_s;
}
BENCHMARK_TEMPLATE(BM_pack_w1, true)->Name("pack_w1_histogram_gpu")->Arg(1 << 20)->Arg(1 << 17)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_pack_w1, false)->Name("pack_w1_bfd_gpu")->Arg(1 << 20)->UseManualTime()->Unit(benchmark::kMillisecond);

std::vector<double> epoch_costs(std::size_t n) {
  const auto tokens = fulcrum::testing::generate_w1_tokens(n, 7);
  return fulcrum::evaluate_costs(tokens, fulcrum::attention_cost{});
}

void BM_batched_lpt(benchmark::State& state) {
  const auto steps = static_cast<std::size_t>(state.range(0)), samples = static_cast<std::size_t>(state.range(1)),
             ranks = static_cast<std::size_t>(state.range(2));
  const auto costs = epoch_costs(steps * samples);
  const thrust::device_vector<double> d(costs.begin(), costs.end());
  std::vector<fulcrum::partition> cpu(steps);
  const double cpu_s = cpu_seconds(
      [&] {
        for (std::size_t s = 0; s < steps; ++s)
          cpu[s] = fulcrum::lpt(std::span<const double>(costs.data() + s * samples, samples), ranks);
      },
      1);
  gpu_timer timer;
  const auto policy = fc::par_on(timer.stream);
  {
    const auto check = fc::batched_lpt(policy, d, samples, ranks);
    for (std::size_t s = 0; s < steps; s += 97)
      if (check.to_host(s).makespan != cpu[s].makespan) state.SkipWithError("GPU plan differs from the CPU's");
  }
  double total = 0;
  for (auto _ : state) {
    const double s = timer.seconds([&] { benchmark::DoNotOptimize(fc::batched_lpt(policy, d, samples, ranks)); });
    state.SetIterationTime(s);
    total += s;
  }
  const double gpu_s = total / static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * steps * samples));
  state.counters["cpu_ms"] = cpu_s * 1e3;
  state.counters["gpu_ms"] = gpu_s * 1e3;
  state.counters["speedup_vs_cpu"] = cpu_s / gpu_s;
}
BENCHMARK(BM_batched_lpt)->Name("batched_lpt_gpu")->Args({1000, 4096, 64})->UseManualTime()->Unit(benchmark::kMillisecond);

void BM_single_lpt(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto costs = epoch_costs(n);
  const thrust::device_vector<double> d(costs.begin(), costs.end());
  const double cpu_s = cpu_seconds([&] { benchmark::DoNotOptimize(fulcrum::lpt(std::span<const double>(costs), 64)); }, 1);
  gpu_timer timer;
  const auto policy = fc::par_on(timer.stream);
  double total = 0;
  for (auto _ : state) {
    const double s = timer.seconds([&] { benchmark::DoNotOptimize(fc::lpt(policy, d, 64)); });
    state.SetIterationTime(s);
    total += s;
  }
  const double gpu_s = total / static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["cpu_ms"] = cpu_s * 1e3;
  state.counters["speedup_vs_cpu"] = cpu_s / gpu_s;
}
BENCHMARK(BM_single_lpt)->Name("lpt_single_gpu")->Arg(1 << 20)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_pipeline_candidates(benchmark::State& state) {
  const std::size_t layers = 96, stages = 16, candidates = static_cast<std::size_t>(state.range(0));
  fulcrum::rng gen(3);
  std::vector<double> prefix(layers + 1, 0.0);
  for (std::size_t i = 0; i < layers; ++i) prefix[i + 1] = prefix[i] + gen.lognormal(1.0, 0.5);
  std::vector<fulcrum::index_type> bounds;
  bounds.reserve(candidates * (stages + 1));
  for (std::size_t c = 0; c < candidates; ++c) {
    std::vector<fulcrum::index_type> cuts(layers - 1);
    for (std::size_t i = 0; i < cuts.size(); ++i) cuts[i] = static_cast<fulcrum::index_type>(i + 1);
    gen.shuffle(std::span<fulcrum::index_type>(cuts));
    cuts.resize(stages - 1);
    std::sort(cuts.begin(), cuts.end());
    bounds.push_back(0);
    bounds.insert(bounds.end(), cuts.begin(), cuts.end());
    bounds.push_back(static_cast<fulcrum::index_type>(layers));
  }
  std::vector<double> cpu_out(candidates);
  const double cpu_s = cpu_seconds([&] {
    for (std::size_t c = 0; c < candidates; ++c) {
      const auto* b = bounds.data() + c * (stages + 1);
      double worst = 0;
      for (std::size_t s = 0; s < stages; ++s) {
        const double v = 0.0 + (prefix[b[s + 1]] - prefix[b[s]]) / 1.0;
        worst = s == 0 ? v : std::max(worst, v);
      }
      cpu_out[c] = worst;
    }
    benchmark::DoNotOptimize(cpu_out.data());
  });
  const thrust::device_vector<double> d_prefix(prefix.begin(), prefix.end());
  const thrust::device_vector<fulcrum::index_type> d_bounds(bounds.begin(), bounds.end());
  thrust::device_vector<double> out(candidates);
  gpu_timer timer;
  const auto policy = fc::par_on(timer.stream);
  double total = 0;
  for (auto _ : state) {
    const double s = timer.seconds([&] { fc::evaluate_partitions(policy, d_prefix, d_bounds, stages, fc::view(out)); });
    state.SetIterationTime(s);
    total += s;
  }
  const double gpu_s = total / static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * candidates));
  state.counters["cpu_ms"] = cpu_s * 1e3;
  state.counters["speedup_vs_cpu"] = cpu_s / gpu_s;
}
BENCHMARK(BM_pipeline_candidates)->Name("pipeline_candidates_gpu")->Arg(100000)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "bench_cuda: no CUDA device; nothing to run\n");
    return 0;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  benchmark::AddCustomContext("gpu", prop.name);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
