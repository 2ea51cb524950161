// SPDX-License-Identifier: Apache-2.0
/// @file core/cost_fit.hpp
/// Calibrated cost models: fit the coefficients of a linear-in-features cost model (e.g.
/// t = a*L + b*L^2 + c, or per-phase features such as [L, L^2, image tiles, 1]) to measured
/// (features, time) samples (docs/cost_models.md).
///
/// - fit_cost(features, p, times, options): weighted least squares with non-negative
///   coefficients (Lawson-Hanson active-set NNLS on the p x p normal system, Jacobi-scaled;
///   detail/nnls.hpp), robust to outliers by iteratively reweighted least squares: Huber weights
///   min(1, k*s/|r|) (default) or trimming (the largest trim_fraction of |r| get weight 0), s the
///   robust scale 1.4826 * MAD of the residuals. Residuals are relative, (t - pred)/t, by default
///   (weights 1/t^2: multiplicative timing noise), or absolute. Reports the fit's error: RMS
///   relative error over all samples and over the inliers (relative residuals q within
///   outlier_threshold robust scales of their median, in either mode),
///   R^2 on the inliers, the outlier count.
/// - fit_attention_cost(lengths, times): fit_cost on [L, L^2, 1], returned as attention_cost{a,b,c}.
/// - online_cost_fit: refit from step timings as they arrive; accumulates the weighted normal
///   equations with exponential forgetting (G <- lambda*G + w x x', h <- lambda*h + w t x), so a
///   sample's weight halves every ln 2 / -ln(lambda) steps; O(p^2) per sample, O(p^4) per refit.
///   Not outlier-robust by itself: an optional gate drops a sample whose relative residual against
///   the current fit exceeds `gate` once 2p samples were accepted.
/// Complexity: O(n p^2) per IRLS iteration (at most max_iterations) plus O(n log n) for the
/// median. Determinism: products through detail::mul, sums in sample order, medians by
/// nth_element on values only: same input, same coefficients, bit for bit.
/// Errors (invalid_input naming field, index and value): a NaN, infinite or negative time or
/// feature, a zero time with relative residuals, fewer samples than features, a size mismatch.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/detail/nnls.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum {

/// How fit_cost resists outliers.
enum class fit_robustness : unsigned char {
  none,     ///< plain (weighted) least squares
  huber,    ///< Huber IRLS (default)
  trimmed,  ///< iteratively trimmed least squares
};

struct fit_options {
  fit_robustness robust = fit_robustness::huber;
  double huber_k = 1.345;            ///< Huber threshold, in robust standard deviations
  double trim_fraction = 0.05;       ///< trimmed: share of samples with the largest |residual| dropped
  bool relative = true;              ///< residuals (t - pred)/t (multiplicative noise) or t - pred
  std::size_t max_iterations = 100;  ///< IRLS iterations at most
  double outlier_threshold = 3.0;    ///< reported outliers: relative residual beyond this many robust scales
};

/// A fitted linear cost model and how well it fits.
struct cost_fit_result {
  std::vector<double> coefficients;      ///< one per feature, all >= 0
  double rms_relative_error = 0;         ///< sqrt(mean(((pred - t)/t)^2)) over all samples
  double inlier_rms_relative_error = 0;  ///< the same over the inliers
  double r_squared = 0;                  ///< 1 - SS_res / SS_tot of the times, on the inliers
  std::size_t samples = 0;
  std::size_t outliers = 0;    ///< samples flagged as outliers (see fit_options)
  std::size_t iterations = 0;  ///< IRLS iterations run

  /// coefficients . features, in feature order.
  [[nodiscard]] double predict(std::span<const double> features) const noexcept {
    double s = 0;
    for (std::size_t j = 0; j < coefficients.size() && j < features.size(); ++j)
      s = s + detail::mul(coefficients[j], features[j]);
    return s;
  }
};

