// Choose activation recomputation under a memory budget.
//
// One 1F1B pipeline stage holds 16 LLM layers. Each layer can keep all its activations (160 MiB
// per micro-batch, no extra time), recompute only the attention core (Megatron's selective
// recompute: keep 40 MiB, +15% of the forward) or recompute everything (keep the 10 MiB input,
// +one forward). The stage is stage 1 of 8 with 16 micro-batches, so it holds 7 micro-batches in
// flight; the device has 40 GiB and the layers' parameters and optimizer state take 25.6 GiB.
//
// expect: exact .*proven optimal: yes
#include <cstdio>
#include <vector>

#include <fulcrum/recompute/budget.hpp>
#include <fulcrum/recompute/select.hpp>

int main() {
  std::vector<std::vector<fulcrum::recompute_option>> layers;
  for (int l = 0; l < 16; ++l) {
    const double forward = 10.0 + 0.5 * l;  // slightly different layers
    layers.push_back({{160, 0.0}, {40, 0.15 * forward}, {10, forward}});
  }
  const std::uint64_t budget = fulcrum::stage_activation_budget(40960, 16 * 1600, /*stage=*/1, /*stages=*/8,
                                                                /*micro_batches=*/16);
  std::printf("activation budget per micro-batch: %llu MiB (keep-all needs %d MiB)\n",
              static_cast<unsigned long long>(budget), 16 * 160);

  fulcrum::recompute_options greedy_opts;
  greedy_opts.algorithm = fulcrum::recompute_algorithm::greedy;
  const auto greedy = fulcrum::select_recompute(layers, budget, greedy_opts);
  const auto exact = fulcrum::select_recompute(layers, budget);  // exact Pareto-frontier DP

  const char* names[] = {"keep", "selective", "full"};
  for (const auto* plan : {&greedy, &exact}) {
    std::printf("%-6s: kept %4llu MiB, added %.2f per micro-batch, proven optimal: %s, choices:",
                plan == &greedy ? "greedy" : "exact", static_cast<unsigned long long>(plan->memory), plan->time,
                plan->proven_optimal ? "yes" : "no");
    for (auto c : plan->choice) std::printf(" %s", names[c]);
    std::printf("\n");
  }
  std::printf("lower bound (LP relaxation): %.2f\n", greedy.lower_bound);
  return 0;
}
