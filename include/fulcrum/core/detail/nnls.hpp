// SPDX-License-Identifier: Apache-2.0
/// @file core/detail/nnls.hpp
/// Non-negative least squares on a small normal system (Lawson & Hanson 1974, the active-set
/// algorithm, in its normal-equation form): minimise 1/2 x'Gx - h'x subject to x >= 0, G = X'WX
/// symmetric positive semi-definite p x p, h = X'Wy. Internals of core/cost_fit.hpp.
/// Each inner step solves G_PP z = h_P on the passive set P by Gaussian elimination with partial
/// pivoting; a (numerically) singular pivot drops that variable (its coefficient stays 0).
/// O(p^4) worst case with p features (p is a handful). Every product that is summed goes through
/// detail::mul, sums run in index order: bit-identical results on every platform.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "fulcrum/core/detail/float.hpp"

namespace fulcrum::detail {

/// Solves A z = b (n x n, row-major, copied) by elimination with partial pivoting. Returns false
/// when a pivot is below `tiny` times the largest diagonal entry (the system is singular).
inline bool solve_dense(std::vector<double> a, std::vector<double> b, std::size_t n, std::vector<double>& z) {
  double scale = 0;
  for (std::size_t i = 0; i < n; ++i) scale = std::max(scale, std::fabs(a[i * n + i]));
  const double tiny = scale * 1e-13;
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t pivot = col;
    for (std::size_t r = col + 1; r < n; ++r)
      if (std::fabs(a[r * n + col]) > std::fabs(a[pivot * n + col])) pivot = r;
    if (!(std::fabs(a[pivot * n + col]) > tiny)) return false;
    if (pivot != col) {
      for (std::size_t c = 0; c < n; ++c) std::swap(a[col * n + c], a[pivot * n + c]);
      std::swap(b[col], b[pivot]);
    }
    for (std::size_t r = col + 1; r < n; ++r) {
      const double f = a[r * n + col] / a[col * n + col];
      for (std::size_t c = col; c < n; ++c) a[r * n + c] = a[r * n + c] - mul(f, a[col * n + c]);
      b[r] = b[r] - mul(f, b[col]);
    }
  }
  z.assign(n, 0.0);
  for (std::size_t i = n; i-- > 0;) {
    double s = b[i];
    for (std::size_t c = i + 1; c < n; ++c) s = s - mul(a[i * n + c], z[c]);
    z[i] = s / a[i * n + i];
  }
  return true;
}

/// x >= 0 minimising 1/2 x'Gx - h'x (G p x p row-major). See file docs.
inline std::vector<double> nnls_normal(const std::vector<double>& g, const std::vector<double>& h, std::size_t p) {
  std::vector<double> x(p, 0.0);
  std::vector<char> passive(p, 0);
  std::vector<char> singular(p, 0);  // variables that made the passive system singular: kept at 0
  double hmax = 0;
  for (double v : h) hmax = std::max(hmax, std::fabs(v));
  const double tol = 1e-12 * (hmax > 0 ? hmax : 1.0);
  auto gradient = [&](std::size_t j) {  // w_j = h_j - (G x)_j
    double s = h[j];
    for (std::size_t c = 0; c < p; ++c) s = s - mul(g[j * p + c], x[c]);
    return s;
  };
  // Solves on the passive set; singular variables leave the set.
  auto solve_passive = [&](std::vector<double>& z) {
    for (;;) {
      std::vector<std::size_t> idx;
      for (std::size_t j = 0; j < p; ++j)
        if (passive[j]) idx.push_back(j);
      const std::size_t n = idx.size();
      std::vector<double> a(n * n), b(n), sol;
      for (std::size_t r = 0; r < n; ++r) {
        b[r] = h[idx[r]];
        for (std::size_t c = 0; c < n; ++c) a[r * n + c] = g[idx[r] * p + idx[c]];
      }
      z.assign(p, 0.0);
      if (n == 0) return;
      if (solve_dense(a, b, n, sol)) {
        for (std::size_t r = 0; r < n; ++r) z[idx[r]] = sol[r];
        return;
      }
      const std::size_t last = idx.back();  // drop the newest variable and retry
      passive[last] = 0;
      singular[last] = 1;
      x[last] = 0;
    }
  };
  std::vector<double> z;
  for (std::size_t outer = 0; outer < 3 * p + 3; ++outer) {
    std::size_t best = p;
    double best_w = tol;
    for (std::size_t j = 0; j < p; ++j) {
      if (passive[j] || singular[j]) continue;
      const double w = gradient(j);
      if (w > best_w) best_w = w, best = j;
    }
    if (best == p) break;
    passive[best] = 1;
    for (std::size_t inner = 0; inner < 3 * p + 3; ++inner) {
      solve_passive(z);
      bool feasible = true;
      for (std::size_t j = 0; j < p; ++j)
        if (passive[j] && !(z[j] > 0)) feasible = false;
      if (feasible) {
        x = z;
        break;
      }
      double alpha = 1;
      for (std::size_t j = 0; j < p; ++j)
        if (passive[j] && !(z[j] > 0)) alpha = std::min(alpha, x[j] / (x[j] - z[j]));
      for (std::size_t j = 0; j < p; ++j)
        if (passive[j]) x[j] = x[j] + mul(alpha, z[j] - x[j]);
      double xmax = 0;
      for (std::size_t j = 0; j < p; ++j)
        if (passive[j]) xmax = std::max(xmax, x[j]);
      for (std::size_t j = 0; j < p; ++j)  // the variables the step brought to zero leave the set
        if (passive[j] && !(x[j] > 1e-14 * xmax)) passive[j] = 0, x[j] = 0;
    }
  }
  for (auto& v : x) v = std::max(v, 0.0);
  return x;
}

}  // namespace fulcrum::detail