namespace detail {

/// NNLS of the normal system after Jacobi scaling (x' = D x, D = sqrt(diag G)).
inline std::vector<double> solve_scaled_nnls(const std::vector<double>& g, const std::vector<double>& h,
                                             std::size_t p) {
  std::vector<double> d(p, 1.0);
  for (std::size_t j = 0; j < p; ++j)
    if (g[j * p + j] > 0) d[j] = std::sqrt(g[j * p + j]);
  std::vector<double> gs(p * p), hs(p);
  for (std::size_t i = 0; i < p; ++i) {
    hs[i] = h[i] / d[i];
    for (std::size_t j = 0; j < p; ++j) gs[i * p + j] = g[i * p + j] / d[i] / d[j];
  }
  std::vector<double> x = nnls_normal(gs, hs, p);
  for (std::size_t j = 0; j < p; ++j) x[j] = x[j] / d[j];
  return x;
}

/// Adds w * x x' to G and w * t * x to h (G p x p row-major).
inline void accumulate(std::vector<double>& g, std::vector<double>& h, std::span<const double> x, double t, double w) {
  const std::size_t p = x.size();
  for (std::size_t i = 0; i < p; ++i) {
    const double wx = w * x[i];
    h[i] = h[i] + mul(wx, t);
    for (std::size_t j = 0; j < p; ++j) g[i * p + j] = g[i * p + j] + mul(wx, x[j]);
  }
}

inline double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  double m = *mid;
  if (v.size() % 2 == 0) m = (m + *std::max_element(v.begin(), mid)) / 2;
  return m;
}

/// Robust scale 1.4826 * MAD and the median of r.
inline void robust_scale(const std::vector<double>& r, double& median, double& scale) {
  median = median_of(r);
  std::vector<double> dev(r.size());
  for (std::size_t i = 0; i < r.size(); ++i) dev[i] = std::fabs(r[i] - median);
  scale = 1.4826 * median_of(std::move(dev));
}

inline void check_fit_value(std::string_view field, std::size_t i, double v) {
  require_non_negative("fit_cost", field, i, v);
}

}  // namespace detail

