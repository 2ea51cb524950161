// Test support: Debian's CBC (coinor-cbc) as an external oracle for the exported CPLEX LP models.
// solve_lp_with_cbc writes a model through the caller's writer, runs `cbc`, and returns the
// solution status, objective and every assignment variable x_<i>_<j> that CBC set to 1. Without
// cbc, the oracle cases are reported as skipped by CTest (see cbc_available).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

namespace fulcrum_test {

/// True when `cbc` is on PATH. When it is not, prints FULCRUM_TEST_SKIPPED with the reason: CTest
/// (SKIP_REGULAR_EXPRESSION, set by fulcrum_add_test) then reports the calling case as skipped, not
/// passed. Callers return early when this is false.
inline bool cbc_available() {
  if (std::system("command -v cbc > /dev/null 2>&1") == 0) return true;
  std::printf("FULCRUM_TEST_SKIPPED: cbc not on PATH, the CBC oracle did not run (install coinor-cbc)\n");
  std::fflush(stdout);
  return false;
}

struct cbc_solution {
  bool optimal = false;
  double objective = 0;
  std::vector<std::pair<std::size_t, std::size_t>> ones;  ///< (i, j) for every x_i_j = 1
};

template <class Writer>
cbc_solution solve_lp_with_cbc(Writer&& write_model, const std::string& tag) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string stem = "fulcrum_" + tag + "_" + std::to_string(::getpid());
  const auto lp = dir / (stem + ".lp"), sol = dir / (stem + ".sol");
  {
    std::ofstream f(lp);
    write_model(f);
  }
  const std::string cmd = "cbc " + lp.string() + " solve solu " + sol.string() + " > /dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  cbc_solution s;
  std::ifstream in(sol);
  std::string line;
  std::getline(in, line);  // e.g. "Optimal - objective value 5.00000000"
  s.optimal = line.rfind("Optimal", 0) == 0;
  if (const auto pos = line.find("objective value"); pos != std::string::npos) s.objective = std::stod(line.substr(pos + 15));
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string index, name;
    double value = 0;
    if (!(fields >> index >> name >> value) || name.rfind("x_", 0) != 0 || value < 0.5) continue;
    const auto sep = name.find('_', 2);
    s.ones.emplace_back(std::stoul(name.substr(2, sep - 2)), std::stoul(name.substr(sep + 1)));
  }
  std::filesystem::remove(lp);
  std::filesystem::remove(sol);
  return s;
}

}  // namespace fulcrum_test
