#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/recompute/budget.hpp>
#include <fulcrum/recompute/select.hpp>

using namespace fulcrum;

namespace {
using layers_t = std::vector<std::vector<recompute_option>>;

// Brute force over every choice vector; times summed in layer order.
struct brute_result {
  double time = std::numeric_limits<double>::infinity();
  std::uint64_t memory = 0;
};
brute_result brute_force(const layers_t& L, std::uint64_t budget) {
  brute_result best;
  std::vector<std::size_t> a(L.size(), 0);
  while (true) {
    std::uint64_t m = 0;
    double t = 0;
    for (std::size_t l = 0; l < L.size(); ++l) m += L[l][a[l]].memory, t += L[l][a[l]].time;
    if (m <= budget && (t < best.time || (t == best.time && m < best.memory))) best = {t, m};
    std::size_t l = 0;
    while (l < L.size() && ++a[l] == L[l].size()) a[l++] = 0;
    if (l == L.size()) break;
  }
  return best;
}

void check_plan(const recompute_plan& p, const layers_t& L, std::uint64_t budget) {
  REQUIRE(p.choice.size() == L.size());
  std::uint64_t m = 0;
  double t = 0;
  for (std::size_t l = 0; l < L.size(); ++l) {
    REQUIRE(p.choice[l] < L[l].size());
    m += L[l][p.choice[l]].memory;
    t += L[l][p.choice[l]].time;
  }
  CHECK(m == p.memory);
  CHECK(t == p.time);
  CHECK(m <= budget);
  CHECK(p.lower_bound <= p.time);
}

layers_t random_instance(rng& gen, std::size_t n, bool big) {
  layers_t L(n);
  for (auto& layer : L) {
    const std::size_t k = 1 + gen.below(4);
    for (std::size_t j = 0; j < k; ++j)
      layer.push_back({big ? 1'000'000 + gen.below(1'000'000'000) : gen.below(21),
                       gen.below(3) == 0 ? gen.uniform() * 5.0 : static_cast<double>(gen.below(10))});
  }
  return L;
}

std::uint64_t random_budget(rng& gen, const layers_t& L) {
  std::uint64_t lo = 0, hi = 0;
  for (const auto& layer : L) {
    std::uint64_t a = layer[0].memory, b = layer[0].memory;
    for (const auto& o : layer) a = std::min(a, o.memory), b = std::max(b, o.memory);
    lo += a, hi += b;
  }
  return lo + gen.below(hi - lo + 1);
}
}  // namespace

TEST_SUITE("recompute") {
  TEST_CASE("exact selection agrees with brute force on 6000 random small instances") {
    rng gen(7);
    int gaps = 0;
    for (int trial = 0; trial < 6000; ++trial) {
      const bool big = trial % 3 == 2;  // large irregular memories (bytes)
      const auto L = random_instance(gen, 1 + gen.below(big ? 7 : 8), big);
      const auto budget = random_budget(gen, L);
      const auto opt = brute_force(L, budget);
      for (auto alg : {recompute_algorithm::automatic, recompute_algorithm::dynamic_programming,
                       recompute_algorithm::branch_and_bound}) {
        recompute_options o;
        o.algorithm = alg;
        const auto p = select_recompute(L, budget, o);
        check_plan(p, L, budget);
        CHECK(p.proven_optimal);
        CHECK(p.time == opt.time);
        if (alg != recompute_algorithm::branch_and_bound) CHECK(p.memory == opt.memory);  // ties: least memory
      }
      recompute_options o;
      o.algorithm = recompute_algorithm::greedy;
      const auto g = select_recompute(L, budget, o);
      check_plan(g, L, budget);
      CHECK(g.time >= opt.time);
      CHECK(g.lower_bound <= opt.time + 1e-9);  // the LP bound is a true bound
      if (g.time > opt.time) ++gaps;
    }
    CHECK(gaps > 0);  // greedy is a baseline: it does miss the optimum sometimes
  }

  // Regression (issue 15): with the default options select_recompute did not return for 2000
  // layers x 3 options with irregular memories (DP past its 50M-state default, then B&B with 50M
  // nodes). The defaults now bound the work (recompute_options::limits, select.hpp).
  TEST_CASE("select_recompute with default options returns quickly on 2000 layers x 3 options with a valid plan and a true bound") {
    rng gen(2000);
    layers_t L;
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < 2000; ++i) {
      const std::uint64_t m = 1000 + gen.below(100'000);
      const double t = 1.0 + double(gen.below(1000)) / 100.0;
      L.push_back({{m, 0.0}, {m / 3 + gen.below(1000), 0.2 * t + double(gen.below(100)) / 1000}, {gen.below(500), t}});
      total += m;
    }
    const std::uint64_t budget = total / 2;
    const auto start = std::chrono::steady_clock::now();
    const auto p = select_recompute(L, budget);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    MESSAGE("2000 layers x 3 options, default options: " << seconds << " s");
    CHECK(seconds < 20.0);  // about 1 s on the 2-core CI machine; the old defaults ran for hours
    check_plan(p, L, budget);
    CHECK(p.lower_bound <= p.time);
    // Independent bound: Lagrangian dual L(lambda) = sum_l min_k (t_lk + lambda m_lk) - lambda B is
    // <= OPT for every lambda >= 0, and its maximum (at a breakpoint lambda = a pairwise slope) is
    // the LP bound. The reported bound may not exceed it; and the plan is within 1% of it.
    std::vector<double> lambdas{0.0};
    for (const auto& layer : L)
      for (const auto& a : layer)
        for (const auto& b : layer)
          if (a.memory > b.memory && b.time > a.time) lambdas.push_back((b.time - a.time) / double(a.memory - b.memory));
    double dual = -std::numeric_limits<double>::infinity();
    for (double lambda : lambdas) {
      double v = -lambda * double(budget);
      for (const auto& layer : L) {
        double best = std::numeric_limits<double>::infinity();
        for (const auto& o : layer) best = std::min(best, o.time + lambda * double(o.memory));
        v += best;
      }
      dual = std::max(dual, v);
    }
    CHECK(p.lower_bound <= dual * (1 + 1e-9));
    CHECK(p.lower_bound >= dual * (1 - 1e-9));  // the LP bound is what is reported
    const double gap = (p.time - p.lower_bound) / p.time;
    CHECK(gap >= 0.0);
    CHECK(gap < 0.01);
    if (!p.proven_optimal) CHECK(p.lower_bound < p.time);
  }

  TEST_CASE("automatic falls back to branch and bound past the state limit - node limit gives an honest anytime plan") {
    rng gen(8);
    for (int trial = 0; trial < 300; ++trial) {
      const auto L = random_instance(gen, 2 + gen.below(6), true);
      const auto budget = random_budget(gen, L);
      const auto opt = brute_force(L, budget);
      recompute_options o;
      o.limits.nodes = 3;  // the DP needs more states than this: automatic goes to B&B
      const auto p = select_recompute(L, budget, o);
      check_plan(p, L, budget);
      CHECK(p.time >= opt.time);
      CHECK(p.lower_bound <= opt.time + 1e-9);
      if (p.proven_optimal) CHECK(p.time == opt.time);
    }
  }

  TEST_CASE("a 130-layer instance with keep / selective / full options is solved exactly by the DP - B&B and greedy bracket it") {
    layers_t L;
    rng gen(9);
    std::uint64_t keep_all = 0;
    for (int l = 0; l < 130; ++l) {
      const std::uint64_t a = l < 48 ? 64 : 160;
      const double f = (l < 48 ? 10.0 : 32.0) * (0.9 + 0.2 * gen.uniform());
      L.push_back({{a, 0.0}, {a / 4, 0.2 * f}, {a / 16, f}});
      keep_all += a;
    }
    for (std::uint64_t budget : {keep_all / 10, keep_all / 3, keep_all / 2, keep_all}) {
      recompute_options o;
      o.algorithm = recompute_algorithm::dynamic_programming;
      const auto dp = select_recompute(L, budget, o);
      o.algorithm = recompute_algorithm::branch_and_bound;
      o.limits.nodes = 200'000;  // many identical layers: B&B is anytime here, the DP is the exact tool
      const auto bb = select_recompute(L, budget, o);
      o.algorithm = recompute_algorithm::greedy;
      const auto g = select_recompute(L, budget, o);
      check_plan(dp, L, budget);
      check_plan(bb, L, budget);
      check_plan(g, L, budget);
      CHECK(dp.proven_optimal);
      CHECK(bb.time >= dp.time - 1e-9);
      CHECK(bb.lower_bound <= dp.time + 1e-9);
      if (bb.proven_optimal) CHECK(dp.time == doctest::Approx(bb.time).epsilon(1e-12));
      CHECK(g.time >= dp.time - 1e-9);
      CHECK(g.lower_bound <= dp.time + 1e-9);
    }
  }

  TEST_CASE("select_recompute: bad input gets a clear error") {
    auto what = [](auto&& f) {
      try {
        f();
      } catch (const std::exception& e) {
        return std::string(e.what());
      }
      return std::string("no error");
    };
    const layers_t ok{{{10, 0.0}, {2, 1.0}}, {{8, 0.0}, {1, 3.0}}};
    CHECK(what([&] { (void)select_recompute(ok, 2); }).find("memory_budget = 2: below the minimum memory any plan keeps (3)") !=
          std::string::npos);
    CHECK_THROWS_AS((void)select_recompute(ok, 2), infeasible);
    CHECK_THROWS_AS((void)select_recompute(layers_t{}, 10), invalid_input);
    CHECK(what([&] { (void)select_recompute(layers_t{{{1, 0.0}}, {}}, 10); }).find("layers[1].size() = 0") != std::string::npos);
    CHECK(what([&] { (void)select_recompute(layers_t{{{1, 0.0}, {0, -1.0}}}, 10); }).find("layers[0].time[1] = -1: is negative") !=
          std::string::npos);
    CHECK(what([&] { (void)select_recompute(layers_t{{{1, NAN}}}, 10); }).find("layers[0].time[0] = nan: is NaN") != std::string::npos);
    // exactly the minimum is fine
    const auto p = select_recompute(ok, 3);
    CHECK(p.memory == 3);
    CHECK(p.time == 4.0);
  }

  TEST_CASE("1F1B stage budgets: device memory minus static memory and shared by p - s micro-batches") {
    CHECK(in_flight_micro_batches(0, 4, 8) == 4);
    CHECK(in_flight_micro_batches(3, 4, 8) == 1);
    CHECK(in_flight_micro_batches(0, 8, 3) == 3);
    CHECK(in_flight_micro_batches(0, 8, 3, pipeline_schedule::gpipe) == 3);
    CHECK(stage_activation_budget(80, 20, 0, 4, 8) == 15);
    CHECK(stage_activation_budget(80, 20, 3, 4, 8) == 60);
    CHECK_THROWS_WITH_AS((void)stage_activation_budget(80, 90, 2, 4, 8), doctest::Contains("static_memory[2] = 90"), infeasible);
    CHECK_THROWS_AS((void)in_flight_micro_batches(4, 4, 8), invalid_input);
  }
}
