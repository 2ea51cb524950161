#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/pipeline/search.hpp>
#include <fulcrum/recompute/joint.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {
using options_t = std::vector<std::vector<recompute_option>>;
constexpr double inf = std::numeric_limits<double>::infinity();

struct instance {
  std::vector<pipeline_layer> layers;
  options_t options;
  pipeline_search_options opts;
};

instance random_instance(rng& gen) {
  instance in;
  const std::size_t n = 1 + gen.below(8);
  for (std::size_t i = 0; i < n; ++i) {
    pipeline_layer l;
    l.forward = double(1 + gen.below(4));
    l.backward = double(1 + gen.below(8));
    l.parameter_memory = gen.below(6);
    l.activation_memory = gen.below(7);
    in.layers.push_back(l);
    std::vector<recompute_option> o{{l.activation_memory, 0.0}};
    if (gen.below(3)) o.push_back({l.activation_memory / 2, gen.below(2) ? l.forward / 2 : double(gen.below(3))});
    if (gen.below(2)) o.push_back({0, l.forward});
    in.options.push_back(o);
  }
  in.opts.stages = 1 + gen.below(std::min<std::size_t>(4, n));
  in.opts.micro_batches = 1 + gen.below(6);
  in.opts.p2p_time = gen.below(3) == 0 ? 0.5 : 0.0;
  in.opts.device_memory = 4 + gen.below(30);
  return in;
}

// least recompute time of layers [i, j) on stage s by enumeration; inf if nothing fits
double brute_stage(const instance& in, std::size_t s, std::size_t i, std::size_t j) {
  const std::size_t p = in.opts.stages, m = in.opts.micro_batches;
  std::uint64_t params = 0;
  for (std::size_t l = i; l < j; ++l) params += in.layers[l].parameter_memory;
  if (params > in.opts.device_memory) return inf;
  const std::uint64_t k = std::min<std::uint64_t>(m, p - s);
  std::vector<std::size_t> a(j - i, 0);
  double best = inf;
  while (true) {
    std::uint64_t kept = 0;
    double t = 0;
    for (std::size_t l = i; l < j; ++l) kept += in.options[l][a[l - i]].memory, t += in.options[l][a[l - i]].time;
    if (params + k * kept <= in.opts.device_memory) best = std::min(best, t);
    std::size_t x = 0;
    while (x < a.size() && ++a[x] == in.options[i + x].size()) a[x++] = 0;
    if (x == a.size()) break;
  }
  return best;
}

// brute force over every partition; plain bottleneck restricted to <= cap
std::optional<double> brute_joint(const instance& in, double cap) {
  const std::size_t n = in.layers.size(), p = in.opts.stages;
  std::map<std::tuple<std::size_t, std::size_t, std::size_t>, double> memo;
  auto stage = [&](std::size_t s, std::size_t i, std::size_t j) {
    auto key = std::make_tuple(s, i, j);
    auto it = memo.find(key);
    if (it != memo.end()) return it->second;
    return memo[key] = brute_stage(in, s, i, j);
  };
  double best = inf;
  std::vector<std::size_t> b(p + 1, 0);
  b[p] = n;
  auto rec = [&](auto&& self, std::size_t s) -> void {
    if (s + 1 == p) {
      std::vector<double> fw(p), bw(p);
      for (std::size_t t = 0; t < p; ++t) {
        double f = 0, bb = 0;
        for (std::size_t l = b[t]; l < b[t + 1]; ++l) f += in.layers[l].forward, bb += in.layers[l].backward;
        if (f + bb > cap) return;
        const double r = stage(t, b[t], b[t + 1]);
        if (r == inf) return;
        fw[t] = f, bw[t] = bb + r;
      }
      schedule_options so;
      so.micro_batches = in.opts.micro_batches;
      so.p2p_time = in.opts.p2p_time;
      best = std::min(best, simulate_schedule(fw, bw, so).iteration_time);
      return;
    }
    for (std::size_t e = b[s] + 1; e + (p - 1 - s) <= n; ++e) {
      b[s + 1] = e;
      self(self, s + 1);
    }
  };
  rec(rec, 0);
  if (best == inf) return std::nullopt;
  return best;
}

