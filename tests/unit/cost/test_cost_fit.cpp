#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <fulcrum/core/cost_fit.hpp>
#include <fulcrum/core/rng.hpp>

using namespace fulcrum;

namespace {
// Hidden ground truth (seconds): 5 ms fixed + 5 us per token + 0.5 ns per token^2.
constexpr double true_a = 5e-6, true_b = 5e-10, true_c = 5e-3;

struct timings {
  std::vector<double> lengths, times;
  std::size_t outliers = 0;
};

// n samples, lengths log-uniform in [16, 32768], 5% multiplicative Gaussian noise, and 1% gross
// outliers (stragglers: time x uniform[2, 10]).
timings synthetic(std::size_t n, std::uint64_t seed, double outlier_share = 0.01) {
  rng g(seed);
  timings t;
  for (std::size_t i = 0; i < n; ++i) {
    const double l = std::round(16 * std::exp(g.uniform() * std::log(32768.0 / 16)));
    double time = (true_a * l + true_b * l * l + true_c) * (1 + 0.05 * g.normal());
    if (g.uniform() < outlier_share) time *= 2 + 8 * g.uniform(), ++t.outliers;
    t.lengths.push_back(l);
    t.times.push_back(time);
  }
  return t;
}

double rel(double got, double want) {
  return std::fabs(got / want - 1);
}

// Objective 1/2 x'Gx - h'x.
double objective(const std::vector<double>& g, const std::vector<double>& h, const std::vector<double>& x) {
  const std::size_t p = h.size();
  double s = 0;
  for (std::size_t i = 0; i < p; ++i) {
    s -= h[i] * x[i];
    for (std::size_t j = 0; j < p; ++j) s += 0.5 * x[i] * g[i * p + j] * x[j];
  }
  return s;
}
}  // namespace

