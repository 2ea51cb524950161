// Plans a whole epoch on the GPU: per-sample costs from token counts, every step balanced onto
// the data-parallel ranks at once (batched LPT), and the first step's samples packed into
// 8192-token sequences (histogram packing), all on one stream with the data on the device.
// The GPU plan is the CPU plan, bit for bit; this example checks it.
// Build with -DFULCRUM_ENABLE_CUDA=ON; run on a machine with a CUDA device.
#include <algorithm>
#include <cstdio>
#include <span>
#include <vector>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/cuda/cost.cuh>
#include <fulcrum/cuda/histogram.cuh>
#include <fulcrum/cuda/lpt.cuh>
#include <fulcrum/packing/histogram.hpp>
#include <fulcrum/testing/workloads.hpp>

int main() {
  namespace fc = fulcrum::cuda;
  constexpr std::size_t steps = 200, samples = 1024, ranks = 16;
  constexpr std::uint32_t capacity = 8192;

  // Token counts of an epoch of LLaVA-like samples, copied to the device once.
  std::vector<std::uint32_t> tokens = fulcrum::testing::generate_w1_tokens(steps * samples, 42);
  for (auto& t : tokens) t = std::min(t, capacity);
  const thrust::device_vector<std::uint32_t> d_tokens(tokens.begin(), tokens.end());

  cudaStream_t stream{};
  FULCRUM_CUDA_CHECK(cudaStreamCreate(&stream), "example: stream");
  const auto policy = fc::par_on(stream);
  try {
    // 1. Attention-like costs L + L^2/4096 for every sample, on the device.
    const auto costs = fc::evaluate_costs(policy, d_tokens, fulcrum::attention_cost{});
    // 2. Every step onto the ranks at once.
    const auto plan = fc::batched_lpt(policy, costs, samples, ranks);
    // 3. The first step's samples packed into sequences of at most 8192 tokens.
    const thrust::device_vector<std::uint32_t> first(d_tokens.begin(), d_tokens.begin() + samples);
    const auto packed = fc::histogram_pack(policy, first, capacity);

    // Compare with the CPU on the first and last steps and the packing.
    const auto host_costs = fulcrum::evaluate_costs(tokens, fulcrum::attention_cost{});
    bool same = true;
    for (std::size_t s : {std::size_t{0}, steps - 1}) {
      const auto cpu = fulcrum::lpt(std::span<const double>(host_costs.data() + s * samples, samples), ranks);
      const auto gpu = plan.to_host(s);
      same = same && gpu.loads == cpu.loads && std::ranges::equal(gpu.parts.indices(), cpu.parts.indices());
      std::printf("step %zu: makespan %.0f, lower bound %.0f, gap %.4f%%\n", s, gpu.makespan, gpu.lower_bound,
                  100.0 * gpu.gap());
    }
    const auto cpu_pack = fulcrum::histogram_pack(std::span<const std::uint32_t>(tokens.data(), samples), capacity);
    const auto gpu_pack = packed.to_host();
    same = same && std::ranges::equal(gpu_pack.bins.indices(), cpu_pack.bins.indices()) && gpu_pack.loads == cpu_pack.loads;
    std::printf("step 0 packed into %zu sequences (L2 bound %llu)\n", gpu_pack.bin_count(),
                static_cast<unsigned long long>(gpu_pack.lower_bound));
    std::printf(same ? "GPU plan equals the CPU plan\n" : "GPU plan DIFFERS from the CPU plan\n");
    cudaStreamDestroy(stream);
    return same ? 0 : 1;
  } catch (const fc::cuda_error& e) {
    std::fprintf(stderr, "CUDA error: %s\n", e.what());
    return 2;
  }
}
