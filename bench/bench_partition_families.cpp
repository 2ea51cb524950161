// Number-partitioning families for complete_balance (P||Cmax, integer costs): random integers of
// 10, 16 and 20 bits and planted perfect partitions (mean item 2^16), n in {20, 50, 100},
// k in {2, 3, 5, 10}, 3 seeds each. Per family: proven within the 1 s limit, mean / max time, and
// the mean and worst gap (makespan / lower bound - 1) of the instances not proven, BEFORE (without
// the bin-packing bound and heuristics: detail::complete_balance_impl(..., false)) and AFTER, in
// one run. Plain main (no Google Benchmark loop): prints a markdown table.
//   build/bench/bench_partition_families [time_limit_ms [node_limit]]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fulcrum/balance/complete.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/testing/balance_instances.hpp>

namespace {
struct instance {
  std::vector<fulcrum::cost_t> costs;
  std::size_t k;
};

std::vector<instance> family(int bits) {  // bits == 0: planted perfect partitions
  std::vector<instance> out;
  for (std::size_t n : {20u, 50u, 100u})
    for (std::size_t k : {2u, 3u, 5u, 10u})
      for (std::uint64_t seed = 0; seed < 3; ++seed) {
        instance in{{}, k};
        if (bits == 0) {
          const auto p = fulcrum::testing::generate_perfect_instance(k, n, (std::uint64_t{1} << 16) * n / k, seed);
          in.costs = p.costs;
        } else {
          fulcrum::rng gen(1000 * static_cast<std::uint64_t>(bits) + 10 * n + k + 7919 * seed);
          for (std::size_t i = 0; i < n; ++i)
            in.costs.push_back(static_cast<double>(1 + gen.below(std::uint64_t{1} << bits)));
        }
        out.push_back(std::move(in));
      }
  return out;
}

struct row {
  int proven = 0, total = 0;
  double sum_ms = 0, max_ms = 0, sum_gap = 0, max_gap = 0;
};

row run(const std::vector<instance>& fam, bool strong, long limit_ms, unsigned long long nodes) {
  row r;
  fulcrum::balance_options o;
  o.limits.time = std::chrono::milliseconds(limit_ms);
  if (nodes > 0) o.limits.nodes = nodes;
  for (const auto& in : fam) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto p = fulcrum::detail::complete_balance_impl(in.costs, in.k, o, strong);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ++r.total;
    r.sum_ms += ms;
    r.max_ms = std::max(r.max_ms, ms);
    if (p.proven_optimal) {
      ++r.proven;
    } else {
      const double gap = p.makespan / p.lower_bound - 1;
      r.sum_gap += gap;
      r.max_gap = std::max(r.max_gap, gap);
    }
  }
  return r;
}
}  // namespace

int main(int argc, char** argv) {
  const long limit_ms = argc > 1 ? std::atol(argv[1]) : 1000;
  const unsigned long long nodes = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
  if (nodes > 0) std::printf("node limit %llu\n\n", nodes);
  std::printf("| family | solver | proven in %ld ms | mean ms | max ms | mean gap (not proven) | max gap |\n",
              limit_ms);
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int bits : {10, 16, 20, 0}) {
    const auto fam = family(bits);
    const std::string name = bits == 0 ? std::string("planted perfect") : std::to_string(bits) + "-bit random";
    for (bool strong : {false, true}) {
      const row r = run(fam, strong, limit_ms, nodes);
      const int open = r.total - r.proven;
      std::printf("| %s | %s | %d / %d | %.1f | %.1f | %.2e | %.2e |\n", name.c_str(), strong ? "after" : "before",
                  r.proven, r.total, r.sum_ms / r.total, r.max_ms, open > 0 ? r.sum_gap / open : 0.0, r.max_gap);
      std::fflush(stdout);
    }
  }
  return 0;
}