void check_plan(const pipeline_plan& plan, const instance& in) {
  const std::size_t n = in.layers.size(), p = in.opts.stages, m = in.opts.micro_batches;
  const auto& b = plan.partition.boundaries;
  REQUIRE(b.size() == p + 1);
  REQUIRE(b.front() == 0);
  REQUIRE(b.back() == n);
  REQUIRE(plan.recompute_choice.size() == n);
  for (std::size_t s = 0; s < p; ++s) {
    REQUIRE(b[s] < b[s + 1]);  // no empty stage
    std::uint64_t params = 0, kept = 0;
    double f = 0, bb = 0, r = 0;
    for (std::size_t l = b[s]; l < b[s + 1]; ++l) {
      REQUIRE(plan.recompute_choice[l] < in.options[l].size());
      params += in.layers[l].parameter_memory;
      kept += in.options[l][plan.recompute_choice[l]].memory;
      r += in.options[l][plan.recompute_choice[l]].time;
      f += in.layers[l].forward, bb += in.layers[l].backward;
    }
    const std::uint64_t mem = params + std::min<std::uint64_t>(m, p - s) * kept;
    CHECK(mem == plan.stage_memory[s]);
    CHECK(mem <= in.opts.device_memory);
    CHECK(plan.stage_forward[s] == doctest::Approx(f));
    CHECK(plan.stage_backward[s] == doctest::Approx(bb + r));
  }
  schedule_options so;
  so.micro_batches = m;
  so.p2p_time = in.opts.p2p_time;
  CHECK(plan.iteration_time == doctest::Approx(simulate_schedule(plan.stage_forward, plan.stage_backward, so).iteration_time));
  CHECK(plan.lower_bound <= plan.iteration_time * (1 + 1e-12));
}
}  // namespace

