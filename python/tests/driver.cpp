// SPDX-License-Identifier: Apache-2.0
// A small C++ driver for python/tests/test_cpp_parity.py: runs the C++ front doors on the same input
// as the Python package and prints the result, so the tests can check the two agree bit for bit.
//   driver pack ALGORITHM CAPACITY       < "n s0 s1 ..."   -> "bins B", one line per bin, "lower_bound L"
//   driver balance ALGORITHM K COST      < "n v0 v1 ..."   -> one line per part, loads as %a, makespan, bound
//   driver ranks CAPACITY RANKS SEED     < "n s0 s1 ..."   -> steps, one line per bin
//   driver stages STAGES                 < "n c0 c1 ..."   -> boundaries, bottleneck as %a
//   driver two_level ALGORITHM RANKS M    < "n v0 v1 ..."   -> "grid S R", one line per (j, r) group, loads as %a,
//                                                              lockstep %a
//   driver epoch CAPACITY RANKS SEED EPOCH < "n s0 s1 ..."   -> "steps S", one line per bin (step-major)
//   driver post_balance RANKS PER_NODE TOL < "n c..." "n r..." "n b..." -> one line per rank, loads as %a,
//                                                              "moved INTER INTRA SAMPLES", target %a
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "fulcrum/balance/balance.hpp"
#include "fulcrum/balance/post_balance.hpp"
#include "fulcrum/balance/two_level.hpp"
#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/packing/pack.hpp"
#include "fulcrum/packing/rank_packing.hpp"
#include "fulcrum/pipeline/partition.hpp"
#include "fulcrum/runtime/epoch_plan.hpp"

namespace {
template <class T>
std::vector<T> read_values() {
  std::size_t n = 0;
  std::cin >> n;
  std::vector<T> v(n);
  for (auto& x : v) std::cin >> x;
  return v;
}

void print_group(std::span<const fulcrum::index_type> g) {
  for (const auto i : g) std::printf(" %u", static_cast<unsigned>(i));
  std::printf("\n");
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const std::string mode = argv[1];
  if (mode == "pack" && argc == 4) {
    const auto sizes = read_values<std::uint64_t>();
    fulcrum::pack_options opts;
    opts.algorithm = fulcrum::parse_enum<fulcrum::pack_algorithm>(argv[2]);
    const auto p = fulcrum::pack(sizes, std::stoull(argv[3]), opts);
    std::printf("bins %zu\n", p.bins.size());
    for (const auto g : p.bins) print_group(g);
    std::printf("lower_bound %llu\n", static_cast<unsigned long long>(p.lower_bound));
  } else if (mode == "balance" && argc == 5) {
    const auto values = read_values<std::uint64_t>();
    fulcrum::balance_options opts;
    opts.algorithm = fulcrum::parse_enum<fulcrum::balance_algorithm>(argv[2]);
    const std::size_t k = std::stoull(argv[3]);
    const std::string cost = argv[4];
    const auto p = cost == "attention" ? fulcrum::balance(values, k, opts, fulcrum::attention_cost{})
                                       : fulcrum::balance(values, k, opts);
    std::printf("parts %zu\n", p.parts.size());
    for (const auto g : p.parts) print_group(g);
    for (const double l : p.loads) std::printf("%a\n", l);
    std::printf("makespan %a\nlower_bound %a\n", p.makespan, p.lower_bound);
  } else if (mode == "ranks" && argc == 5) {
    const auto sizes = read_values<std::uint64_t>();
    fulcrum::rank_pack_options opts;
    opts.seed = std::stoull(argv[4]);
    const auto p = fulcrum::pack_for_ranks(sizes, std::stoull(argv[2]), std::stoull(argv[3]), opts);
    std::printf("steps %zu\n", p.steps());
    for (const auto g : p.bins.groups()) print_group(g);
  } else if (mode == "stages" && argc == 3) {
    const auto costs = read_values<double>();
    const auto p = fulcrum::partition_stages(costs, std::stoull(argv[2]));
    for (const auto b : p.boundaries) std::printf(" %zu", b);
    std::printf("\nbottleneck %a\n", p.bottleneck);
  } else if (mode == "two_level" && argc == 5) {
    const auto values = read_values<std::uint64_t>();
    fulcrum::balance_options opts;
    opts.algorithm = fulcrum::parse_enum<fulcrum::balance_algorithm>(argv[2]);
    const auto p = fulcrum::balance_two_level(values, std::stoull(argv[3]), std::stoull(argv[4]), opts);
    std::printf("grid %zu %zu\n", p.micro_batches.steps(), p.micro_batches.ranks());
    for (const auto g : p.micro_batches.groups()) print_group(g);
    for (const double l : p.micro_batch_loads) std::printf("%a\n", l);
    std::printf("lockstep %a\n", p.lockstep_time);
  } else if (mode == "epoch" && argc == 6) {
    const auto sizes = read_values<std::uint64_t>();
    fulcrum::epoch_plan_options opts;
    opts.seed = std::stoull(argv[4]);
    const auto planner = fulcrum::make_epoch_planner(sizes, std::stoull(argv[2]), std::stoull(argv[3]), opts);
    const auto p = planner.plan(std::stoull(argv[5]));
    std::printf("steps %zu\n", p.steps());
    for (const auto g : p.bins.groups()) print_group(g);
  } else if (mode == "post_balance" && argc == 5) {
    const auto costs = read_values<double>();
    const auto current = read_values<fulcrum::index_type>();
    const auto bytes = read_values<std::uint64_t>();
    fulcrum::post_balance_options opts;
    opts.ranks_per_node = std::stoull(argv[3]);
    opts.tolerance = std::stod(argv[4]);
    const auto p = fulcrum::post_balance(costs, current, bytes, std::stoull(argv[2]), opts);
    for (const auto g : p.plan.parts) print_group(g);
    for (const double l : p.plan.loads) std::printf("%a\n", l);
    std::printf("moved %llu %llu %zu\ntarget %a\n", static_cast<unsigned long long>(p.bytes_moved_inter_node),
                static_cast<unsigned long long>(p.bytes_moved_intra_node), p.samples_moved, p.target_makespan);
  } else {
    return 2;
  }
  return 0;
}
