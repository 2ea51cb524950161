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

#include <unistd.h>

#include <fulcrum/balance/complete.hpp>
#include <fulcrum/balance/lp_export.hpp>
#include <fulcrum/core/rng.hpp>

using namespace fulcrum;

namespace {
bool cbc_available() { return std::system("command -v cbc > /dev/null 2>&1") == 0; }

struct cbc_answer {
  bool optimal = false;
  double objective = 0;
  double makespan_of_solution = 0;  ///< recomputed from the x variables CBC set to 1
  bool assignment_ok = true;        ///< every item assigned exactly once
};

cbc_answer solve_with_cbc(const std::vector<cost_t>& c, std::size_t k, const balance_options& o, int id) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string stem = "fulcrum_lp_" + std::to_string(::getpid()) + "_" + std::to_string(id);
  const auto lp = dir / (stem + ".lp"), sol = dir / (stem + ".sol");
  {
    std::ofstream f(lp);
    write_balance_lp(f, c, k, o);
  }
  const std::string cmd = "cbc " + lp.string() + " solve solu " + sol.string() + " > /dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  cbc_answer a;
  std::ifstream in(sol);
  std::string line;
  std::getline(in, line);
  a.optimal = line.rfind("Optimal", 0) == 0;
  const auto pos = line.find("objective value");
  if (pos != std::string::npos) a.objective = std::stod(line.substr(pos + 15));
  std::vector<double> loads(k, 0);
  std::vector<int> times(c.size(), 0);
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string idx, name;
    double value = 0;
    if (!(ls >> idx >> name >> value)) continue;
    if (name.rfind("x_", 0) != 0 || value < 0.5) continue;
    const auto us = name.find('_', 2);
    const std::size_t i = std::stoul(name.substr(2, us - 2)), j = std::stoul(name.substr(us + 1));
    loads[j] += c[i];
    ++times[i];
  }
  for (int t : times) a.assignment_ok = a.assignment_ok && t == 1;
  for (double l : loads) a.makespan_of_solution = std::max(a.makespan_of_solution, l);
  std::filesystem::remove(lp);
  std::filesystem::remove(sol);
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
