#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/pipeline/partition.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// Independent brute force: every composition of n layers into p non-empty stages, stage cost
// computed by direct summation. Returns nullopt when no composition meets the memory caps.
std::optional<double> brute_force(const std::vector<double>& c, std::size_t p, const pipeline_options& o) {
  const std::size_t n = c.size();
  double best = inf;
  bool any = false;
  std::vector<std::size_t> b(p + 1);
  // recursive enumeration of boundaries
  auto rec = [&](auto&& self, std::size_t s, std::size_t start, double worst) -> void {
    if (s + 1 == p) {
      double sum = 0;
      std::uint64_t mem = 0;
      for (std::size_t i = start; i < n; ++i) sum += c[i], mem += o.layer_memory.empty() ? 0 : o.layer_memory[i];
      if (!o.stage_memory_cap.empty() && mem > o.stage_memory_cap[s]) return;
      const double cost = (o.stage_fixed_cost.empty() ? 0.0 : o.stage_fixed_cost[s]) +
                          sum / (o.stage_speed.empty() ? 1.0 : o.stage_speed[s]);
      any = true;
      best = std::min(best, std::max(worst, cost));
      return;
    }
    double sum = 0;
    std::uint64_t mem = 0;
    for (std::size_t end = start + 1; end + (p - 1 - s) <= n; ++end) {
      sum += c[end - 1];
      mem += o.layer_memory.empty() ? 0 : o.layer_memory[end - 1];
      if (!o.stage_memory_cap.empty() && mem > o.stage_memory_cap[s]) break;
      const double cost = (o.stage_fixed_cost.empty() ? 0.0 : o.stage_fixed_cost[s]) +
                          sum / (o.stage_speed.empty() ? 1.0 : o.stage_speed[s]);
      self(self, s + 1, end, std::max(worst, cost));
    }
  };
  rec(rec, 0, 0, 0.0);
  if (!any) return std::nullopt;
  return best;
}

// Structural check: p+1 boundaries from 0 to n, strictly increasing (no empty stage), memory caps
// met, reported stage costs and bottleneck equal the recomputed ones.
void check_valid(const stage_partition& r, const std::vector<double>& c, std::size_t p, const pipeline_options& o) {
  REQUIRE(r.boundaries.size() == p + 1);
  REQUIRE(r.boundaries.front() == 0);
  REQUIRE(r.boundaries.back() == c.size());
  REQUIRE(r.stage_costs.size() == p);
  double worst = 0;
  for (std::size_t s = 0; s < p; ++s) {
    REQUIRE(r.boundaries[s] < r.boundaries[s + 1]);  // never an empty stage
    double sum = 0;
    std::uint64_t mem = 0;
    for (std::size_t i = r.boundaries[s]; i < r.boundaries[s + 1]; ++i)
      sum += c[i], mem += o.layer_memory.empty() ? 0 : o.layer_memory[i];
    if (!o.stage_memory_cap.empty()) CHECK(mem <= o.stage_memory_cap[s]);
    const double cost = (o.stage_fixed_cost.empty() ? 0.0 : o.stage_fixed_cost[s]) +
                        sum / (o.stage_speed.empty() ? 1.0 : o.stage_speed[s]);
    CHECK(r.stage_costs[s] == doctest::Approx(cost).epsilon(1e-12));
    worst = std::max(worst, cost);
  }
  CHECK(r.bottleneck == doctest::Approx(worst).epsilon(1e-12));
}

const stage_algorithm all_algorithms[] = {stage_algorithm::automatic, stage_algorithm::nicol,
                                              stage_algorithm::exact_bisection,
                                              stage_algorithm::dynamic_programming};

}  // namespace

