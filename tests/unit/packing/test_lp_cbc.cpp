// SPDX-License-Identifier: Apache-2.0
// write_packing_lp: the model's shape without a solver, and CBC (coinor-cbc) as an oracle for
// pack_exact on small random instances when `cbc` is on PATH (skipped with a message otherwise;
// CI installs coinor-cbc). CBC's own solution is also checked: every item once, capacity held.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fulcrum/core/rng.hpp"
#include "fulcrum/packing/exact.hpp"
#include "fulcrum/packing/lp_export.hpp"
#include "fulcrum/testing/packing_instances.hpp"

#include "../../support/cbc_oracle.hpp"

using namespace fulcrum;
using fulcrum_test::cbc_available;
using fulcrum_test::solve_lp_with_cbc;

namespace {

struct cbc_answer {
  bool optimal = false;
  double objective = -1;
  bool assignment_ok = true;  ///< every item in exactly one bin, by the x variables CBC set
  bool capacity_ok = true;    ///< recomputed bin loads within capacity
};

cbc_answer solve_with_cbc(const std::vector<std::uint64_t>& sizes, std::uint64_t capacity, const packing_lp_options& o,
                          int id) {
  std::size_t m = 0;
  const auto s = solve_lp_with_cbc([&](std::ostream& f) { m = write_packing_lp(f, sizes, capacity, o); },
                                   "pack_lp_" + std::to_string(id));
  cbc_answer a{s.optimal, s.objective};
  std::vector<int> times(sizes.size(), 0);
  std::vector<std::uint64_t> load(m, 0);
  for (auto [i, b] : s.ones) {
    ++times[i];
    load[b] += sizes[i];
  }
  for (int t : times) a.assignment_ok = a.assignment_ok && t == 1;
  for (auto l : load) a.capacity_ok = a.capacity_ok && l <= capacity;
  return a;
}

}  // namespace

TEST_CASE("lp.model_shape") {
  const std::vector<std::uint64_t> sizes{6, 5, 4, 0};
  std::ostringstream os;
  const auto m = write_packing_lp(os, sizes, 10);
  const std::string s = os.str();
  CHECK(m == 2);  // BFD: {6,4}, {5}
  for (const char* part : {"Minimize", "Subject To", "Binary", "End", "assign_3:", "cap_1:", "sym_0:", "bound:"})
    CHECK_MESSAGE(s.find(part) != std::string::npos, part);
  CHECK(s.find("x_0_1") == std::string::npos);  // symmetry breaking: item 0 only in bin 0
  CHECK(s.find("6 x_0_0") != std::string::npos);
  CHECK(s.find("- 10 y_1 <= 0") != std::string::npos);
  std::ostringstream plain;
  packing_lp_options o;
  o.symmetry_breaking = false;
  o.linking = false;
  o.bound_cut = false;
  o.max_bins = 3;
  CHECK(write_packing_lp(plain, sizes, 10, o) == 3);
  CHECK(plain.str().find("x_0_2") != std::string::npos);
  CHECK(plain.str().find("sym_") == std::string::npos);
}

TEST_CASE("lp.bad_input") {
  const std::vector<std::uint64_t> sizes{6, 11};
  std::ostringstream os;
  CHECK_THROWS_AS(write_packing_lp(os, sizes, 0), invalid_input);
  CHECK_THROWS_AS(write_packing_lp(os, sizes, 10), infeasible);
  const std::vector<std::uint64_t> three{6, 6, 6};
  packing_lp_options o;
  o.max_bins = 2;
  CHECK_THROWS_AS(write_packing_lp(os, three, 10, o), invalid_input);
}

TEST_CASE("lp.cbc_oracle_agrees_with_pack_exact") {
  if (!cbc_available()) {
    MESSAGE("cbc not on PATH: skipping the CBC oracle (install coinor-cbc)");
    return;
  }
  rng gen(2026);
  for (int trial = 0; trial < 30; ++trial) {
    const std::size_t n = 1 + gen.below(15);
    const std::uint64_t capacity = 20 + gen.below(100);
    std::vector<std::uint64_t> sizes(n);
    for (auto& s : sizes) s = trial % 2 == 0 ? 1 + gen.below(capacity) : capacity / 5 + gen.below(capacity / 2);
    packing_lp_options o;
    o.bound_cut = trial % 3 != 0;  // also solve without our own bound as a cut
    o.symmetry_breaking = trial % 5 != 0;
    const auto a = solve_with_cbc(sizes, capacity, o, trial);
    const auto p = pack_exact(sizes, capacity);
    INFO("trial " << trial << " n=" << n << " C=" << capacity);
    REQUIRE(a.optimal);
    CHECK(a.assignment_ok);
    CHECK(a.capacity_ok);
    REQUIRE(p.proven_optimal);
    CHECK(static_cast<double>(p.bins.size()) == doctest::Approx(a.objective));
  }
}
