#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/pipeline/search.hpp>  // alone: the plain search needs nothing from recompute/

using namespace fulcrum;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();

// Brute force: every partition whose plain bottleneck is <= cap and whose stages keep all their
// activations within the device memory (params + min(m, p - s) x activations), simulated.
std::optional<double> brute_plain(const std::vector<pipeline_layer>& layers, const pipeline_search_options& o,
                                  double cap) {
  const std::size_t n = layers.size(), p = o.stages, m = o.micro_batches;
  std::vector<std::size_t> b(p + 1, 0);
  b[p] = n;
  double best = inf;
  auto rec = [&](auto&& self, std::size_t s) -> void {
    if (s + 1 == p) {
      std::vector<double> fw(p), bw(p);
      for (std::size_t t = 0; t < p; ++t) {
        double f = 0, bb = 0;
        std::uint64_t params = 0, act = 0;
        for (std::size_t l = b[t]; l < b[t + 1]; ++l)
          f += layers[l].forward, bb += layers[l].backward, params += layers[l].parameter_memory,
              act += layers[l].activation_memory;
        if (f + bb > cap) return;
        if (params + std::min<std::uint64_t>(m, p - t) * act > o.device_memory) return;
        fw[t] = f, bw[t] = bb;
      }
      schedule_options so;
      so.micro_batches = m;
      so.p2p_time = o.p2p_time;
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
}  // namespace

TEST_SUITE("pipeline") {
  // Regression: search_partition(layers, opts) used to throw invalid_input
  // "recompute_options.size() = 0" on every call.
  TEST_CASE("search_partition without recompute options agrees with brute force") {
    rng gen(63);
    int feasible = 0, infeasible_count = 0;
    for (int trial = 0; trial < 1500; ++trial) {
      const std::size_t n = 1 + gen.below(8);
      std::vector<pipeline_layer> layers;
      for (std::size_t i = 0; i < n; ++i)
        layers.push_back({double(1 + gen.below(4)), double(1 + gen.below(8)), gen.below(6), gen.below(7)});
      pipeline_search_options o;
      o.stages = 1 + gen.below(std::min<std::size_t>(4, n));
      o.micro_batches = 1 + gen.below(6);
      o.p2p_time = gen.below(3) == 0 ? 0.5 : 0.0;
      o.device_memory = gen.below(4) == 0 ? std::numeric_limits<std::uint64_t>::max() : 4 + gen.below(40);
      o.bottleneck_tolerance = double(gen.below(4)) * 0.1;
      std::vector<double> plain;
      for (const auto& l : layers) plain.push_back(l.forward + l.backward);
      const double cap = partition_stages(plain, o.stages).bottleneck * (1 + o.bottleneck_tolerance) * (1 + 1e-12);
      const auto opt = brute_plain(layers, o, cap);
      if (!opt) {
        CHECK_THROWS_WITH_AS((void)search_partition(layers, o), doctest::Contains("bottleneck_tolerance"), infeasible);
        ++infeasible_count;
        continue;
      }
      const auto plan = search_partition(layers, o);
      ++feasible;
      REQUIRE(plan.partition.boundaries.size() == o.stages + 1);
      CHECK(plan.proven_optimal);
      CHECK(plan.iteration_time == doctest::Approx(*opt).epsilon(1e-9));
      CHECK(plan.lower_bound <= plan.iteration_time);
      CHECK(std::all_of(plan.recompute_choice.begin(), plan.recompute_choice.end(),
                        [](std::size_t c) { return c == 0; }));
      CHECK(plan.recompute_choice.size() == n);
      for (std::size_t s = 0; s < o.stages; ++s) {
        CHECK(plan.stage_recompute[s] == 0.0);
        CHECK(plan.stage_memory[s] <= o.device_memory);
        std::uint64_t params = 0, act = 0;
        for (std::size_t l = plan.partition.boundaries[s]; l < plan.partition.boundaries[s + 1]; ++l)
          params += layers[l].parameter_memory, act += layers[l].activation_memory;
        CHECK(plan.stage_memory[s] == params + std::min<std::uint64_t>(o.micro_batches, o.stages - s) * act);
      }
    }
    CHECK(feasible > 500);
    CHECK(infeasible_count > 20);
  }

  TEST_CASE("search_partition without recompute options: bad input names the field") {
    std::vector<pipeline_layer> layers{{1, 2, 1, 1}, {1, 2, 1, 1}};
    pipeline_search_options o;
    o.stages = 3;
    CHECK_THROWS_WITH_AS((void)search_partition(layers, o), doctest::Contains("stages = 3"), invalid_input);
    o.stages = 2;
    layers[0].forward = -1;
    CHECK_THROWS_WITH_AS((void)search_partition(layers, o), doctest::Contains("layers.forward[0] = -1"), invalid_input);
    CHECK_THROWS_WITH_AS((void)search_partition(std::vector<pipeline_layer>{}, o),
                         doctest::Contains("layers.size() = 0"), invalid_input);
  }

  // Issue 15: the default outer-search budget is small (default_pipeline_search_nodes) and a search
  // the limits stop still returns a valid plan and a sound lower bound (<= the true optimum).
  TEST_CASE("search_partition stopped by its node limit keeps a sound lower bound") {
    rng gen(64);
    int stopped = 0;
    for (int trial = 0; trial < 400; ++trial) {
      const std::size_t n = 8 + gen.below(5);
      std::vector<pipeline_layer> layers;
      for (std::size_t i = 0; i < n; ++i)
        layers.push_back({double(1 + gen.below(9)) / 7.0, double(1 + gen.below(17)) / 7.0, gen.below(6), gen.below(7)});
      pipeline_search_options o;
      o.stages = 2 + gen.below(4);
      o.micro_batches = 1 + gen.below(8);
      o.p2p_time = gen.below(2) == 0 ? 0.25 : 0.0;
      o.bottleneck_tolerance = double(gen.below(6)) * 0.1;
      o.limits.nodes = 1 + gen.below(12);
      std::vector<double> plain;
      for (const auto& l : layers) plain.push_back(l.forward + l.backward);
      const double cap = partition_stages(plain, o.stages).bottleneck * (1 + o.bottleneck_tolerance) * (1 + 1e-12);
      const auto opt = brute_plain(layers, o, cap);
      REQUIRE(opt);  // unlimited memory: the least-bottleneck partition is in the window
      const auto plan = search_partition(layers, o);
      stopped += plan.proven_optimal ? 0 : 1;
      CHECK(plan.nodes <= o.limits.nodes + 1);
      CHECK(plan.iteration_time >= *opt * (1 - 1e-9));
      CHECK(plan.lower_bound <= *opt * (1 + 1e-9));
      CHECK(plan.gap() >= 0.0);
      if (plan.proven_optimal) CHECK(plan.iteration_time == doctest::Approx(*opt).epsilon(1e-9));
      REQUIRE(plan.partition.boundaries.size() == o.stages + 1);
      for (std::size_t st = 0; st < o.stages; ++st) {
        CHECK(plan.partition.boundaries[st] < plan.partition.boundaries[st + 1]);
        double w = 0;
        for (std::size_t l = plan.partition.boundaries[st]; l < plan.partition.boundaries[st + 1]; ++l) w += plain[l];
        CHECK(w <= cap * (1 + 1e-12));
      }
    }
    CHECK(stopped > 50);
  }

  TEST_CASE("search_partition on thousands of layers stays within the default budget") {
    CHECK(pipeline_search_options{}.limits.nodes == default_pipeline_search_nodes);
    rng gen(65);
    std::vector<pipeline_layer> layers(3000);
    std::uint64_t params = 0, act = 0;
    for (auto& l : layers) {
      l.forward = double(1 + gen.below(1000)) / 7.0;
      l.backward = 2 * l.forward;
      l.activation_memory = 100 + gen.below(50);
      l.parameter_memory = 1000 + gen.below(300);
      params += l.parameter_memory, act += l.activation_memory;
    }
    pipeline_search_options o;
    o.stages = 8;
    o.micro_batches = 16;
    o.p2p_time = 0.5;
    o.device_memory = params / 8 * 13 / 10 + act / 8 * 8 * 12 / 10;
    const auto plan = search_partition(layers, o);
    CHECK(plan.nodes <= default_pipeline_search_nodes + 1);
    CHECK(plan.lower_bound > 0.0);
    CHECK(plan.lower_bound <= plan.iteration_time);
    for (std::size_t s = 0; s < o.stages; ++s) CHECK(plan.stage_memory[s] <= o.device_memory);
  }
}
