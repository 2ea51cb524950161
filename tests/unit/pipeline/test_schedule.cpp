#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/pipeline/schedule.hpp>

using namespace fulcrum;

TEST_SUITE("pipeline") {
  TEST_CASE("1F1B and GPipe match (m + p - 1)(f + b) on uniform stages") {
    for (std::size_t p : {1, 2, 3, 4, 8})
      for (std::size_t m : {1, 2, 3, 4, 8, 13, 32})
        for (auto [f, b] : {std::pair{1.0, 2.0}, std::pair{3.0, 3.0}, std::pair{0.5, 1.25}})
          for (auto kind : {pipeline_schedule::one_f_one_b, pipeline_schedule::gpipe}) {
            std::vector<double> fw(p, f), bw(p, b);
            schedule_options o;
            o.kind = kind;
            o.micro_batches = m;
            const auto r = simulate_schedule(fw, bw, o);
            const double closed = static_cast<double>(m + p - 1) * (f + b);
            CHECK(r.iteration_time == doctest::Approx(closed));
            CHECK(r.bubble_fraction == doctest::Approx(double(p - 1) / double(m + p - 1)));
            for (std::size_t d = 0; d < p; ++d) {
              CHECK(r.busy_time[d] == doctest::Approx(double(m) * (f + b)));
              CHECK(r.peak_in_flight[d] == (kind == pipeline_schedule::gpipe ? m : std::min(m, p - d)));
            }
          }
  }

  TEST_CASE("interleaved 1F1B matches (m + (p - 1) / v)(f + b) on uniform stages") {
    for (std::size_t p : {2, 3, 4, 8})
      for (std::size_t v : {1, 2, 3, 4})
        for (std::size_t groups : {1, 2, 4}) {
          const std::size_t m = p * groups;
          const double f = 2.0, b = 4.0;  // per device; each chunk f / v, b / v
          std::vector<double> fw(p * v, f / double(v)), bw(p * v, b / double(v));
          schedule_options o;
          o.kind = pipeline_schedule::interleaved_1f1b;
          o.micro_batches = m;
          o.virtual_stages = v;
          const auto r = simulate_schedule(fw, bw, o);
          const double closed = (double(m) + double(p - 1) / double(v)) * (f + b);
          CHECK(r.iteration_time == doctest::Approx(closed));
          CHECK(r.bubble_fraction == doctest::Approx(1.0 - double(m) * (f + b) / closed));
        }
  }

  TEST_CASE("simulated time is at least every stage's work and one round trip and grows with stage time") {
    rng gen(11);
    for (int trial = 0; trial < 500; ++trial) {
      const std::size_t p = 1 + gen.below(6), m = 1 + gen.below(12);
      std::vector<double> fw(p), bw(p);
      for (std::size_t s = 0; s < p; ++s) fw[s] = 1 + gen.below(5), bw[s] = 1 + gen.below(9);
      schedule_options o;
      o.micro_batches = m;
      o.p2p_time = trial % 2 ? 0.5 : 0.0;
      const auto r = simulate_schedule(fw, bw, o);
      double sum = 0;
      for (std::size_t s = 0; s < p; ++s) {
        CHECK(r.iteration_time >= double(m) * (fw[s] + bw[s]) - 1e-9);
        sum += fw[s] + bw[s];
      }
      CHECK(r.iteration_time >= sum + 2.0 * double(p - 1) * o.p2p_time - 1e-9);  // one micro-batch's round trip
      CHECK(r.bubble_fraction >= -1e-12);
      CHECK(r.bubble_fraction < 1.0);
      // raising any stage's time never shortens the iteration (fixed order: longest path)
      auto slower = bw;
      slower[gen.below(p)] += 1.0;
      CHECK(simulate_schedule(fw, slower, o).iteration_time >= r.iteration_time - 1e-9);
    }
  }

  TEST_CASE("timeline: no device overlaps itself and dependencies hold and activation memory peaks") {
    const std::vector<double> fw{1, 2, 1, 3, 1, 1}, bw{2, 3, 2, 4, 2, 2};
    schedule_options o;
    o.kind = pipeline_schedule::interleaved_1f1b;
    o.micro_batches = 6;
    o.virtual_stages = 2;
    o.p2p_time = 0.25;
    o.record_timeline = true;
    o.activation_memory = {10, 20, 30, 40, 50, 60};
    const auto r = simulate_schedule(fw, bw, o);
    REQUIRE(r.timeline.size() == 3);
    std::size_t ops = 0;
    for (const auto& dev : r.timeline) {
      for (std::size_t k = 1; k < dev.size(); ++k) CHECK(dev[k].start >= dev[k - 1].end - 1e-12);
      ops += dev.size();
    }
    CHECK(ops == 2 * 6 * 6);
    CHECK(r.peak_activation_memory.size() == 3);
    for (std::size_t d = 0; d < 3; ++d) CHECK(r.peak_activation_memory[d] > 0);
  }

  TEST_CASE("simulate_schedule: bad input names field and value") {
    const std::vector<double> f{1, 1}, b{1, 1};
    schedule_options o;
    o.micro_batches = 0;
    CHECK_THROWS_WITH_AS((void)simulate_schedule(f, b, o), doctest::Contains("micro_batches = 0"), invalid_input);
    o.micro_batches = 3;
    CHECK_THROWS_WITH_AS((void)simulate_schedule(f, std::vector<double>{1}, o), doctest::Contains("backward.size() = 1"), invalid_input);
    CHECK_THROWS_WITH_AS((void)simulate_schedule(f, std::vector<double>{1, -1}, o), doctest::Contains("backward[1] = -1"), invalid_input);
    o.kind = pipeline_schedule::interleaved_1f1b;
    CHECK_THROWS_WITH_AS((void)simulate_schedule(f, b, o), doctest::Contains("micro_batches = 3"), invalid_input);
    o.kind = pipeline_schedule::one_f_one_b;
    o.virtual_stages = 2;
    CHECK_THROWS_AS((void)simulate_schedule(f, b, o), invalid_input);
  }
}
