// Dispatch training samples across ranks (here: 8 threads acting as 8 ranks on 2 "nodes").
//
// Every rank starts with its own shard of W1 (LLaVA-like samples: images x 576 tokens + text),
// each sample carrying a payload (token ids, pixels...). The shards are uneven, so some ranks
// would do far more attention work than others. fulcrum::dispatch gathers the sample sizes,
// computes the same LPT plan on every rank, checks that all ranks agree (plan hash), and moves
// the payloads with one all-to-all. The node-aware planner (post_balance) keeps most samples on
// their node. The same code runs over MPI or NCCL by changing the communicator.
//
// expect: exactly once: yes
#include <cstdio>
#include <vector>

#include <fulcrum/comm/thread_world.hpp>
#include <fulcrum/dispatch/dispatch.hpp>
#include <fulcrum/dispatch/node_aware.hpp>
#include <fulcrum/testing/dispatch_checks.hpp>

int main() {
  constexpr std::size_t ranks = 8, per_node = 4, samples = 4096;
  const auto cost = fulcrum::projected_cost{fulcrum::attention_cost{}, fulcrum::tokens_of{}};  // L + L^2/4096
  fulcrum::comm::thread_world world(ranks);

  struct summary {
    double before, after_plain, after_aware;
    fulcrum::dispatch_traffic plain, aware;
    bool ok;
  };
  const auto out = world.run([&](fulcrum::comm::thread_world::endpoint& comm) {
    // This rank's shard: W1 samples with 256-byte payloads.
    const auto local = fulcrum::testing::w1_local_batch(samples, comm.rank(), ranks, [](std::size_t) { return 256; });
    double mine = 0;
    for (const auto& s : local.metas()) mine += cost(s);

    fulcrum::dispatch_options opts;
    opts.micro_batches = 2;        // every rank gets 2 micro-batches
    opts.ranks_per_node = per_node;
    const auto plain = fulcrum::dispatch(comm, local, cost, opts);
    const auto aware = fulcrum::dispatch(comm, local, cost, opts, fulcrum::node_aware_planner{});

    double load_plain = 0, load_aware = 0;
    for (const auto& s : plain.samples.metas()) load_plain += cost(s);
    for (const auto& s : aware.samples.metas()) load_aware += cost(s);
    const bool ok = static_cast<bool>(fulcrum::testing::check_dispatch(comm, local, plain)) &&
                    static_cast<bool>(fulcrum::testing::check_dispatch(comm, local, aware));
    return summary{mine, load_plain, load_aware, plain.traffic, aware.traffic, ok};
  });

  auto max_over_mean = [&](auto field) {
    double mx = 0, sum = 0;
    for (const auto& s : out) {
      mx = std::max(mx, s.*field);
      sum += s.*field;
    }
    return mx / (sum / ranks);
  };
  bool ok = true;
  for (const auto& s : out) ok = ok && s.ok;
  std::printf("%zu W1 samples on %zu ranks (%zu nodes), cost L + L^2/4096\n", samples, ranks, ranks / per_node);
  std::printf("imbalance max/mean: before %.3f, after LPT dispatch %.4f, after node-aware dispatch %.4f\n",
              max_over_mean(&summary::before), max_over_mean(&summary::after_plain), max_over_mean(&summary::after_aware));
  std::printf("payload bytes between nodes: plain %llu, node-aware %llu (of %llu)\n",
              static_cast<unsigned long long>(out[0].plain.bytes_inter_node),
              static_cast<unsigned long long>(out[0].aware.bytes_inter_node),
              static_cast<unsigned long long>(out[0].plain.bytes_total));
  std::printf("every rank got the same number of micro-batches, every sample exactly once: %s\n", ok ? "yes" : "NO");
  return ok ? 0 : 1;
}
