// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan: maps --algorithm names onto the library's algorithms.
#include <stdexcept>

#include <chrono>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/two_level.hpp>
#include <fulcrum/packing/pack.hpp>

#include "commands.hpp"

namespace fplan {

std::vector<std::string> balance_algorithms() {
  return {"automatic", "greedy", "karmarkar_karp", "multifit", "local_search", "complete"};
}

balance_result solve_balance(std::span<const double> costs, std::size_t k, const balance_settings& s) {
  fulcrum::balance_options opts;
  opts.equal_counts = s.equal_counts;
  if (s.time_limit_ms > 0) opts.limits.time = std::chrono::milliseconds(s.time_limit_ms);
  static const std::pair<const char*, fulcrum::balance_algorithm> names[] = {
      {"automatic", fulcrum::balance_algorithm::automatic},       {"greedy", fulcrum::balance_algorithm::greedy},
      {"karmarkar_karp", fulcrum::balance_algorithm::karmarkar_karp}, {"multifit", fulcrum::balance_algorithm::multifit},
      {"local_search", fulcrum::balance_algorithm::local_search}, {"complete", fulcrum::balance_algorithm::complete}};
  for (const auto& [name, algorithm] : names)
    if (s.algorithm == name) {
      opts.algorithm = algorithm;
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
  throw fulcrum::invalid_input("--algorithm = " + s.algorithm + ": unknown balancing algorithm");
}

balance_run run_balance(std::span<const double> costs, std::size_t k, const balance_settings& s) {
  balance_run r;
  r.time_ms = time_ms([&] { r.result = solve_balance(costs, k, s); });
  return r;
}

std::vector<std::string> pack_algorithms() {
  return {"automatic", "next_fit", "first_fit", "best_fit", "first_fit_decreasing", "best_fit_decreasing", "histogram", "exact"};
}

pack_result solve_pack(const std::vector<std::uint64_t>& sizes, const pack_settings& s) {
  static const std::pair<const char*, fulcrum::pack_algorithm> names[] = {
      {"automatic", fulcrum::pack_algorithm::automatic},
      {"next_fit", fulcrum::pack_algorithm::next_fit},
      {"first_fit", fulcrum::pack_algorithm::first_fit},
      {"best_fit", fulcrum::pack_algorithm::best_fit},
      {"first_fit_decreasing", fulcrum::pack_algorithm::first_fit_decreasing},
      {"best_fit_decreasing", fulcrum::pack_algorithm::best_fit_decreasing},
      {"histogram", fulcrum::pack_algorithm::histogram},
      {"exact", fulcrum::pack_algorithm::exact}};
  fulcrum::pack_options opts;
  opts.oversize_policy = s.oversize == "truncate"  ? fulcrum::oversize::truncate
                         : s.oversize == "own_bin" ? fulcrum::oversize::own_bin
                                                   : fulcrum::oversize::error;
  if (s.time_limit_ms > 0) opts.limits.time = std::chrono::milliseconds(s.time_limit_ms);
  for (const auto& [name, algorithm] : names)
    if (s.algorithm == name) {
      opts.algorithm = algorithm;
      pack_result r;
      r.plan = fulcrum::pack(sizes, s.capacity, opts);
      for (const auto& [ran, a] : names)
        if (a == r.plan.algorithm && a != fulcrum::pack_algorithm::automatic) r.algorithm = ran;
      if (r.algorithm.empty()) r.algorithm = s.algorithm;
      return r;
    }
  throw fulcrum::invalid_input("--algorithm = " + s.algorithm + ": unknown packing algorithm");
}

pack_run run_pack(const std::vector<std::uint64_t>& sizes, const pack_settings& s) {
  pack_run r;
  r.time_ms = time_ms([&] { r.result = solve_pack(sizes, s); });
  return r;
}

}  // namespace fplan
