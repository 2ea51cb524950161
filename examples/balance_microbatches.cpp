// Balance micro-batches with an attention cost model.
//
// 4096 W1 samples (LLaVA-like: images x 576 tokens + text) must be spread over 32 data-parallel
// ranks. Each sample costs L + L^2/4096 (linear work plus attention). A plain round-robin split
// (what a sampler does by default) leaves some ranks with far more work than others; greedy LPT
// makes the heaviest rank almost as light as the lower bound.
//
// expect: LPT .*makespan/bound 1\.0
#include <cstdio>
#include <vector>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/testing/workloads.hpp>

int main() {
  constexpr std::size_t ranks = 32;
  const auto samples = fulcrum::testing::generate_w1(4096);
  const fulcrum::attention_cost cost{};  // L + L^2/4096

  // Before: sample i goes to rank i % ranks.
  std::vector<double> before(ranks, 0.0);
  for (std::size_t i = 0; i < samples.size(); ++i) before[i % ranks] += cost(samples[i].tokens());
  const auto before_stats = fulcrum::summarize_loads(std::span<const double>(before));

  // After: LPT on the same costs (projection picks the total tokens of each sample).
  const auto plan = fulcrum::lpt(samples, ranks, cost, fulcrum::tokens_of{});
  const auto after_stats = plan.stats();

  std::printf("%zu samples onto %zu ranks, cost L + L^2/4096, lower bound %.0f\n", samples.size(), ranks, plan.lower_bound);
  std::printf("round-robin: heaviest rank %.0f, imbalance max/mean %.4f, makespan/bound %.4f\n", before_stats.max,
              before_stats.imbalance, before_stats.max / plan.lower_bound);
  std::printf("LPT        : heaviest rank %.0f, imbalance max/mean %.4f, makespan/bound %.4f\n", after_stats.max,
              after_stats.imbalance, plan.makespan / plan.lower_bound);
  return 0;
}
