// Pipeline stage partitioning for a vision-language model: uniform vs exact-balanced vs joint.
//
// The vlm130j profile (docs/workloads.md) is an embedding, 48 ViT layers, 80 LLM layers and a head,
// with +-10% jitter per layer. We give it a memory model (static memory = parameters + gradients
// + Adam state; activations per micro-batch; three recompute options per layer) and split it into
// 8 pipeline stages on 32 GiB devices, 16 micro-batches per iteration, 1F1B schedule:
//
//   1. uniform: 130 / 8 layers per stage (what a first attempt does);
//   2. exact-balanced: partition_stages' least-bottleneck split of forward + backward time;
//   3. joint: partition and per-layer recompute chosen together for the least simulated time.
//
// Early 1F1B stages hold up to 8 micro-batches of activations, so they must recompute more;
// the joint search gives them fewer layers.
//
// expect: joint +: bottleneck +[0-9]+ +iteration +[0-9]+ .*speed-up x1\.[3-9][0-9]* +.proven optimal
#include <cstdio>
#include <string>
#include <vector>

#include <fulcrum/pipeline/partition.hpp>
#include <fulcrum/recompute/joint.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

void show(const char* name, const fulcrum::pipeline_plan& plan, double reference) {
  std::printf("%-15s: bottleneck %6.0f  iteration %8.0f  bubble %4.1f%%  speed-up x%.3f%s\n", name,
              plan.partition.bottleneck, plan.iteration_time, 100.0 * plan.schedule.bubble_fraction,
              reference / plan.iteration_time, plan.proven_optimal ? "  (proven optimal)" : "");
  std::printf("  layers/stage  :");
  for (std::size_t s = 0; s < plan.partition.stages(); ++s) std::printf(" %5zu", plan.partition.size(s));
  std::printf("\n  recompute/mb  :");
  for (double r : plan.stage_recompute) std::printf(" %5.0f", r);
  std::printf("\n  memory (MiB)  :");
  for (auto m : plan.stage_memory) std::printf(" %5llu", static_cast<unsigned long long>(m));
  std::printf("\n");
}

}  // namespace

int main() {
  const auto prof = fulcrum::testing::pipeline_profile("vlm130j");
  // Memory model (MiB): static ViT 400, LLM 1600, embedding / head 1000 per layer; activations
  // 8 x the profile's per-micro-batch value; options: keep all, selective recompute (keep 1/4 for
  // 15% of the forward time), full recompute (keep the input, 1/16, for a whole forward).
  std::vector<fulcrum::pipeline_layer> layers;
  std::vector<std::vector<fulcrum::recompute_option>> options;
  for (std::size_t i = 0; i < prof.cost.size(); ++i) {
    const double f = prof.cost[i] / 3.0;  // backward = 2 x forward
    const std::uint64_t a = prof.activation_memory[i];
    const std::uint64_t params = a == 64 ? 400 : a == 160 ? 1600 : 1000;
    layers.push_back({f, 2.0 * f, params, 8 * a});
    options.push_back({{8 * a, 0.0}, {2 * a, 0.15 * f}, {a / 2, f}});
  }
  fulcrum::pipeline_search_options opts;
  opts.stages = 8;
  opts.micro_batches = 16;
  opts.device_memory = 32768;  // 32 GiB
  opts.p2p_time = 5;

  const auto uniform = fulcrum::evaluate_pipeline(layers, options, fulcrum::uniform_boundaries(layers.size(), 8), opts);
  const auto exact = fulcrum::partition_stages(layers, 8, {}, &fulcrum::pipeline_layer::time);
  const auto balanced = fulcrum::evaluate_pipeline(layers, options, exact.boundaries, opts);
  const auto joint = fulcrum::joint_partition_recompute(layers, options, opts);

  std::printf("vlm130j, %zu layers, 8 stages, 16 micro-batches, 1F1B, 32 GiB per device\n", layers.size());
  std::printf("least plain bottleneck (forward + backward, no recompute): %.0f (proven optimal: %s)\n\n",
              exact.bottleneck, exact.proven_optimal ? "yes" : "no");
  show("uniform", uniform, uniform.iteration_time);
  show("exact-balanced", balanced, uniform.iteration_time);
  show("joint", joint, uniform.iteration_time);
  std::printf("\njoint vs exact-balanced: x%.3f faster; searched %llu nodes\n", balanced.iteration_time / joint.iteration_time,
              static_cast<unsigned long long>(joint.nodes));
  std::printf("summary: joint iteration %.0f, speed-up x%.3f over uniform, %s\n", joint.iteration_time,
              uniform.iteration_time / joint.iteration_time, joint.proven_optimal ? "proven optimal" : "best found");
  return 0;
}
