// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan: maps --algorithm names onto the library's algorithms.
#include <stdexcept>

#include <fulcrum/balance/lpt.hpp>

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

}  // namespace fplan
