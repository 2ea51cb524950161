// SPDX-License-Identifier: Apache-2.0
/// @file core/rng.hpp
/// A deterministic, platform-independent random number generator (splitmix64) and the few
/// distributions fulcrum needs, written out so every standard library gives the same stream
/// (std::*_distribution differ between libstdc++, libc++ and MSVC).
///
/// - next(): 64 random bits; uniform(): [0, 1) with 53 bits; below(n): unbiased integer in [0, n)
///   (Lemire's multiply-shift with rejection); normal(): inverse-CDF (Acklam, |rel. err| < 1.2e-9);
///   lognormal(median, sigma) = median * exp(sigma * normal()); shuffle(): Fisher-Yates.
/// normal()/lognormal() go through std::log/std::exp/std::sqrt, which are correctly rounded in
/// practice on glibc; generators round their outputs to integers, which absorbs any last-ulp
/// difference between math libraries.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <utility>

#include "fulcrum/core/wide_int.hpp"

namespace fulcrum {

/// The default seed of the reference workloads (docs/workloads.md).
inline constexpr std::uint64_t default_seed = 20240601;

class rng {
 public:
  constexpr explicit rng(std::uint64_t seed = default_seed) noexcept : state_(seed) {}

  /// 64 random bits (splitmix64).
  constexpr std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform double in [0, 1).
  constexpr double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform double in (0, 1): never 0, for inverse-CDF sampling.
  constexpr double uniform_open() noexcept { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  /// Unbiased integer in [0, n); n must be > 0.
  constexpr std::uint64_t below(std::uint64_t n) noexcept {
    wide_parts m = mul_wide(next(), n);
    if (m.low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (m.low < threshold) m = mul_wide(next(), n);
    }
    return m.high;
  }
  /// Standard normal deviate by inverse CDF (one uniform per call).
  double normal() noexcept { return inverse_normal_cdf(uniform_open()); }
  /// Lognormal deviate with the given median and shape sigma.
  double lognormal(double median, double sigma) noexcept { return median * std::exp(sigma * normal()); }
  /// Fisher-Yates shuffle.
  template <class T>
  void shuffle(std::span<T> values) noexcept {
    for (std::size_t i = values.size(); i > 1; --i) std::swap(values[i - 1], values[below(i)]);
  }

  /// Acklam's rational approximation of the standard normal quantile.
  static double inverse_normal_cdf(double p) noexcept {
    constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                            1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                            6.680131188771972e+01,  -1.328068155288572e+01};
    constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                            -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                            3.754408661907416e+00};
    constexpr double p_low = 0.02425;
    if (p < p_low) {
      const double q = std::sqrt(-2 * std::log(p));
      return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
             ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    if (p > 1 - p_low) {
      const double q = std::sqrt(-2 * std::log(1 - p));
      return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
             ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    const double q = p - 0.5;
    const double r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }

 private:
  std::uint64_t state_;
};

}  // namespace fulcrum
