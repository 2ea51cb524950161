// A data-parallel sampler for a C++ trainer: each rank asks for its micro-batches of a step.
//
// Every rank constructs the same `balanced_sampler` (same dataset sizes, seed and settings) and
// calls `micro_batches(step, rank)`. The sampler shuffles the epoch with a seeded generator, cuts
// it into global batches, and splits each batch over ranks x micro-batches with
// fulcrum::balance_two_level under the attention cost. The plan is deterministic, so every rank
// computes the same one without any communication, and no two ranks ever train the same sample.
// (When samples must first be moved between processes, use fulcrum::dispatch on a communicator.)
//
// expect: epoch check: [0-9]+ samples, each exactly once
#include <cstdio>
#include <numeric>
#include <vector>

#include <fulcrum/balance/two_level.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/testing/workloads.hpp>

class balanced_sampler {
 public:
  balanced_sampler(std::vector<double> costs, std::size_t ranks, std::size_t global_batch, std::size_t micro_batches,
                   std::uint64_t seed)
      : costs_(std::move(costs)), ranks_(ranks), batch_(global_batch), micro_(micro_batches), order_(costs_.size()) {
    std::iota(order_.begin(), order_.end(), fulcrum::index_type{0});
    fulcrum::rng gen(seed);
    gen.shuffle(std::span<fulcrum::index_type>(order_));  // same seed, same epoch order on every rank
  }

  /// Steps in the epoch (a last partial batch is dropped, as most trainers do).
  [[nodiscard]] std::size_t steps() const { return order_.size() / batch_; }

  /// Rank `rank`'s micro-batches of step `step`: dataset indices, one vector per micro-batch.
  [[nodiscard]] std::vector<std::vector<fulcrum::index_type>> micro_batches(std::size_t step, std::size_t rank) const {
    const auto plan = plan_step(step);
    std::vector<std::vector<fulcrum::index_type>> out(micro_);
    for (std::size_t j = 0; j < micro_; ++j)
      for (auto local : plan.micro_batch(rank, j)) out[j].push_back(order_[step * batch_ + local]);
    return out;
  }

  /// The whole step's plan (what every rank computes; loads for logging).
  [[nodiscard]] fulcrum::two_level_partition plan_step(std::size_t step) const {
    std::vector<double> batch_costs(batch_);
    for (std::size_t i = 0; i < batch_; ++i) batch_costs[i] = costs_[order_[step * batch_ + i]];
    return fulcrum::balance_two_level(batch_costs, ranks_, micro_);
  }

 private:
  std::vector<double> costs_;
  std::size_t ranks_, batch_, micro_;
  std::vector<fulcrum::index_type> order_;
};

int main() {
  constexpr std::size_t ranks = 8, global_batch = 512, micro_batches = 4;
  const auto samples = fulcrum::testing::generate_w1(8192);
  const auto costs = fulcrum::evaluate_costs(samples, fulcrum::attention_cost{}, fulcrum::tokens_of{});
  const balanced_sampler sampler(costs, ranks, global_batch, micro_batches, fulcrum::default_seed);

  std::vector<int> seen(samples.size(), 0);
  for (std::size_t step = 0; step < sampler.steps(); ++step) {
    std::vector<double> rank_load(ranks, 0.0);
    for (std::size_t r = 0; r < ranks; ++r) {  // in a trainer, each rank runs only its own r
      for (const auto& mb : sampler.micro_batches(step, r))
        for (auto i : mb) {
          ++seen[i];
          rank_load[r] += costs[i];
        }
    }
    const auto s = fulcrum::summarize_loads(std::span<const double>(rank_load));
    if (step < 3 || step + 1 == sampler.steps())
      std::printf("step %2zu: %zu ranks x %zu micro-batches, rank load max/mean %.5f\n", step, ranks, micro_batches,
                  s.imbalance);
    else if (step == 3)
      std::printf("...\n");
  }
  // Rank 0's first micro-batch of step 0, as the trainer would fetch it.
  const auto mb = sampler.micro_batches(0, 0)[0];
  std::printf("rank 0, step 0, micro-batch 0: %zu samples, first ids %u %u %u\n", mb.size(), mb[0], mb[1], mb[2]);

  std::size_t once = 0, used = sampler.steps() * global_batch;
  for (int c : seen) once += c == 1 ? 1 : 0;
  const bool ok = once == used;
  for (int c : seen)
    if (c > 1) return 1;
  std::printf("epoch check: %zu samples, each exactly once%s\n", once, ok ? "" : " -- FAILED");
  return ok ? 0 : 1;
}
