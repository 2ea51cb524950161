// Property tests for pipeline planning (reliability, issue 11): partition_stages under every
// algorithm and select_recompute under every algorithm, on thousands of random instances
// including extremes (p == n, p == 1, zero-cost layers, one huge layer, costs spanning 2^-60 ..
// 2^140, memories near 2^64, sums that overflow), checked from scratch against brute force and
// against each other; the schedule simulator against its closed forms; determinism across runs
// and threads; bad input rejected with the field named.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <thread>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/pipeline/partition.hpp>
#include <fulcrum/pipeline/schedule.hpp>
#include <fulcrum/recompute/select.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {

using u128 = unsigned __int128;

constexpr std::array all_partition_algorithms{stage_algorithm::automatic, stage_algorithm::nicol,
                                              stage_algorithm::exact_bisection,
                                              stage_algorithm::dynamic_programming};
constexpr std::array all_recompute_algorithms{recompute_algorithm::automatic, recompute_algorithm::dynamic_programming,
                                              recompute_algorithm::branch_and_bound, recompute_algorithm::greedy};

/// The documented stage cost, fixed[s] + (P[j] - P[i]) / speed[s] with running prefix sums P.
struct spec {
  std::vector<double> prefix, speed, fixed;
  std::vector<std::uint64_t> mem, cap;
  spec(const std::vector<double>& costs, std::size_t p, const pipeline_options& o) {
    prefix.assign(costs.size() + 1, 0.0);
    for (std::size_t i = 0; i < costs.size(); ++i) prefix[i + 1] = prefix[i] + costs[i];
    speed = o.stage_speed.empty() ? std::vector<double>(p, 1.0) : o.stage_speed;
    fixed = o.stage_fixed_cost.empty() ? std::vector<double>(p, 0.0) : o.stage_fixed_cost;
    if (!o.stage_memory_cap.empty()) mem = o.layer_memory, cap = o.stage_memory_cap;
  }
  double cost(std::size_t s, std::size_t i, std::size_t j) const { return fixed[s] + (prefix[j] - prefix[i]) / speed[s]; }
  bool fits(std::size_t s, std::size_t i, std::size_t j) const {
    if (cap.empty()) return true;
    u128 m = 0;
    for (std::size_t l = i; l < j; ++l) m += mem[l];
    return m <= cap[s];
  }
  double brute_force(std::size_t n, std::size_t p) const {
    double best = std::numeric_limits<double>::infinity();
    std::function<void(std::size_t, std::size_t, double)> rec = [&](std::size_t s, std::size_t i, double worst) {
      if (s + 1 == p) {
        if (fits(s, i, n)) best = std::min(best, std::max(worst, cost(s, i, n)));
        return;
      }
      for (std::size_t j = i + 1; j + (p - s - 1) <= n; ++j)
        if (fits(s, i, j)) rec(s + 1, j, std::max(worst, cost(s, i, j)));
    };
    rec(0, 0, 0.0);
    return best;
  }
};

void check_partition(const stage_partition& r, const spec& sp, std::size_t n, std::size_t p) {
  REQUIRE(r.boundaries.size() == p + 1);
  CHECK(r.boundaries.front() == 0);
  CHECK(r.boundaries.back() == n);
  REQUIRE(r.stage_costs.size() == p);
  double worst = 0;
  for (std::size_t s = 0; s < p; ++s) {
    REQUIRE(r.boundaries[s] < r.boundaries[s + 1]);  // no empty stage
    const double c = sp.cost(s, r.boundaries[s], r.boundaries[s + 1]);
    CHECK(c == r.stage_costs[s]);
    CHECK(sp.fits(s, r.boundaries[s], r.boundaries[s + 1]));
    worst = std::max(worst, c);
  }
  CHECK(worst == r.bottleneck);
  CHECK(r.proven_optimal);
}

double draw_cost(rng& gen, int family, std::size_t i) {
  switch (family) {
    case 0: return static_cast<double>(1 + gen.below(100));
    case 1: return 7.0;
    case 2: return gen.below(3) == 0 ? 0.0 : static_cast<double>(gen.below(10));
    case 3: return i == 0 ? 1e6 : static_cast<double>(1 + gen.below(10));
    default: return std::ldexp(1.0 + gen.uniform(), static_cast<int>(gen.below(200)) - 60);  // 2^-60 .. 2^140
  }
}

}  // namespace