/// Fits t ~ coefficients . x over n samples (features row-major, n x p). See file docs.
[[nodiscard]] inline cost_fit_result fit_cost(std::span<const double> features, std::size_t p,
                                              std::span<const double> times, const fit_options& options = {}) {
  const std::size_t n = times.size();
  if (p == 0) throw invalid_input(detail::describe("fit_cost", "features per sample", p, "must be positive"));
  if (features.size() != n * p)
    throw invalid_input(
        detail::describe("fit_cost", "features.size()", features.size(),
                         "is not samples x features = " + std::to_string(n) + " x " + std::to_string(p)));
  if (n < p)
    throw invalid_input(detail::describe(
        "fit_cost", "samples", n, "fewer than the " + std::to_string(p) + " features (the fit is underdetermined)"));
  if (!(options.huber_k > 0) || !std::isfinite(options.huber_k))
    throw invalid_input(detail::describe("fit_cost", "huber_k", options.huber_k, "must be positive"));
  if (!(options.outlier_threshold > 0) || !std::isfinite(options.outlier_threshold))
    throw invalid_input(
        detail::describe("fit_cost", "outlier_threshold", options.outlier_threshold, "must be positive"));
  if (!(options.trim_fraction >= 0 && options.trim_fraction < 0.5))
    throw invalid_input(detail::describe("fit_cost", "trim_fraction", options.trim_fraction, "must be in [0, 0.5)"));
  for (std::size_t i = 0; i < n; ++i) {
    detail::check_fit_value("time", i, times[i]);
    if (options.relative && times[i] == 0)
      throw invalid_input(detail::describe("fit_cost", "time", i, times[i], "must be positive for relative residuals"));
  }
  for (std::size_t k = 0; k < features.size(); ++k) detail::check_fit_value("features", k, features[k]);

  auto row = [&](std::size_t i) { return features.subspan(i * p, p); };
  std::vector<double> robust(n, 1.0), r(n), coef(p, 0.0);
  cost_fit_result out;
  out.samples = n;
  const std::size_t keep =
      n - std::min(n - p, static_cast<std::size_t>(std::floor(options.trim_fraction * static_cast<double>(n))));
  double med = 0, scale = 0;
  auto residuals = [&] {
    for (std::size_t i = 0; i < n; ++i) {
      const double pred = out.predict(row(i));
      r[i] = options.relative ? (times[i] - pred) / times[i] : times[i] - pred;
    }
    detail::robust_scale(r, med, scale);
  };
  for (std::size_t it = 0; it < std::max<std::size_t>(1, options.max_iterations); ++it) {
    std::vector<double> g(p * p, 0.0), h(p, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      if (robust[i] == 0) continue;
      const double base = options.relative ? 1.0 / (times[i] * times[i]) : 1.0;
      detail::accumulate(g, h, row(i), times[i], base * robust[i]);
    }
    const std::vector<double> next = detail::solve_scaled_nnls(g, h, p);
    double change = 0;
    for (std::size_t j = 0; j < p; ++j) {
      const double ref = std::max(std::fabs(next[j]), std::fabs(coef[j]));
      if (ref > 0) change = std::max(change, std::fabs(next[j] - coef[j]) / ref);
    }
    out.coefficients = next;
    coef = next;
    out.iterations = it + 1;
    residuals();
    if (options.robust == fit_robustness::none || !(scale > 0) || (it > 0 && change < 1e-10)) break;
    if (options.robust == fit_robustness::huber) {
      const double limit = options.huber_k * scale;
      for (std::size_t i = 0; i < n; ++i) {
        const double a = std::fabs(r[i] - med);
        robust[i] = a <= limit ? 1.0 : limit / a;
      }
    } else {
      std::vector<std::size_t> order(n);
      for (std::size_t i = 0; i < n; ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t x, std::size_t y) { return std::fabs(r[x]) < std::fabs(r[y]); });
      for (std::size_t k = 0; k < n; ++k) robust[order[k]] = k < keep ? 1.0 : 0.0;
    }
  }
  // Report: relative errors, outliers (on relative residuals, whatever the fit's residuals were,
  // so the count means the same for both), R^2 on the inliers.
  std::vector<double> q(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double pred = out.predict(row(i));
    q[i] = times[i] > 0 ? (pred - times[i]) / times[i] : (pred == 0 ? 0.0 : 1.0);
  }
  double q_med = 0, q_scale = 0;
  detail::robust_scale(q, q_med, q_scale);
  double all = 0, in = 0, mean_t = 0;
  std::size_t inliers = 0;
  std::vector<char> inlier(n, 1);
  for (std::size_t i = 0; i < n; ++i) {
    all = all + detail::mul(q[i], q[i]);
    if (q_scale > 0 && std::fabs(q[i] - q_med) > options.outlier_threshold * q_scale) {
      inlier[i] = 0;
      ++out.outliers;
      continue;
    }
    in = in + detail::mul(q[i], q[i]);
    mean_t = mean_t + times[i];
    ++inliers;
  }
  out.rms_relative_error = std::sqrt(all / static_cast<double>(n));
  out.inlier_rms_relative_error = inliers == 0 ? 0.0 : std::sqrt(in / static_cast<double>(inliers));
  mean_t = inliers == 0 ? 0.0 : mean_t / static_cast<double>(inliers);
  double ss_res = 0, ss_tot = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!inlier[i]) continue;
    const double e = times[i] - out.predict(row(i));
    const double d = times[i] - mean_t;
    ss_res = ss_res + detail::mul(e, e);
    ss_tot = ss_tot + detail::mul(d, d);
  }
  out.r_squared = ss_tot > 0 ? 1 - ss_res / ss_tot : (ss_res == 0 ? 1.0 : 0.0);
  return out;
}

/// Features [L, L^2, 1] of every length, row-major (the attention_cost model's).
[[nodiscard]] inline std::vector<double> attention_features(std::span<const double> lengths) {
  std::vector<double> x;
  x.reserve(lengths.size() * 3);
  for (double l : lengths) {
    x.push_back(l);
    x.push_back(detail::mul(l, l));
    x.push_back(1.0);
  }
  return x;
}

/// A fitted attention_cost and the fit's report.
struct attention_fit {
  attention_cost model{};
  cost_fit_result fit{};
};