TEST_SUITE("recompute") {
  TEST_CASE("joint partition + recompute agrees with brute force on 2000 random small instances") {
    rng gen(61);
    int feasible = 0, infeasible_count = 0;
    for (int trial = 0; trial < 2000; ++trial) {
      const auto in = random_instance(gen);
      const auto opt = brute_joint(in, inf);
      if (!opt) {
        CHECK_THROWS_AS((void)joint_partition_recompute(in.layers, in.options, in.opts), infeasible);
        ++infeasible_count;
        continue;
      }
      const auto plan = joint_partition_recompute(in.layers, in.options, in.opts);
      check_plan(plan, in);
      CHECK(plan.proven_optimal);
      CHECK(plan.iteration_time == doctest::Approx(*opt).epsilon(1e-9));
      ++feasible;
    }
    CHECK(feasible > 1000);
    CHECK(infeasible_count > 50);
  }

  TEST_CASE("balanced partition search agrees with brute force over its tolerance window") {
    rng gen(62);
    for (int trial = 0; trial < 1500; ++trial) {
      auto in = random_instance(gen);
      in.opts.bottleneck_tolerance = double(gen.below(4)) * 0.1;
      if (gen.below(2)) in.opts.device_memory = std::numeric_limits<std::uint64_t>::max();
      std::vector<double> plain;
      for (const auto& l : in.layers) plain.push_back(l.forward + l.backward);
      const double bstar = partition_stages(plain, in.opts.stages).bottleneck;
      const auto opt = brute_joint(in, bstar * (1 + in.opts.bottleneck_tolerance) * (1 + 1e-12));
      if (!opt) {
        CHECK_THROWS_AS((void)search_partition(in.layers, in.options, in.opts), infeasible);
        continue;
      }
      const auto plan = search_partition(in.layers, in.options, in.opts);
      check_plan(plan, in);
      CHECK(plan.proven_optimal);
      CHECK(plan.iteration_time == doctest::Approx(*opt).epsilon(1e-9));
    }
  }

  TEST_CASE("joint search on vlm130j-like layers: never slower than balanced search or a uniform split") {
    const auto prof = testing::pipeline_profile("vlm130j");
    std::vector<pipeline_layer> layers;
    options_t options;
    for (std::size_t i = 0; i < prof.cost.size(); ++i) {
      const double f = prof.cost[i] / 3.0;
      const std::uint64_t act = prof.activation_memory[i];
      layers.push_back({f, 2.0 * f, act * 12, act});
      options.push_back({{act, 0.0}, {act / 4, 0.2 * f}, {act / 16, f}});
    }
    pipeline_search_options o;
    o.stages = 8;
    o.micro_batches = 16;
    o.device_memory = 36000;
    const auto joint = joint_partition_recompute(layers, options, o);
    CHECK(joint.proven_optimal);
    const auto balanced = search_partition(layers, options, o);
    const auto uniform = evaluate_pipeline(layers, options, uniform_boundaries(layers.size(), 8), o);
    CHECK(joint.iteration_time <= balanced.iteration_time + 1e-9);
    CHECK(joint.iteration_time <= uniform.iteration_time + 1e-9);
    instance in{layers, options, o};
    check_plan(joint, in);
    check_plan(balanced, in);
  }

  TEST_CASE("joint search: bad input names field and value") {
    std::vector<pipeline_layer> layers{{1, 2, 1, 1}, {1, 2, 1, 1}};
    options_t options{{{1, 0.0}}, {{1, 0.0}}};
    pipeline_search_options o;
    o.stages = 3;
    CHECK_THROWS_WITH_AS((void)joint_partition_recompute(layers, options, o), doctest::Contains("stages = 3"), invalid_input);
    o.stages = 0;
    CHECK_THROWS_WITH_AS((void)joint_partition_recompute(layers, options, o), doctest::Contains("stages = 0"), invalid_input);
    o.stages = 2;
    o.micro_batches = 0;
    CHECK_THROWS_WITH_AS((void)joint_partition_recompute(layers, options, o), doctest::Contains("micro_batches = 0"), invalid_input);
    o.micro_batches = 4;
    CHECK_THROWS_WITH_AS((void)joint_partition_recompute(layers, options_t{{{1, 0.0}}}, o),
                         doctest::Contains("layer_options.size() = 1"), invalid_input);
    layers[1].backward = -1;
    CHECK_THROWS_WITH_AS((void)joint_partition_recompute(layers, options, o), doctest::Contains("layers.backward[1] = -1"), invalid_input);
    layers[1].backward = 2;
    o.device_memory = 2;
    CHECK_THROWS_WITH_AS((void)joint_partition_recompute(layers, options, o), doctest::Contains("device_memory = 2"), infeasible);
    CHECK_THROWS_WITH_AS((void)evaluate_pipeline(layers, options, std::vector<std::size_t>{0, 1, 2}, o),
                         doctest::Contains("stage = 0: layers [0, 1)"), infeasible);
  }

  // Issue 15: large instances (thousands of layers, a recompute frontier of thousands of states per
  // stage) stay within the set-up budget: boundaries on a stride, frontiers thinned. The plan must
  // still fit and price its choices exactly, and the bound must stay below any partition's time.
  TEST_CASE("search_partition with recompute options on 2048 layers: bounded - valid - sound bound") {
    const std::size_t n = 2048;
    std::vector<pipeline_layer> layers(n);
    std::vector<std::vector<recompute_option>> options;
    std::uint64_t params = 0, act = 0;
    rng gen(66);
    for (std::size_t i = 0; i < n; ++i) {
      auto& l = layers[i];
      const double t = double(1 + gen.below(1000)) / 7.0;
      l.forward = t, l.backward = 2 * t;
      l.activation_memory = 100 + gen.below(50);
      l.parameter_memory = 1000 + gen.below(300);
      params += l.parameter_memory, act += l.activation_memory;
      options.push_back({{l.activation_memory, 0.0}, {l.activation_memory / 3, 0.3 * t}, {0, t}});
    }
    pipeline_search_options o;
    o.stages = 8;
    o.micro_batches = 16;
    o.p2p_time = 0.5;
    o.device_memory = params / 8 * 11 / 10 + act / 8 * 3;  // forces recompute in the early stages
    const auto plan = search_partition(layers, options, o);
    CHECK_FALSE(plan.proven_optimal);
    CHECK(plan.nodes <= default_pipeline_search_nodes + 1);
    REQUIRE(plan.partition.boundaries.size() == o.stages + 1);
    REQUIRE(plan.recompute_choice.size() == n);
    for (std::size_t s = 0; s < o.stages; ++s) {
      std::uint64_t p_mem = 0, kept = 0;
      double rec = 0;
      for (std::size_t l = plan.partition.boundaries[s]; l < plan.partition.boundaries[s + 1]; ++l) {
        REQUIRE(plan.recompute_choice[l] < options[l].size());
        const auto& opt = options[l][plan.recompute_choice[l]];
        p_mem += layers[l].parameter_memory, kept += opt.memory, rec += opt.time;
      }
      const std::uint64_t mem = p_mem + std::min<std::uint64_t>(o.micro_batches, o.stages - s) * kept;
      CHECK(mem == plan.stage_memory[s]);
      CHECK(mem <= o.device_memory);
      CHECK(rec == doctest::Approx(plan.stage_recompute[s]).epsilon(1e-9));
    }
    CHECK(plan.lower_bound > 0.0);
    CHECK(plan.lower_bound <= plan.iteration_time);
    // any partition is at least the optimum, so at least the bound
    std::vector<std::size_t> even(o.stages + 1);
    for (std::size_t s = 0; s <= o.stages; ++s) even[s] = s * n / o.stages;
    CHECK(plan.lower_bound <= evaluate_pipeline(layers, options, even, o).iteration_time);
    const auto joint = joint_partition_recompute(layers, options, o);
    CHECK(joint.lower_bound <= joint.iteration_time);
    CHECK(joint.iteration_time <= evaluate_pipeline(layers, options, even, o).iteration_time * (1 + 1e-9));
  }
}
