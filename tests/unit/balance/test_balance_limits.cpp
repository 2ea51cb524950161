// balance_options::limits bounds `automatic` (its local-search improvement phase): nodes = 0 or a
// zero time budget gives plain LPT, a node budget of 1 at most one improving step; the plan stays
// valid, the bound correct and proven_optimal a proof.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/testing/checkers.hpp>

using namespace fulcrum;

namespace {

std::vector<cost_t> random_costs(std::size_t n, std::uint64_t seed) {
  rng gen(seed);
  std::vector<cost_t> c(n);
  for (auto& x : c) x = static_cast<cost_t>(1 + gen.below(1000));
  return c;
}

partition run(const std::vector<cost_t>& c, std::size_t k, balance_algorithm a, search_limits limits = {}) {
  balance_options opts;
  opts.algorithm = a;
  opts.limits = limits;
  return balance(c, k, opts);
}

void check_plan(const partition& p, const std::vector<cost_t>& c, std::size_t k, cost_t optimum) {
  REQUIRE(p.parts.size() == k);
  REQUIRE(testing::check_exactly_once(p.parts, c.size()));
  REQUIRE(testing::check_loads(p.parts, std::span<const cost_t>(c), std::span<const cost_t>(p.loads)));
  CHECK(p.lower_bound <= optimum);  // a correct bound
  CHECK(p.makespan >= optimum);
  CHECK(p.proven_optimal == (p.makespan <= p.lower_bound));
}

}  // namespace

TEST_SUITE("balance") {
  TEST_CASE("balance(): limits bound automatic - nodes 0 and time 0 give LPT - nodes 1 at most one step") {
    const std::size_t k = 8;
    int improved_instances = 0;
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      const auto c = random_costs(30, seed);
      search_limits big;
      big.nodes = 10'000'000;
      const partition optimal = run(c, k, balance_algorithm::complete, big);
      REQUIRE(optimal.proven_optimal);
      const cost_t optimum = optimal.makespan;

      const partition lpt = run(c, k, balance_algorithm::greedy);
      const partition free_run = run(c, k, balance_algorithm::automatic);
      search_limits none;
      none.nodes = 0;
      const partition no_nodes = run(c, k, balance_algorithm::automatic, none);
      search_limits no_time;
      no_time.time = std::chrono::milliseconds(0);
      const partition zero_time = run(c, k, balance_algorithm::automatic, no_time);
      search_limits one;
      one.nodes = 1;
      const partition one_node = run(c, k, balance_algorithm::automatic, one);

      for (const partition* p : {&lpt, &free_run, &no_nodes, &zero_time, &one_node}) check_plan(*p, c, k, optimum);
      // No budget: exactly LPT's plan (automatic starts from LPT).
      CHECK(no_nodes.parts == lpt.parts);
      CHECK(zero_time.parts == lpt.parts);
      CHECK(no_nodes.lower_bound == free_run.lower_bound);
      // One step: between LPT and the unbounded run.
      CHECK(one_node.makespan <= lpt.makespan);
      CHECK(one_node.makespan >= free_run.makespan);
      // Default limits: the same plan as limits large enough never to bind.
      CHECK(run(c, k, balance_algorithm::automatic, big).parts == free_run.parts);
      if (free_run.makespan < lpt.makespan) ++improved_instances;
    }
    // The instances exercise the improvement phase (else the checks above prove nothing).
    CHECK(improved_instances >= 3);
  }
}