/// Fits t = a*L + b*L^2 + c (a, b, c >= 0) to (length, time) samples.
[[nodiscard]] inline attention_fit fit_attention_cost(std::span<const double> lengths, std::span<const double> times,
                                                      const fit_options& options = {}) {
  if (lengths.size() != times.size())
    throw invalid_input(detail::describe("fit_attention_cost", "lengths.size()", lengths.size(),
                                         "differs from times.size() = " + std::to_string(times.size())));
  attention_fit out;
  out.fit = fit_cost(attention_features(lengths), 3, times, options);
  out.model = attention_cost{out.fit.coefficients[0], out.fit.coefficients[1], out.fit.coefficients[2]};
  return out;
}

/// Online refit with exponential forgetting (see file docs).
class online_cost_fit {
 public:
  /// `features` per sample; `forgetting` lambda in (0, 1] (1: no forgetting); `gate` > 0 drops a
  /// sample whose relative residual exceeds it once 2 x features samples were accepted (0: off).
  explicit online_cost_fit(std::size_t features, double forgetting = 0.99, bool relative = true, double gate = 0)
      : p_(features),
        lambda_(forgetting),
        relative_(relative),
        gate_(gate),
        g_(features * features, 0.0),
        h_(features, 0.0),
        coef_(features, 0.0) {
    if (p_ == 0) throw invalid_input(detail::describe("online_cost_fit", "features", p_, "must be positive"));
    if (!(lambda_ > 0 && lambda_ <= 1))
      throw invalid_input(detail::describe("online_cost_fit", "forgetting", lambda_, "must be in (0, 1]"));
    if (!(gate_ >= 0) || !std::isfinite(gate_))
      throw invalid_input(detail::describe("online_cost_fit", "gate", gate_, "must be non-negative"));
  }

  /// Adds one measured sample and refits. Returns false when the gate rejected it.
  bool add(std::span<const double> x, double time) {
    if (x.size() != p_)
      throw invalid_input(detail::describe("online_cost_fit", "features.size()", x.size(),
                                           "differs from the model's " + std::to_string(p_)));
    for (std::size_t j = 0; j < p_; ++j) detail::require_non_negative("online_cost_fit", "features", j, x[j]);
    detail::require_non_negative("online_cost_fit", "time", accepted_ + rejected_, time);
    if (relative_ && time == 0)
      throw invalid_input(detail::describe("online_cost_fit", "time", accepted_ + rejected_, time,
                                           "must be positive for relative residuals"));
    if (gate_ > 0 && accepted_ >= 2 * p_) {
      double pred = 0;
      for (std::size_t j = 0; j < p_; ++j) pred = pred + detail::mul(coef_[j], x[j]);
      if (std::fabs(time - pred) > detail::mul(gate_, time)) {
        ++rejected_;
        return false;
      }
    }
    for (auto& v : g_) v = detail::mul(lambda_, v);
    for (auto& v : h_) v = detail::mul(lambda_, v);
    detail::accumulate(g_, h_, x, time, relative_ ? 1.0 / (time * time) : 1.0);
    weight_ = detail::mul(lambda_, weight_) + 1.0;
    ++accepted_;
    coef_ = detail::solve_scaled_nnls(g_, h_, p_);
    return true;
  }

  /// The current coefficients (all 0 before the first sample; determined once samples >= features).
  [[nodiscard]] const std::vector<double>& coefficients() const noexcept { return coef_; }
  /// sum of lambda^age over the accepted samples: how many samples the fit effectively holds.
  [[nodiscard]] double effective_samples() const noexcept { return weight_; }
  [[nodiscard]] std::size_t accepted() const noexcept { return accepted_; }
  [[nodiscard]] std::size_t rejected() const noexcept { return rejected_; }

 private:
  std::size_t p_;
  double lambda_;
  bool relative_;
  double gate_;
  std::vector<double> g_, h_, coef_;
  double weight_ = 0;
  std::size_t accepted_ = 0, rejected_ = 0;
};

}  // namespace fulcrum
