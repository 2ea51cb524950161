// Post-balance samples that already sit on ranks, moving as few bytes as possible.
//
// A distributed sampler has given each of 16 ranks (2 nodes x 8) a contiguous slice of a global
// batch of 2048 W1 samples. Their attention costs (L + L^2/4096) differ, so some ranks would wait.
// Re-dispatching from scratch (LPT over all samples) balances perfectly but moves almost every
// sample; fulcrum::post_balance keeps each rank within 1% of that balance while moving only what
// it must, and moves bytes between nodes (the slow links) only when a node as a whole is overloaded.
//
// expect: post_balance +: makespan/bound 1\.0[0-9]+, moved [0-9.]+ MiB
#include <cstdint>
#include <cstdio>
#include <vector>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/balance/post_balance.hpp>
#include <fulcrum/testing/workloads.hpp>

int main() {
  constexpr std::size_t ranks = 16, per_node = 8, n = 2048;
  const auto samples = fulcrum::testing::generate_w1(n);
  const auto costs = fulcrum::evaluate_costs(samples, fulcrum::attention_cost{}, fulcrum::tokens_of{});

  // Where the samples are now (rank r holds samples [r*n/16, (r+1)*n/16)), and their payload size:
  // 4 bytes per token (token ids) + 336*336*3 bytes per image (pixels).
  std::vector<fulcrum::index_type> current(n);
  std::vector<std::uint64_t> bytes(n);
  std::vector<double> before(ranks, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    current[i] = static_cast<fulcrum::index_type>(i * ranks / n);
    bytes[i] = 4 * samples[i].text_tokens + 336ull * 336 * 3 * samples[i].images;
    before[current[i]] += costs[i];
  }
  const auto before_stats = fulcrum::summarize_loads(std::span<const double>(before));

  // From scratch: LPT, then count what changes rank.
  const auto scratch = fulcrum::lpt(costs, ranks);
  const auto scratch_rank = scratch.parts.assignment(n);
  std::uint64_t scratch_moved = 0;
  for (std::size_t i = 0; i < n; ++i) scratch_moved += scratch_rank[i] != current[i] ? bytes[i] : 0;

  // Minimal movement.
  fulcrum::post_balance_options opts;
  opts.ranks_per_node = per_node;
  opts.tolerance = 0.01;
  const auto pb = fulcrum::post_balance(costs, current, bytes, ranks, opts);

  const double mib = 1024.0 * 1024.0;
  std::printf("%zu samples on %zu ranks (%zu per node), lower bound %.0f\n", n, ranks, per_node, pb.plan.lower_bound);
  std::printf("as placed      : makespan/bound %.4f, moved 0 MiB\n", before_stats.max / pb.plan.lower_bound);
  std::printf("LPT re-dispatch: makespan/bound %.4f, moved %.1f MiB\n", scratch.makespan / scratch.lower_bound,
              static_cast<double>(scratch_moved) / mib);
  std::printf("post_balance   : makespan/bound %.4f, moved %.1f MiB (%.1f MiB between nodes), %zu samples moved\n",
              pb.plan.makespan / pb.plan.lower_bound,
              static_cast<double>(pb.bytes_moved_inter_node + pb.bytes_moved_intra_node) / mib,
              static_cast<double>(pb.bytes_moved_inter_node) / mib, pb.samples_moved);
  return 0;
}
