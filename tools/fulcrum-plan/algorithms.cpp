// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan: maps --algorithm names onto the library's algorithms (names from the library's
// enum tables, core/enum_names.hpp).
#include <stdexcept>

#include <chrono>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/two_level.hpp>
#include <fulcrum/core/enum_names.hpp>
#include <fulcrum/packing/pack.hpp>

#include "commands.hpp"

namespace fplan {

std::vector<std::string> balance_algorithms() {
  return fulcrum::enum_choices<fulcrum::balance_algorithm>();
}

balance_result solve_balance(std::span<const double> costs, std::size_t k, const balance_settings& s) {
  fulcrum::balance_options opts;
  opts.equal_counts = s.equal_counts;
  if (s.time_limit_ms > 0) opts.limits.time = std::chrono::milliseconds(s.time_limit_ms);
  opts.algorithm = fulcrum::parse_enum<fulcrum::balance_algorithm>(s.algorithm, "--algorithm");
  balance_result r;
  if (s.micro_batches > 1) {
    // ranks x micro-batches: balance ranks first, then each rank's samples over its micro-batches
    // (the two-level plan every rank of a data-parallel group runs).
    const auto two = fulcrum::balance_two_level(costs, s.ranks, s.micro_batches, opts);
    r.plan.parts = two.micro_batches.rank_major_groups();  // listed rank by rank: group r * m + j
    r.plan.loads.clear();
    for (std::size_t rank = 0; rank < s.ranks; ++rank)
      for (std::size_t j = 0; j < s.micro_batches; ++j) r.plan.loads.push_back(two.micro_batch_load(rank, j));
    r.plan.makespan = two.micro_batch_makespan;
    r.plan.lower_bound = two.micro_batch_lower_bound;
    r.plan.proven_optimal = r.plan.makespan <= r.plan.lower_bound;
  } else {
    r.plan = fulcrum::balance(costs, k, opts);
  }
  r.algorithm = s.algorithm == std::string("greedy") ? "lpt" : s.algorithm;
  return r;
}

balance_run run_balance(std::span<const double> costs, std::size_t k, const balance_settings& s) {
  balance_run r;
  r.time_ms = time_ms([&] { r.result = solve_balance(costs, k, s); });
  return r;
}

std::vector<std::string> pack_algorithms() {
  return fulcrum::enum_choices<fulcrum::pack_algorithm>();
}

pack_result solve_pack(const std::vector<std::uint64_t>& sizes, const pack_settings& s) {
  fulcrum::pack_options opts;
  opts.oversize_policy = fulcrum::parse_enum<fulcrum::oversize>(s.oversize, "--oversize");
  if (s.time_limit_ms > 0) opts.limits.time = std::chrono::milliseconds(s.time_limit_ms);
  opts.algorithm = fulcrum::parse_enum<fulcrum::pack_algorithm>(s.algorithm, "--algorithm");
  pack_result r;
  r.plan = fulcrum::pack(sizes, s.capacity, opts);
  r.algorithm = r.plan.algorithm != fulcrum::pack_algorithm::automatic
                    ? std::string(fulcrum::to_string(r.plan.algorithm))
                    : s.algorithm;
  return r;
}

pack_run run_pack(const std::vector<std::uint64_t>& sizes, const pack_settings& s) {
  pack_run r;
  r.time_ms = time_ms([&] { r.result = solve_pack(sizes, s); });
  return r;
}

}  // namespace fplan
