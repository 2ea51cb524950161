// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan: maps --algorithm names onto the library's algorithms.
#include <stdexcept>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/packing/best_fit.hpp>
#include <fulcrum/packing/best_fit_decreasing.hpp>
#include <fulcrum/packing/first_fit.hpp>
#include <fulcrum/packing/first_fit_decreasing.hpp>
#include <fulcrum/packing/histogram.hpp>
#include <fulcrum/packing/next_fit.hpp>

#include "commands.hpp"

namespace fplan {

std::vector<std::string> balance_algorithms() { return {"automatic", "greedy"}; }

balance_result solve_balance(std::span<const double> costs, std::size_t k, const balance_settings& s) {
  balance_result r;
  if (s.algorithm == "automatic" || s.algorithm == "greedy") {
    r.plan = fulcrum::lpt(costs, k);
    r.algorithm = "lpt";
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
