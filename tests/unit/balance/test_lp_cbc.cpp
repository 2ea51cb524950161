// The LP export checked by an external oracle: Debian's CBC solves the exported assignment ILP and
// its optimum must equal complete_balance's (integer costs). Skipped, with a message, when `cbc`
// is not on PATH (CI installs coinor-cbc).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fulcrum/balance/complete.hpp>
#include <fulcrum/balance/lp_export.hpp>
#include <fulcrum/core/rng.hpp>

#include "../../support/cbc_oracle.hpp"

using namespace fulcrum;
using fulcrum_test::cbc_available;
using fulcrum_test::solve_lp_with_cbc;

namespace {
struct cbc_answer {
  bool optimal = false;
  double objective = 0;
  double makespan_of_solution = 0;  ///< recomputed from the x variables CBC set to 1
  bool assignment_ok = true;        ///< every item assigned exactly once
};

cbc_answer solve_with_cbc(const std::vector<cost_t>& c, std::size_t k, const balance_options& o, int id) {
  const auto s = solve_lp_with_cbc([&](std::ostream& f) { write_balance_lp(f, c, k, o); }, "lp_" + std::to_string(id));
  cbc_answer a{s.optimal, s.objective};
  std::vector<double> loads(k, 0);
  std::vector<int> times(c.size(), 0);
  for (auto [i, j] : s.ones) {
    loads[j] += c[i];
    ++times[i];
  }
  for (int t : times) a.assignment_ok = a.assignment_ok && t == 1;
  for (double l : loads) a.makespan_of_solution = std::max(a.makespan_of_solution, l);
  return a;
}
}  // namespace

TEST_SUITE("balance") {
  TEST_CASE("LP export: CBC's optimum equals complete_balance's on small integer instances") {
    if (!cbc_available()) {
      MESSAGE("cbc not on PATH: skipping the CBC oracle (install coinor-cbc)");
      return;
    }
    rng gen(21);
    for (int trial = 0; trial < 30; ++trial) {
      const std::size_t n = 4 + gen.below(9);
      const std::size_t k = 2 + gen.below(3);
      std::vector<cost_t> c(n);
      for (auto& x : c) x = static_cast<double>(gen.below(trial % 2 ? 20 : 1000));
      balance_options o;
      o.equal_counts = trial % 3 == 0;
      if (trial % 5 == 1) o.part_capacity = 100000;
      const auto p = complete_balance(c, k, o);
      REQUIRE(p.proven_optimal);
      const auto a = solve_with_cbc(c, k, o, trial);
      INFO("trial " << trial << " n " << n << " k " << k);
      REQUIRE(a.optimal);
      CHECK(a.assignment_ok);
      CHECK(std::round(a.objective) == p.makespan);
      CHECK(a.makespan_of_solution == p.makespan);
    }
  }

  TEST_CASE("LP export: format details") {
    std::ostringstream os;
    balance_options o;
    o.part_capacity = 50;
    write_balance_lp(os, std::vector<cost_t>{3, 9, 0.5}, 2, o);
    const std::string s = os.str();
    CHECK(s.find("Minimize\n obj: C\n") != std::string::npos);
    CHECK(s.find(" a2: x_2_0 + x_2_1 = 1\n") != std::string::npos);
    CHECK(s.find(" l1: 3 x_0_1 + 9 x_1_1 + 0.5 x_2_1 - C <= 0\n") != std::string::npos);
    CHECK(s.find(" 0 <= C <= 50\n") != std::string::npos);
    CHECK(s.find(" x_1_0 = 1\n") != std::string::npos);  // the largest item fixed to part 0
    CHECK(s.find("Binaries\n") != std::string::npos);
    CHECK(s.rfind("End\n") == s.size() - 4);
    std::ostringstream bad;
    CHECK_THROWS_AS(write_balance_lp(bad, std::vector<cost_t>{1, -1}, 2), invalid_input);
    CHECK_THROWS_AS(write_balance_lp(bad, std::vector<cost_t>{1}, 0), invalid_input);
    CHECK(bad.str().empty());
  }
}
