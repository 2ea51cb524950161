// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan: maps --algorithm names onto the library's algorithms.
#include <stdexcept>

#include <chrono>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/two_level.hpp>
#include <fulcrum/packing/best_fit.hpp>
#include <fulcrum/packing/best_fit_decreasing.hpp>
#include <fulcrum/packing/first_fit.hpp>
#include <fulcrum/packing/first_fit_decreasing.hpp>
#include <fulcrum/packing/histogram.hpp>
#include <fulcrum/packing/next_fit.hpp>

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
        r.plan.parts = two.micro_batches;
        r.plan.loads = two.micro_batch_loads;
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
  return {"automatic", "next_fit", "first_fit", "best_fit", "first_fit_decreasing", "best_fit_decreasing", "histogram"};
}

pack_result solve_pack(const std::vector<std::uint64_t>& sizes, const pack_settings& s) {
  pack_result r;
  r.algorithm = s.algorithm == "automatic" ? "histogram" : s.algorithm;
  if (r.algorithm == "histogram") r.plan = fulcrum::histogram_pack(sizes, s.capacity);
  else if (r.algorithm == "next_fit") r.plan = fulcrum::next_fit(sizes, s.capacity);
  else if (r.algorithm == "first_fit") r.plan = fulcrum::first_fit(sizes, s.capacity);
  else if (r.algorithm == "best_fit") r.plan = fulcrum::best_fit(sizes, s.capacity);
  else if (r.algorithm == "first_fit_decreasing") r.plan = fulcrum::first_fit_decreasing(sizes, s.capacity);
  else if (r.algorithm == "best_fit_decreasing") r.plan = fulcrum::best_fit_decreasing(sizes, s.capacity);
  else throw fulcrum::invalid_input("--algorithm = " + s.algorithm + ": unknown packing algorithm");
  return r;
}

pack_run run_pack(const std::vector<std::uint64_t>& sizes, const pack_settings& s) {
  pack_run r;
  r.time_ms = time_ms([&] { r.result = solve_pack(sizes, s); });
  return r;
}

}  // namespace fplan