TEST_SUITE("cost") {
  TEST_CASE("fit recovers known coefficients within 2 percent from noisy data with outliers") {
    for (std::uint64_t seed : {1ULL, 2ULL, 3ULL}) {
      CAPTURE(seed);
      const auto data = synthetic(4000, seed);
      CHECK(data.outliers >= 20);
      for (auto robust : {fit_robustness::huber, fit_robustness::trimmed}) {
        fit_options o;
        o.robust = robust;
        const auto f = fit_attention_cost(data.lengths, data.times, o);
        CAPTURE(static_cast<int>(robust));
        CAPTURE(f.model.a);
        CAPTURE(f.model.b);
        CAPTURE(f.model.c);
        CHECK(rel(f.model.a, true_a) < 0.02);
        CHECK(rel(f.model.b, true_b) < 0.02);
        CHECK(rel(f.model.c, true_c) < 0.02);
        // The reported error: about the 5% noise on the inliers; the outliers flagged.
        CHECK(f.fit.inlier_rms_relative_error > 0.04);
        CHECK(f.fit.inlier_rms_relative_error < 0.06);
        CHECK(f.fit.rms_relative_error > f.fit.inlier_rms_relative_error);
        CHECK(f.fit.outliers >= data.outliers);
        CHECK(f.fit.outliers < data.outliers + 40);  // 3 sigma: ~0.3% of clean samples
        CHECK(f.fit.r_squared > 0.99);
      }
    }
  }

  TEST_CASE("fit with absolute residuals needs the robust weights") {
    // Absolute residuals: the stragglers dominate plain least squares (several coefficients off
    // by more than 5%); Huber brings every coefficient back within 2%. (Relative residuals are
    // bounded by 1 for a slowdown, so they resist outliers already; that is the default.)
    for (std::uint64_t seed : {1ULL, 2ULL, 3ULL}) {
      CAPTURE(seed);
      const auto data = synthetic(4000, seed);
      fit_options o;
      o.relative = false;
      o.robust = fit_robustness::none;
      const auto plain = fit_attention_cost(data.lengths, data.times, o);
      o.robust = fit_robustness::huber;
      const auto huber = fit_attention_cost(data.lengths, data.times, o);
      auto worst = [](const attention_fit& f) {
        return std::max({rel(f.model.a, true_a), rel(f.model.b, true_b), rel(f.model.c, true_c)});
      };
      CHECK(worst(plain) > 0.05);
      CHECK(worst(huber) < 0.02);
      CHECK(plain.fit.iterations == 1);
      CHECK(huber.fit.outliers >= data.outliers);
    }
  }

  TEST_CASE("fit is exact on noiseless data and deterministic") {
    std::vector<double> l, t;
    for (double x : {10.0, 100.0, 1000.0, 5000.0, 20000.0})
      l.push_back(x), t.push_back(2e-6 * x + 1e-10 * x * x + 1e-3);
    const auto f = fit_attention_cost(l, t);
    CHECK(rel(f.model.a, 2e-6) < 1e-9);
    CHECK(rel(f.model.b, 1e-10) < 1e-9);
    CHECK(rel(f.model.c, 1e-3) < 1e-9);
    CHECK(f.fit.rms_relative_error < 1e-9);
    const auto data = synthetic(1000, 9);
    const auto f1 = fit_attention_cost(data.lengths, data.times);
    const auto f2 = fit_attention_cost(data.lengths, data.times);
    CHECK(f1.fit.coefficients == f2.fit.coefficients);
  }

  TEST_CASE("fit keeps coefficients non-negative where least squares would not") {
    // Times that fall with length: unconstrained LS gives a negative slope; NNLS clamps it to 0
    // and fits the constant (the mean under relative weights is then the best constant).
    const std::vector<double> l{100, 200, 300, 400}, t{4, 3, 2, 1};
    fit_options o;
    o.robust = fit_robustness::none;
    const auto f = fit_attention_cost(l, t, o);
    CHECK(f.model.a == 0.0);
    CHECK(f.model.b == 0.0);
    CHECK(f.model.c > 0.0);
  }

  TEST_CASE("nnls matches brute force over active sets on random small systems") {
    rng g(77);
    for (int trial = 0; trial < 300; ++trial) {
      const std::size_t p = 1 + g.below(4);
      const std::size_t n = p + g.below(6);
      std::vector<double> x(n * p), y(n);
      for (auto& v : x) v = g.uniform() * 10 - 3;  // mixed signs, so constraints bind
      for (auto& v : y) v = g.uniform() * 10 - 5;
      std::vector<double> G(p * p, 0.0), h(p, 0.0);
      for (std::size_t i = 0; i < n; ++i)
        detail::accumulate(G, h, std::span<const double>(x).subspan(i * p, p), y[i], 1.0);
      const auto got = detail::nnls_normal(G, h, p);
      for (double v : got) CHECK(v >= 0);
      // Brute force: every support set, unconstrained solve on it, keep feasible minima.
      double best = 0;  // x = 0
      for (unsigned mask = 1; mask < (1u << p); ++mask) {
        std::vector<std::size_t> idx;
        for (std::size_t j = 0; j < p; ++j)
          if (mask & (1u << j)) idx.push_back(j);
        const std::size_t m = idx.size();
        std::vector<double> a(m * m), b(m), z;
        for (std::size_t r = 0; r < m; ++r) {
          b[r] = h[idx[r]];
          for (std::size_t c = 0; c < m; ++c) a[r * m + c] = G[idx[r] * p + idx[c]];
        }
        if (!detail::solve_dense(a, b, m, z)) continue;
        bool feasible = true;
        for (double v : z) feasible = feasible && v >= 0;
        if (!feasible) continue;
        std::vector<double> full(p, 0.0);
        for (std::size_t r = 0; r < m; ++r) full[idx[r]] = z[r];
        best = std::min(best, objective(G, h, full));
      }
      CAPTURE(trial);
      CHECK(objective(G, h, got) <= best + 1e-9 * (1 + std::fabs(best)));
    }
  }

  TEST_CASE("online fit follows a drifting cost with exponential forgetting") {
    rng g(5);
    online_cost_fit online(3, 0.995, true, 0.75);
    auto feed = [&](double a, double b, double c, std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) {
        const double l = std::round(16 * std::exp(g.uniform() * std::log(32768.0 / 16)));
        double t = (a * l + b * l * l + c) * (1 + 0.05 * g.normal());
        if (g.uniform() < 0.01) t *= 4 + 6 * g.uniform();  // stragglers, gated out
        const double x[3] = {l, l * l, 1.0};
        online.add(x, t);
      }
    };
    feed(true_a, true_b, true_c, 3000);
    CHECK(rel(online.coefficients()[0], true_a) < 0.05);
    CHECK(rel(online.coefficients()[1], true_b) < 0.05);
    CHECK(rel(online.coefficients()[2], true_c) < 0.05);
    CHECK(online.rejected() >= 10);
    // The kernel gets 30% slower on the quadratic term: the fit follows within 3000 steps.
    feed(true_a, 1.3 * true_b, true_c, 3000);
    CHECK(rel(online.coefficients()[1], 1.3 * true_b) < 0.05);
    CHECK(online.effective_samples() < 201);  // 1 / (1 - 0.995)
    CHECK(online.effective_samples() > 199);
  }

  TEST_CASE("fit rejects bad input naming the field") {
    const std::vector<double> l{1, 2, 3, 4};
    auto times = std::vector<double>{1, 2, 3, 4};
    times[2] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(static_cast<void>(fit_attention_cost(l, times)), doctest::Contains("time[2] = nan: is NaN"),
                         invalid_input);
    times[2] = -1;
    CHECK_THROWS_WITH_AS(static_cast<void>(fit_attention_cost(l, times)),
                         doctest::Contains("time[2] = -1: is negative"), invalid_input);
    times[2] = 0;
    CHECK_THROWS_WITH_AS(static_cast<void>(fit_attention_cost(l, times)),
                         doctest::Contains("time[2] = 0: must be positive"), invalid_input);
    times[2] = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(static_cast<void>(fit_attention_cost(l, times)), invalid_input);
    const std::vector<double> two{1, 2}, t2{1, 2};
    CHECK_THROWS_WITH_AS(static_cast<void>(fit_attention_cost(two, t2)),
                         doctest::Contains("samples = 2: fewer than the 3 features"), invalid_input);
    CHECK_THROWS_WITH_AS(static_cast<void>(fit_attention_cost(l, t2)), doctest::Contains("lengths.size()"),
                         invalid_input);
    const std::vector<double> neg{1, -2, 3, 4};
    CHECK_THROWS_WITH_AS(static_cast<void>(fit_attention_cost(neg, std::vector<double>{1, 2, 3, 4})),
                         doctest::Contains("features[3] = -2: is negative"), invalid_input);
    CHECK_THROWS_AS(static_cast<void>(fit_cost(std::vector<double>{1, 2, 3}, 2, std::vector<double>{1, 2})),
                    invalid_input);
    fit_options bad;
    bad.outlier_threshold = 0;
    CHECK_THROWS_WITH_AS(static_cast<void>(fit_attention_cost(l, std::vector<double>{1, 2, 3, 4}, bad)),
                         doctest::Contains("outlier_threshold = 0"), invalid_input);
    bad = {};
    bad.trim_fraction = 0.5;
    CHECK_THROWS_WITH_AS(static_cast<void>(fit_attention_cost(l, std::vector<double>{1, 2, 3, 4}, bad)),
                         doctest::Contains("trim_fraction = 0.5"), invalid_input);
    CHECK_THROWS_AS(online_cost_fit(3, 1.5), invalid_input);
    online_cost_fit on(2);
    const double x[2] = {1, 1};
    CHECK_THROWS_AS(on.add(x, std::numeric_limits<double>::quiet_NaN()), invalid_input);
    CHECK_THROWS_AS(on.add(std::span<const double>(x, 1), 1.0), invalid_input);
  }
}
