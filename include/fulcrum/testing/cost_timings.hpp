// SPDX-License-Identifier: Apache-2.0
/// @file testing/cost_timings.hpp
/// Seeded synthetic step timings for calibrating cost models (core/cost_fit.hpp): the true time
/// of each sample, perturbed by multiplicative Gaussian noise and a share of gross outliers
/// (stragglers). Used by the tests, the benchmarks and fulcrum-plan calibrate's embedded default
/// timings (docs/cost_models.md). Platform-independent (fulcrum::rng), O(n).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/testing/workloads.hpp"

namespace fulcrum::testing {

/// How measured times deviate from the truth.
struct timing_noise {
  double relative = 0.05;       ///< standard deviation of the multiplicative noise (5%)
  double outlier_share = 0.01;  ///< probability that a sample is a straggler (1%)
  double outlier_min = 2;       ///< a straggler takes uniform[min, max] times longer
  double outlier_max = 10;
};

/// times[i] = truth[i] * max(0.01, 1 + relative * N(0,1)), and with probability outlier_share
/// additionally x uniform[outlier_min, outlier_max]. Per sample: one normal, one uniform, and one
/// more uniform for a straggler, in that order.
[[nodiscard]] inline std::vector<double> noisy_timings(std::span<const double> truth, std::uint64_t seed,
                                                       const timing_noise& noise = {}) {
  rng g(seed);
  std::vector<double> out;
  out.reserve(truth.size());
  for (double t : truth) {
    double v = t * std::max(0.01, 1 + noise.relative * g.normal());
    if (g.uniform() < noise.outlier_share)
      v *= noise.outlier_min + (noise.outlier_max - noise.outlier_min) * g.uniform();
    out.push_back(v);
  }
  return out;
}

/// The hidden ground truth of fulcrum-plan calibrate's embedded timings, in milliseconds per
/// micro-batch of one document of L tokens: 20 ms fixed + 0.1 ms/token + 2e-6 ms/token^2 (about a
/// 7B model's training step on one accelerator, docs/cost_models.md).
inline constexpr attention_cost calibrate_ground_truth{0.1, 2e-6, 20.0};

/// The embedded timings: W2 lengths (seed `seed`) and their noisy times under
/// calibrate_ground_truth (noise seed seed + 1).
struct length_timings {
  std::vector<double> lengths;
  std::vector<double> times;
};
[[nodiscard]] inline length_timings default_timings(std::size_t n, std::uint64_t seed = default_seed,
                                                    const timing_noise& noise = {}) {
  length_timings out;
  for (auto l : generate_w2(n, seed)) out.lengths.push_back(static_cast<double>(l));
  std::vector<double> truth;
  truth.reserve(n);
  for (double l : out.lengths) truth.push_back(calibrate_ground_truth(l));
  out.times = noisy_timings(truth, seed + 1, noise);
  return out;
}

}  // namespace fulcrum::testing