TEST_SUITE("properties") {
  TEST_CASE("partition_stages: every algorithm is exact - valid and agrees with brute force and with each other") {
    rng gen(4242);
    std::size_t instances = 0, plans = 0;
    for (int trial = 0; trial < 3000; ++trial) {
      const int family = static_cast<int>(gen.below(5));
      const bool large = trial % 10 == 0;
      const std::size_t n = 1 + gen.below(large ? 300 : 11);
      const std::size_t p = trial % 17 == 0 ? n : 1 + gen.below(std::min<std::size_t>(n, 8));
      std::vector<double> costs(n);
      for (std::size_t i = 0; i < n; ++i) costs[i] = draw_cost(gen, family, i);
      pipeline_options opts;
      const int shape = static_cast<int>(gen.below(4));  // 0 plain, 1 speeds + fixed, 2 memory caps, 3 all
      if (shape & 1) {
        for (std::size_t s = 0; s < p; ++s) {
          opts.stage_speed.push_back(0.5 + static_cast<double>(gen.below(4)) / 2);
          opts.stage_fixed_cost.push_back(static_cast<double>(gen.below(3)) * (s == 0 || s + 1 == p ? 5 : 0));
        }
      }
      if (shape & 2) {
        std::uint64_t total = 0;
        for (std::size_t i = 0; i < n; ++i) opts.layer_memory.push_back(gen.below(20)), total += opts.layer_memory.back();
        for (std::size_t s = 0; s < p; ++s) opts.stage_memory_cap.push_back(total / p + gen.below(20));
      }
      const spec sp(costs, p, opts);
      bool homogeneous = true;
      for (std::size_t s = 1; s < p; ++s)
        homogeneous = homogeneous && sp.speed[s] == sp.speed[0] && sp.fixed[s] == sp.fixed[0] &&
                      (sp.cap.empty() || sp.cap[s] == sp.cap[0]);
      const double optimum = n <= 12 ? sp.brute_force(n, p) : 0.0;
      ++instances;
      double agreed = -1;
      for (auto a : all_partition_algorithms) {
        CAPTURE(trial);
        CAPTURE(static_cast<int>(a));
        auto o = opts;
        o.algorithm = a;
        if (a == stage_algorithm::nicol && !homogeneous) {
          CHECK_THROWS_AS((void)partition_stages(costs, p, o), invalid_input);  // heterogeneous: documented refusal
          continue;
        }
        if (n <= 12 && std::isinf(optimum)) {
          CHECK_THROWS_WITH_AS((void)partition_stages(costs, p, o), doctest::Contains("stage_memory_cap"), infeasible);
          continue;
        }
        stage_partition r;
        try {
          r = partition_stages(costs, p, o);
        } catch (const infeasible&) {
          CHECK(!opts.stage_memory_cap.empty());  // only caps make an instance infeasible (n > 12: no oracle)
          continue;
        }
        check_partition(r, sp, n, p);
        if (n <= 12) CHECK(r.bottleneck == optimum);
        if (agreed < 0) agreed = r.bottleneck;
        CHECK(r.bottleneck == agreed);
        ++plans;
      }
    }
    MESSAGE("partition instances: " << instances << ", plans checked: " << plans);
  }

  TEST_CASE("partition_stages extremes: p == n - p == 1 - overflowing sums and memories - bad input") {
    const std::vector<double> costs{5, 0, 3, 0, 0, 9};
    const auto all = partition_stages(costs, costs.size());
    CHECK(all.bottleneck == 9);
    CHECK(partition_stages(costs, 1).bottleneck == 17);
    // Finite costs whose sum is infinite: a clear error naming the layer, not an infinite plan.
    CHECK_THROWS_WITH_AS((void)partition_stages(std::vector<double>{1e308, 1e308}, 2), doctest::Contains("layer_costs"),
                         invalid_input);
    pipeline_options o;
    o.layer_memory = {std::numeric_limits<std::uint64_t>::max(), 2};
    o.stage_memory_cap = {std::numeric_limits<std::uint64_t>::max(), std::numeric_limits<std::uint64_t>::max()};
    CHECK_THROWS_WITH_AS((void)partition_stages(std::vector<double>{1, 1}, 2, o), doctest::Contains("layer_memory"),
                         invalid_input);
    CHECK_THROWS_WITH_AS((void)partition_stages(costs, 0), doctest::Contains("stages"), invalid_input);
    CHECK_THROWS_WITH_AS((void)partition_stages(costs, 7), doctest::Contains("stages"), invalid_input);
    CHECK_THROWS_WITH_AS((void)partition_stages(std::vector<double>{}, 1), doctest::Contains("layers"), invalid_input);
    CHECK_THROWS_WITH_AS((void)partition_stages(std::vector<double>{1, std::nan("")}, 1), doctest::Contains("[1]"),
                         invalid_input);
    CHECK_THROWS_WITH_AS((void)partition_stages(std::vector<int>{1, -2}, 1), doctest::Contains("[1]"), invalid_input);
    pipeline_options speeds;
    speeds.stage_speed = {1.0, 0.0};
    CHECK_THROWS_WITH_AS((void)partition_stages(costs, 2, speeds), doctest::Contains("stage_speed[1]"), invalid_input);
  }

  TEST_CASE("select_recompute: every algorithm is feasible - bounded and (when it claims it) optimal against brute force") {
    rng gen(99);
    std::size_t instances = 0, plans = 0;
    for (int trial = 0; trial < 2500; ++trial) {
      const std::size_t layers = 1 + gen.below(7);
      const bool huge = trial % 9 == 0;  // memories near 2^64 / layers: sums overflow 64 bits in naive code
      std::vector<std::vector<recompute_option>> options(layers);
      std::size_t combinations = 1;
      u128 min_total = 0, max_total = 0;
      for (auto& layer : options) {
        layer.resize(1 + gen.below(4));
        std::uint64_t lo = std::numeric_limits<std::uint64_t>::max(), hi = 0;
        for (auto& o : layer) {
          o.memory = huge ? std::numeric_limits<std::uint64_t>::max() / 8 - gen.below(1000) : gen.below(64);
          o.time = gen.below(4) == 0 ? 0.0 : static_cast<double>(gen.below(50)) / 4;
          lo = std::min(lo, o.memory), hi = std::max(hi, o.memory);
        }
        min_total += lo, max_total += hi;
        combinations *= layer.size();
      }
      if (min_total > std::numeric_limits<std::uint64_t>::max()) continue;
      const u128 span = max_total - min_total;
      const u128 b = min_total + (span == 0 ? 0 : static_cast<u128>(gen.below(static_cast<std::uint64_t>(std::min<u128>(span, 1u << 30)) + 1)));
      const std::uint64_t budget = b > std::numeric_limits<std::uint64_t>::max() ? std::numeric_limits<std::uint64_t>::max()
                                                                              : static_cast<std::uint64_t>(b);
      double best = std::numeric_limits<double>::infinity();
      std::vector<std::size_t> pick(layers);
      for (std::size_t c = 0; c < combinations; ++c) {
        std::size_t rest = c;
        u128 mem = 0;
        double t = 0;
        for (std::size_t l = 0; l < layers; ++l) {
          pick[l] = rest % options[l].size();
          rest /= options[l].size();
          mem += options[l][pick[l]].memory;
          t += options[l][pick[l]].time;
        }
        if (mem <= budget) best = std::min(best, t);
      }
      ++instances;
      for (auto a : all_recompute_algorithms) {
        CAPTURE(trial);
        CAPTURE(static_cast<int>(a));
        recompute_options ro;
        ro.algorithm = a;
        ro.limits.nodes = trial % 3 == 0 ? 3 : 100000;  // tiny limits exercise the anytime / fallback paths
        const auto plan = select_recompute(options, budget, ro);
        REQUIRE(plan.choice.size() == layers);
        u128 mem = 0;
        double t = 0;
        for (std::size_t l = 0; l < layers; ++l) {
          REQUIRE(plan.choice[l] < options[l].size());
          mem += options[l][plan.choice[l]].memory;
          t += options[l][plan.choice[l]].time;
        }
        CHECK(mem <= budget);
        CHECK(mem == plan.memory);
        CHECK(t == plan.time);
        CHECK(plan.lower_bound <= best + 1e-9);
        CHECK(plan.time + 1e-9 >= plan.lower_bound);
        if (plan.proven_optimal) CHECK(plan.time == doctest::Approx(best));
        if (a != recompute_algorithm::greedy && ro.limits.nodes == 100000) CHECK(plan.proven_optimal);
        ++plans;
      }
    }
    MESSAGE("recompute instances: " << instances << ", plans checked: " << plans);
  }

  TEST_CASE("select_recompute bad input: named errors - nothing partial") {
    using layer = std::vector<recompute_option>;
    for (auto a : all_recompute_algorithms) {
      recompute_options ro;
      ro.algorithm = a;
      CHECK_THROWS_WITH_AS((void)select_recompute(std::vector<layer>{}, 10, ro), doctest::Contains("layers"), invalid_input);
      CHECK_THROWS_WITH_AS((void)select_recompute(std::vector<layer>{{{1, 0}}, {}}, 10, ro), doctest::Contains("layers[1]"),
                           invalid_input);
      CHECK_THROWS_WITH_AS((void)select_recompute(std::vector<layer>{{{1, std::nan("")}}}, 10, ro),
                           doctest::Contains("layers[0]"), invalid_input);
      CHECK_THROWS_WITH_AS((void)select_recompute(std::vector<layer>{{{1, -1.0}}}, 10, ro), doctest::Contains("layers[0]"),
                           invalid_input);
      CHECK_THROWS_WITH_AS((void)select_recompute(std::vector<layer>{{{8, 0}, {6, 1}}, {{5, 0}}}, 10, ro),
                           doctest::Contains("memory_budget"), infeasible);
      const std::uint64_t big = std::numeric_limits<std::uint64_t>::max() - 1;
      CHECK_THROWS_AS((void)select_recompute(std::vector<layer>{{{big, 0}}, {{big, 0}}}, big, ro), invalid_input);
      const auto zero = select_recompute(std::vector<layer>{{{0, 0}, {0, 1}}}, 0, ro);
      CHECK(zero.time == 0);
      CHECK(zero.choice == std::vector<std::size_t>{0});
    }
  }

  TEST_CASE("simulate_schedule reproduces the closed forms on uniform stages") {
    for (std::size_t p = 1; p <= 6; ++p)
      for (std::size_t m = 1; m <= 12; ++m) {
        const std::vector<double> f(p, 3.0), b(p, 5.0);
        for (auto kind : {pipeline_schedule::gpipe, pipeline_schedule::one_f_one_b}) {
          schedule_options o;
          o.kind = kind;
          o.micro_batches = m;
          const auto r = simulate_schedule(f, b, o);
          CHECK(r.iteration_time == doctest::Approx(static_cast<double>(m + p - 1) * 8.0));
          for (std::size_t d = 0; d < p; ++d)
            CHECK(r.peak_in_flight[d] == (kind == pipeline_schedule::gpipe ? m : std::min(m, p - d)));
        }
        for (std::size_t v = 2; v <= 3; ++v) {
          if (m % p != 0) continue;
          schedule_options o;
          o.kind = pipeline_schedule::interleaved_1f1b;
          o.micro_batches = m;
          o.virtual_stages = v;
          const std::vector<double> fv(p * v, 3.0 / static_cast<double>(v)), bv(p * v, 5.0 / static_cast<double>(v));
          const auto r = simulate_schedule(fv, bv, o);
          CHECK(r.iteration_time ==
                doctest::Approx((static_cast<double>(m) + static_cast<double>(p - 1) / static_cast<double>(v)) * 8.0));
        }
      }
  }

  TEST_CASE("same input - same plan: partition_stages and select_recompute across runs and threads") {
    const auto profile = testing::pipeline_profile("vlm1040");
    const auto small = testing::pipeline_profile("vlm130j");
    std::vector<std::vector<recompute_option>> options;
    for (std::size_t l = 0; l < small.cost.size(); ++l)
      options.push_back({{small.activation_memory[l], 0.0},
                         {small.activation_memory[l] / 4, small.cost[l] * 0.1},
                         {small.activation_memory[l] / 16, small.cost[l] * 0.33}});
    std::uint64_t full = 0;
    for (auto m : small.activation_memory) full += m;
    for (auto a : all_partition_algorithms) {
      if (a == stage_algorithm::dynamic_programming) continue;  // O(n^2 p) on 1040 layers: covered above
      pipeline_options o;
      o.algorithm = a;
      const auto ref = partition_stages(profile.cost, 16, o);
      std::array<std::vector<std::size_t>, 3> seen;
      std::vector<std::thread> threads;
      for (std::size_t t = 0; t < seen.size(); ++t)
        threads.emplace_back([&, t] { seen[t] = partition_stages(profile.cost, 16, o).boundaries; });
      for (auto& t : threads) t.join();
      for (const auto& s : seen) CHECK(s == ref.boundaries);
    }
    for (auto a : all_recompute_algorithms) {
      recompute_options ro;
      ro.algorithm = a;
      ro.limits.nodes = 200000;
      const auto ref = select_recompute(options, full / 3, ro);
      std::array<std::vector<std::size_t>, 3> seen;
      std::vector<std::thread> threads;
      for (std::size_t t = 0; t < seen.size(); ++t)
        threads.emplace_back([&, t] { seen[t] = select_recompute(options, full / 3, ro).choice; });
      for (auto& t : threads) t.join();
      for (const auto& s : seen) CHECK(s == ref.choice);
    }
  }
}