TEST_SUITE("pipeline") {
  TEST_CASE("partition_stages agrees with brute force on 10000 random homogeneous chains (n <= 12 and p <= 5)") {
    rng gen(6);
    int checked = 0;
    for (int trial = 0; trial < 10000; ++trial) {
      const std::size_t n = 1 + gen.below(12);
      const std::size_t p = 1 + gen.below(std::min<std::size_t>(5, n));
      std::vector<double> c(n);
      const bool fractional = trial % 4 == 3;
      for (auto& x : c) x = fractional ? gen.uniform() * 10.0 : static_cast<double>(gen.below(trial % 3 == 0 ? 3 : 30));
      pipeline_options o;
      const double opt = *brute_force(c, p, o);
      for (auto alg : all_algorithms) {
        o.algorithm = alg;
        const auto r = partition_stages(c, p, o);
        check_valid(r, c, p, o);
        CHECK(r.proven_optimal);
        if (fractional) CHECK(r.bottleneck == doctest::Approx(opt).epsilon(1e-12));
        else CHECK(r.bottleneck == opt);
        ++checked;
      }
    }
    CHECK(checked == 40000);
  }

  TEST_CASE("partition_stages agrees with brute force on 10000 random heterogeneous chains (speeds and fixed costs and caps)") {
    rng gen(66);
    int infeasible_cases = 0;
    for (int trial = 0; trial < 10000; ++trial) {
      const std::size_t n = 1 + gen.below(12);
      const std::size_t p = 1 + gen.below(std::min<std::size_t>(5, n));
      std::vector<double> c(n);
      for (auto& x : c) x = static_cast<double>(gen.below(20));
      pipeline_options o;
      const double speeds[] = {0.5, 1.0, 2.0, 4.0};
      if (gen.below(2)) for (std::size_t s = 0; s < p; ++s) o.stage_speed.push_back(speeds[gen.below(4)]);
      if (gen.below(2)) for (std::size_t s = 0; s < p; ++s) o.stage_fixed_cost.push_back(gen.below(3) == 0 ? double(gen.below(30)) : 0.0);
      if (gen.below(2)) {
        for (std::size_t i = 0; i < n; ++i) o.layer_memory.push_back(gen.below(10));
        for (std::size_t s = 0; s < p; ++s) o.stage_memory_cap.push_back(5 + gen.below(40));
      }
      const auto opt = brute_force(c, p, o);
      for (auto alg : {stage_algorithm::automatic, stage_algorithm::exact_bisection,
                       stage_algorithm::dynamic_programming}) {
        o.algorithm = alg;
        if (!opt) {
          CHECK_THROWS_AS((void)partition_stages(c, p, o), infeasible);
          continue;
        }
        const auto r = partition_stages(c, p, o);
        check_valid(r, c, p, o);
        CHECK(r.proven_optimal);
        CHECK(r.bottleneck == doctest::Approx(*opt).epsilon(1e-12));
      }
      if (!opt) ++infeasible_cases;
    }
    CHECK(infeasible_cases > 100);  // the generator does exercise infeasible caps
  }

  TEST_CASE("a slow middle stage defeats a greedy probe but not the exact search") {
    // Greedy stage 0 would take {1, 1}; stage 1 (speed 0.5) then has to take 5 -> 10 > 6.
    const std::vector<double> c{1, 1, 5, 1};
    pipeline_options o;
    o.stage_speed = {1.0, 0.5, 1.0};
    const auto r = partition_stages(c, 3, o);
    CHECK(r.bottleneck == 6.0);
    CHECK(r.boundaries == std::vector<std::size_t>{0, 1, 2, 4});
    o.algorithm = stage_algorithm::nicol;
    CHECK_THROWS_AS((void)partition_stages(c, 3, o), invalid_input);
  }

  TEST_CASE("reference profiles: all exact algorithms agree and no empty stage") {
    for (const char* name : {"vlm130", "vlm130j", "vlm520", "vlm1040"}) {
      const auto prof = testing::pipeline_profile(name);
      for (std::size_t p : {1, 2, 4, 8, 16}) {
        if (std::string(name) == "vlm1040" && p < 8) continue;  // keep the O(n^2 p) DP short
        pipeline_options o;
        o.algorithm = stage_algorithm::dynamic_programming;
        const auto ref = partition_stages(prof.cost, p, o);
        for (auto alg : all_algorithms) {
          o.algorithm = alg;
          const auto r = partition_stages(prof.cost, p, o);
          check_valid(r, prof.cost, p, o);
          CHECK(r.bottleneck == ref.bottleneck);
        }
        // the uniform split is never better
        const auto u = evaluate_partition(prof.cost, uniform_boundaries(prof.cost.size(), p));
        CHECK(u.bottleneck >= ref.bottleneck);
      }
    }
  }

  TEST_CASE("heterogeneous reference: embedding and head as fixed costs and memory caps") {
    const auto prof = testing::pipeline_profile("vlm130j");
    pipeline_options o;
    o.stage_fixed_cost.assign(8, 0.0);
    o.stage_fixed_cost.front() = 500;
    o.stage_fixed_cost.back() = 900;
    o.layer_memory = prof.activation_memory;
    o.stage_memory_cap.assign(8, 3000);
    o.algorithm = stage_algorithm::dynamic_programming;
    const auto ref = partition_stages(prof.cost, 8, o);
    o.algorithm = stage_algorithm::automatic;
    const auto r = partition_stages(prof.cost, 8, o);
    check_valid(r, prof.cost, 8, o);
    CHECK(r.bottleneck == ref.bottleneck);
    // a cap too small for the whole model names a stage
    o.stage_memory_cap.assign(8, 1500);
    try {
      (void)partition_stages(prof.cost, 8, o);
      FAIL("expected infeasible");
    } catch (const infeasible& e) {
      CHECK(std::string(e.what()).find("stage_memory_cap[") != std::string::npos);
    }
  }

  TEST_CASE("partition_stages: bad input gets a clear error naming field and value") {
    const std::vector<double> c{1, 2, 3};
    auto message = [](auto&& f) {
      try {
        f();
      } catch (const invalid_input& e) {
        return std::string(e.what());
      }
      return std::string("no error");
    };
    CHECK(message([&] { (void)partition_stages(c, 0); }).find("stages = 0") != std::string::npos);
    CHECK(message([&] { (void)partition_stages(c, 4); }).find("stages = 4: more stages than layers (3)") != std::string::npos);
    CHECK(message([&] { (void)partition_stages(std::vector<double>{}, 1); }).find("layers") != std::string::npos);
    CHECK(message([&] { (void)partition_stages(std::vector<double>{1, -2, 3}, 2); }).find("layer_costs[1] = -2") != std::string::npos);
    CHECK(message([&] { (void)partition_stages(std::vector<double>{1, NAN, 3}, 2); }).find("layer_costs[1] = nan: is NaN") != std::string::npos);
    CHECK(message([&] { (void)partition_stages(std::vector<int>{1, -2, 3}, 2); }).find("layer_costs[1] = -2") != std::string::npos);
    pipeline_options o;
    o.stage_speed = {1.0};
    CHECK(message([&] { (void)partition_stages(c, 2, o); }).find("stage_speed.size()") != std::string::npos);
    o.stage_speed = {1.0, 0.0};
    CHECK(message([&] { (void)partition_stages(c, 2, o); }).find("stage_speed[1] = 0: must be positive") != std::string::npos);
    o = {};
    o.stage_fixed_cost = {1.0, -1.0};
    CHECK(message([&] { (void)partition_stages(c, 2, o); }).find("stage_fixed_cost[1] = -1") != std::string::npos);
    o = {};
    o.stage_memory_cap = {1, 2};
    CHECK(message([&] { (void)partition_stages(c, 2, o); }).find("layer_memory") != std::string::npos);
    CHECK_THROWS_AS((void)uniform_boundaries(3, 4), invalid_input);
    CHECK_THROWS_AS((void)evaluate_partition(c, std::vector<std::size_t>{0, 2, 2, 3}), invalid_input);
  }

  TEST_CASE("uniform_boundaries and evaluate_partition") {
    CHECK(uniform_boundaries(10, 3) == std::vector<std::size_t>{0, 4, 7, 10});
    const std::vector<double> c{1, 2, 3, 4};
    const auto e = evaluate_partition(c, std::vector<std::size_t>{0, 3, 4});
    CHECK(e.bottleneck == 6.0);
    CHECK(e.stage_costs == std::vector<double>{6.0, 4.0});
    CHECK_FALSE(e.proven_optimal);
  }

  TEST_CASE("the pipeline algorithm enum is stage_algorithm - not partition_algorithm next to the balance result partition") {
    static_assert(std::is_same_v<decltype(pipeline_options{}.algorithm), stage_algorithm>);
    std::vector<double> c{3, 1, 4, 1, 5, 9, 2, 6};
    for (auto alg : {stage_algorithm::automatic, stage_algorithm::nicol, stage_algorithm::exact_bisection,
                     stage_algorithm::dynamic_programming}) {
      pipeline_options o;
      o.algorithm = alg;
      CHECK(partition_stages(c, 3, o).bottleneck == 14.0);
    }
  }

  TEST_CASE("partition_stages is deterministic and takes projections") {
    struct layer { double f, b; };
    const std::vector<layer> ls{{1, 2}, {2, 4}, {1, 1}, {3, 3}, {2, 2}};
    const auto a = partition_stages(ls, 2, {}, [](const layer& l) { return l.f + l.b; });
    const auto b = partition_stages(std::vector<double>{3, 6, 2, 6, 4}, 2);
    CHECK(a.boundaries == b.boundaries);
    CHECK(a.bottleneck == 11.0);
  }
}
