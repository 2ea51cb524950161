// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/gg_bound.hpp
/// Internals of `lower_bound_lp` and of `pack_exact`'s LP bound: the Gilmore–Gomory (continuous
/// cutting-stock) relaxation of bin packing, solved by column generation.
///
/// Model over the m distinct sizes w_i with demands d_i: min sum_p x_p subject to
/// sum_p a_ip x_p >= d_i, x >= 0, where a pattern p is any a with sum_i a_i w_i <= C, 0 <= a_i <= d_i.
/// - Restricted master: a dense revised simplex (explicit basis inverse, m x m, refactorised
///   periodically) starting from the m single-size patterns plus optional warm-start patterns (the
///   incumbent's bins); Dantzig pricing over the column pool, whose columns are stored sparse.
/// - Dual smoothing (Wentges): pricing at a convex combination of the master duals and the best
///   dual-feasible point so far; a mis-price adds no column and the next step prices at the master
///   duals, so convergence is detected exactly as without smoothing.
/// - Pricing: max sum_i y_i a_i over patterns, a bounded knapsack (bounds split in binary parts):
///   dynamic programming over the capacity when C times the number of parts is <= 1e6; otherwise
///   Nemhauser–Ullmann Pareto lists (capped; the next best Pareto states are added as extra
///   columns when they improve the master), then a depth-first branch and bound with the
///   fractional-knapsack bound, then the DP up to 4e7 cells; past every cap, the fractional bound
///   itself (an over-estimate, so the claimed bound stays valid).
/// - Validity (Farley 1990): for ANY y >= 0 whose best pattern value is z* > 0, y / z* is dual
///   feasible, so z_LP >= sum_i d_i y_i / z*. The bound we claim is that value, computed from the
///   clamped duals and the exact (or over-estimated) z*, minus a relative tolerance of 1e-7, rounded
///   up. It is valid at every iteration, whatever the floating-point state of the simplex; the
///   simplex only steers the duals.
/// Complexity: per iteration O(m^2) per simplex pivot plus one pricing step (O(C m log d) by DP).
/// Bounded by an iteration cap, a deadline and an early stop once the rounded bound reaches a target.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "fulcrum/core/detail/chrono.hpp"

namespace fulcrum::detail::gg {

/// Outcome of one column-generation run.
struct outcome {
  std::uint64_t bound = 0;  ///< valid lower bound on the optimum (rounded-up Farley bound)
  double lp_value = 0;      ///< best Farley value (not rounded)
  bool converged = false;   ///< pricing found no improving pattern: lp_value is the LP optimum
  std::size_t iterations = 0;
};

/// Limits of a run.
struct limits {
  std::size_t max_iterations = 2000;
  std::uint64_t stop_at = std::numeric_limits<std::uint64_t>::max();  ///< stop once bound >= stop_at
  std::uint64_t known = 0;  ///< a bound already proved elsewhere: stop once the LP cannot beat it
  std::uint64_t max_work = std::numeric_limits<std::uint64_t>::max();  ///< flops-like units (deterministic)
  double smoothing = 0.5;  ///< Wentges dual smoothing factor in [0, 1): 0 prices at the master duals
  bool has_deadline = false;
  std::chrono::steady_clock::time_point deadline{};
};

/// The pricing step: max sum y_i a_i over feasible patterns. Returns the value (an upper bound on the
/// true maximum when the search was cut) and the pattern in `best`.
template <class = void>
class basic_pricer {
 public:
  basic_pricer(std::span<const std::uint64_t> w, std::span<const std::uint64_t> d, std::uint64_t capacity)
      : w_(w.begin(), w.end()), d_(d.begin(), d.end()), capacity_(capacity) {}

  /// `exact` is set false when the value is only an upper bound.
  double solve(std::span<const double> y, std::vector<std::uint64_t>& best, bool& exact) {
    const std::size_t m = w_.size();
    best.assign(m, 0);
    exact = true;
    work_done_ = 0;
    extra_.clear();
    // Parts of the binary splitting, only items with positive dual value.
    parts_.clear();
    for (std::size_t i = 0; i < m; ++i) {
      if (!(y[i] > 0)) continue;
      const std::uint64_t most = std::min<std::uint64_t>(d_[i], capacity_ / w_[i]);
      for (std::uint64_t k = 1, left = most; left > 0; k *= 2) {
        const std::uint64_t take = std::min(k, left);
        parts_.push_back({i, take});
        left -= take;
      }
    }
    if (parts_.empty()) return 0;
    const double cells = (static_cast<double>(capacity_) + 1.0) * static_cast<double>(parts_.size());
    if (cells <= 1e6) {
      work_done_ = static_cast<std::uint64_t>(cells);
      return dp(y, best);
    }
    // Large capacity: the Pareto (Nemhauser–Ullmann) lists first, then a short branch and bound,
    // the DP only if both were cut.
    if (pareto(y, best)) return best_value_;
    best.assign(m, 0);
    work_cap_ = cells <= 4e7 ? 100'000 : 2'000'000;
    const double v = branch_and_bound(y, best, exact);
    work_done_ += work_;
    if (exact || cells > 4e7) return v;
    exact = true;
    best.assign(m, 0);
    work_done_ += static_cast<std::uint64_t>(cells);
    return dp(y, best);
  }

  /// Further good patterns of the last solve (the next best Pareto states; may be empty).
  [[nodiscard]] const std::vector<std::vector<std::uint64_t>>& extra() const noexcept { return extra_; }

  /// Units of work of the last solve (DP cells, Pareto states scanned, branch-and-bound nodes).
  [[nodiscard]] std::uint64_t work_done() const noexcept { return work_done_; }

 private:
  struct part {
    std::size_t item;
    std::uint64_t count;
  };

  double dp(std::span<const double> y, std::vector<std::uint64_t>& best) {
    const std::size_t cap = static_cast<std::size_t>(capacity_);
    value_.assign(cap + 1, 0.0);
    const std::size_t words = cap / 64 + 1;
    take_.assign(parts_.size() * words, 0);
    for (std::size_t p = 0; p < parts_.size(); ++p) {
      const std::size_t wt = static_cast<std::size_t>(w_[parts_[p].item] * parts_[p].count);
      const double v = y[parts_[p].item] * static_cast<double>(parts_[p].count);
      std::uint64_t* row = take_.data() + p * words;
      for (std::size_t c = cap; c >= wt; --c) {
        const double cand = value_[c - wt] + v;
        if (cand > value_[c]) value_[c] = cand, row[c / 64] |= std::uint64_t{1} << (c % 64);
        if (c == wt) break;
      }
    }
    std::size_t c = cap;
    for (std::size_t p = parts_.size(); p-- > 0;) {
      if ((take_[p * words + c / 64] >> (c % 64)) & 1U) {
        best[parts_[p].item] += parts_[p].count;
        c -= static_cast<std::size_t>(w_[parts_[p].item] * parts_[p].count);
      }
    }
    return value_[cap];
  }

  /// Nemhauser–Ullmann: the list of Pareto-optimal (weight, value) states, part by part; exact.
  /// False when the lists grow past a cap (then another method runs).
  bool pareto(std::span<const double> y, std::vector<std::uint64_t>& best) {
    struct node {
      std::uint64_t weight;
      double value;
      std::uint32_t parent;
      std::uint32_t part;
    };
    constexpr std::uint32_t none = 0xffffffffU;
    constexpr std::size_t max_nodes = 3'000'000;
    std::vector<node> nodes{{0, 0.0, none, none}};
    std::vector<std::uint32_t> front{0}, next;
    for (std::size_t p = 0; p < parts_.size(); ++p) {
      const std::uint64_t wt = w_[parts_[p].item] * parts_[p].count;
      const double v = y[parts_[p].item] * static_cast<double>(parts_[p].count);
      next.clear();
      std::size_t a = 0, b = 0;  // a: old states, b: old states shifted by the part
      double top = -1;
      while (a < front.size() || b < front.size()) {
        const bool b_ok = b < front.size() && nodes[front[b]].weight <= capacity_ - wt;
        if (!b_ok && a >= front.size()) break;
        bool take_a;
        if (!b_ok)
          take_a = true;
        else if (a >= front.size())
          take_a = false;
        else
          take_a = nodes[front[a]].weight <= nodes[front[b]].weight + wt;
        if (take_a) {
          const std::uint32_t i = front[a++];
          if (nodes[i].value > top) top = nodes[i].value, next.push_back(i);
        } else {
          const std::uint32_t i = front[b++];
          const double nv = nodes[i].value + v;
          if (nv > top) {
            if (nodes.size() >= max_nodes) return false;
            nodes.push_back({nodes[i].weight + wt, nv, i, static_cast<std::uint32_t>(p)});
            top = nv;
            next.push_back(static_cast<std::uint32_t>(nodes.size() - 1));
          }
        }
        if (!b_ok && b < front.size()) b = front.size();  // the rest of the shifted list overflows
      }
      work_done_ += front.size() + next.size();
      front.swap(next);
    }
    auto unwind = [&](std::uint32_t at, std::vector<std::uint64_t>& pat) {
      while (nodes[at].parent != none) {
        pat[parts_[nodes[at].part].item] += parts_[nodes[at].part].count;
        at = nodes[at].parent;
      }
    };
    best_value_ = nodes[front.back()].value;  // largest value (values increase along the front)
    unwind(front.back(), best);
    // The next best Pareto states: more columns from the same pricing step.
    for (std::size_t k = 1; k <= extra_wanted && k < front.size(); ++k) {
      extra_.emplace_back(w_.size(), 0);
      unwind(front[front.size() - 1 - k], extra_.back());
    }
    return true;
  }

  double branch_and_bound(std::span<const double> y, std::vector<std::uint64_t>& best, bool& exact) {
    order_.clear();
    for (std::size_t i = 0; i < w_.size(); ++i)
      if (y[i] > 0) order_.push_back(i);
    std::stable_sort(order_.begin(), order_.end(), [&](std::size_t a, std::size_t b) {
      return y[a] / static_cast<double>(w_[a]) > y[b] / static_cast<double>(w_[b]);
    });
    cur_.assign(w_.size(), 0);
    best_value_ = 0;
    work_ = 0;
    cut_ = false;
    best_ = &best;
    y_ = y;
    // Greedy start.
    {
      std::uint64_t room = capacity_;
      double v = 0;
      for (std::size_t i : order_) {
        const std::uint64_t k = std::min<std::uint64_t>(d_[i], room / w_[i]);
        cur_[i] = k, room -= k * w_[i], v += static_cast<double>(k) * y[i];
      }
      best_value_ = v, best = cur_;
      std::fill(cur_.begin(), cur_.end(), 0);
    }
    search(0, capacity_, 0.0);
    if (cut_) {
      exact = false;
      // Upper bound: the Dantzig bound of the whole knapsack.
      return static_cast<double>(capacity_) *
             (order_.empty() ? 0.0 : y[order_[0]] / static_cast<double>(w_[order_[0]]));
    }
    return best_value_;
  }

  void search(std::size_t from, std::uint64_t room, double value) {
    if (cut_) return;
    if (++work_ > work_cap_) {
      cut_ = true;
      return;
    }
    if (value > best_value_) best_value_ = value, *best_ = cur_;
    for (std::size_t k = from; k < order_.size(); ++k) {
      const std::size_t i = order_[k];
      if (w_[i] > room || cur_[i] == d_[i]) continue;
      if (value + dantzig(k, room) <= best_value_ * (1 + 1e-12)) return;  // bound of everything from k on
      ++cur_[i];
      search(k, room - w_[i], value + y_[i]);
      --cur_[i];
      if (cut_) return;
    }
  }

  /// Fractional-knapsack bound of the items order_[k..] (their remaining copies) in `room`.
  double dantzig(std::size_t k, std::uint64_t room) const {
    double v = 0;
    for (; k < order_.size() && room > 0; ++k) {
      const std::size_t i = order_[k];
      const std::uint64_t left = d_[i] - cur_[i];
      if (left == 0) continue;
      const std::uint64_t whole = std::min<std::uint64_t>(left, room / w_[i]);
      v += static_cast<double>(whole) * y_[i];
      room -= whole * w_[i];
      if (whole < left) return v + static_cast<double>(room) * (y_[i] / static_cast<double>(w_[i]));
    }
    return v;
  }

  std::vector<std::uint64_t> w_, d_;
  std::uint64_t capacity_;
  std::vector<part> parts_;
  std::vector<double> value_;
  std::vector<std::uint64_t> take_;  ///< bit per (part, capacity)
  std::vector<std::size_t> order_;
  std::vector<std::uint64_t> cur_;
  std::vector<std::uint64_t>* best_ = nullptr;
  std::span<const double> y_;
  double best_value_ = 0;
  std::uint64_t work_ = 0;
  std::uint64_t work_cap_ = 2'000'000;
  std::uint64_t work_done_ = 0;
  static constexpr std::size_t extra_wanted = 4;
  std::vector<std::vector<std::uint64_t>> extra_;
  bool cut_ = false;
};
using pricer = basic_pricer<>;

/// Column generation over distinct sizes `w` (each in 1..C) with demands `d` (each >= 1).
/// `initial`: optional patterns (counts per distinct size, each fitting in the capacity), e.g. the
/// bins of a heuristic packing, added to the column pool as a warm start.
template <class = void>
inline outcome column_generation(std::span<const std::uint64_t> w, std::span<const std::uint64_t> d,
                                 std::uint64_t capacity, const limits& lim,
                                 std::span<const std::vector<std::uint64_t>> initial = {}) {
  outcome out;
  const std::size_t m = w.size();
  if (m == 0) return out;

  // Column pool and the basis: basis[r] = column index (>= 0) or -(i+1) for the
  // surplus of row i.
  // Columns are stored sparse (a pattern holds at most C / min w distinct sizes): column j is
  // entries col_start[j] .. col_start[j + 1] of (col_row, col_val).
  std::vector<std::size_t> col_start{0}, col_row;
  std::vector<double> col_val;
  std::vector<long long> basis(m);
  std::vector<double> binv(m * m, 0.0), xb(m, 0.0);
  for (std::size_t i = 0; i < m; ++i) {
    const std::uint64_t k = std::min<std::uint64_t>(d[i], capacity / w[i]);
    col_row.push_back(i);
    col_val.push_back(static_cast<double>(k));
    col_start.push_back(col_row.size());
    basis[i] = static_cast<long long>(i);
    binv[i * m + i] = 1.0 / static_cast<double>(k);
    xb[i] = static_cast<double>(d[i]) / static_cast<double>(k);
  }
  for (const auto& pat : initial) {
    if (pat.size() != m) continue;
    std::uint64_t room = capacity;
    bool fits = true;
    for (std::size_t i = 0; i < m && fits; ++i) {
      fits = pat[i] <= room / w[i];
      if (fits) room -= pat[i] * w[i];
    }
    if (!fits) continue;  // not a pattern: it would make the bound invalid
    std::size_t nz = 0;
    for (std::size_t i = 0; i < m; ++i)
      if (pat[i] > 0) col_row.push_back(i), col_val.push_back(static_cast<double>(std::min(pat[i], d[i]))), ++nz;
    if (nz > 0) col_start.push_back(col_row.size());
  }
  auto pool_size = [&]() { return col_start.size() - 1; };
  auto column = [&](long long j, std::vector<double>& a) {
    a.assign(m, 0.0);
    if (j >= 0) {
      const auto c = static_cast<std::size_t>(j);
      for (std::size_t e = col_start[c]; e < col_start[c + 1]; ++e) a[col_row[e]] = col_val[e];
    } else {
      a[static_cast<std::size_t>(-j - 1)] = -1.0;
    }
  };
  auto cost = [&](long long j) { return j >= 0 ? 1.0 : 0.0; };
  // Refactorise: B^{-1} by Gauss-Jordan with partial pivoting; x_B = B^{-1} d.
  auto refactor = [&]() {
    std::vector<double> bm(m * m, 0.0), a;
    for (std::size_t r = 0; r < m; ++r) {
      column(basis[r], a);
      for (std::size_t i = 0; i < m; ++i) bm[i * m + r] = a[i];
    }
    std::vector<double> inv(m * m, 0.0);
    for (std::size_t i = 0; i < m; ++i) inv[i * m + i] = 1.0;
    for (std::size_t c = 0; c < m; ++c) {
      std::size_t piv = c;
      for (std::size_t r = c + 1; r < m; ++r)
        if (std::fabs(bm[r * m + c]) > std::fabs(bm[piv * m + c])) piv = r;
      if (std::fabs(bm[piv * m + c]) < 1e-12) return false;
      if (piv != c)
        for (std::size_t k = 0; k < m; ++k)
          std::swap(bm[c * m + k], bm[piv * m + k]), std::swap(inv[c * m + k], inv[piv * m + k]);
      const double p = bm[c * m + c];
      // Columns left of c are already eliminated (zero in row c): only k >= c of bm changes.
      for (std::size_t k = c; k < m; ++k) bm[c * m + k] /= p;
      for (std::size_t k = 0; k < m; ++k) inv[c * m + k] /= p;
      for (std::size_t r = 0; r < m; ++r) {
        if (r == c) continue;
        const double f = bm[r * m + c];
        if (f == 0) continue;
        for (std::size_t k = c; k < m; ++k) bm[r * m + k] -= f * bm[c * m + k];
        for (std::size_t k = 0; k < m; ++k) inv[r * m + k] -= f * inv[c * m + k];
      }
    }
    binv.swap(inv);
    for (std::size_t r = 0; r < m; ++r) {
      double s = 0;
      for (std::size_t i = 0; i < m; ++i) s += binv[r * m + i] * static_cast<double>(d[i]);
      xb[r] = std::max(0.0, s);
    }
    return true;
  };

  std::vector<double> y(m), yplus(m), a, u(m);
  std::vector<std::uint64_t> pattern;
  pricer price(w, d, capacity);
  std::size_t pivots = 0;
  std::uint64_t work = 0;
  auto duals = [&]() {
    // y = c_B^T B^{-1}, row by row (surplus columns cost 0).
    std::fill(y.begin(), y.end(), 0.0);
    for (std::size_t r = 0; r < m; ++r) {
      if (basis[r] < 0) continue;
      for (std::size_t i = 0; i < m; ++i) y[i] += binv[r * m + i];
    }
  };
  auto time_up = [&]() { return lim.has_deadline && std::chrono::steady_clock::now() >= lim.deadline; };

  // Solve the restricted master over the pool (Dantzig pricing, capped pivots).
  auto solve_master = [&]() {
    const std::size_t cap = 50 * m + 500;
    duals();
    for (std::size_t it = 0; it < cap; ++it) {
      long long enter = 0;
      double best_rc = -1e-9;
      bool found = false;
      for (std::size_t j = 0; j < pool_size(); ++j) {
        double ya = 0;
        for (std::size_t e = col_start[j]; e < col_start[j + 1]; ++e) ya += y[col_row[e]] * col_val[e];
        const double rc = 1.0 - ya;
        if (rc < best_rc) best_rc = rc, enter = static_cast<long long>(j), found = true;
      }
      for (std::size_t i = 0; i < m; ++i)
        if (y[i] < best_rc) best_rc = y[i], enter = -static_cast<long long>(i) - 1, found = true;
      if (!found) return;
      if ((it & 63) == 63 && time_up()) return;
      work += static_cast<std::uint64_t>(m) * (3 * m + pool_size());
      if (work > lim.max_work) return;
      if (enter >= 0) {
        const auto c = static_cast<std::size_t>(enter);
        for (std::size_t r = 0; r < m; ++r) {
          double s = 0;
          for (std::size_t e = col_start[c]; e < col_start[c + 1]; ++e) s += binv[r * m + col_row[e]] * col_val[e];
          u[r] = s;
        }
      } else {
        const auto i = static_cast<std::size_t>(-enter - 1);
        for (std::size_t r = 0; r < m; ++r) u[r] = -binv[r * m + i];
      }
      std::size_t leave = m;
      double ratio = std::numeric_limits<double>::infinity();
      for (std::size_t r = 0; r < m; ++r) {
        if (u[r] <= 1e-9) continue;
        const double t = xb[r] / u[r];
        if (leave == m || t < ratio - 1e-12 || (t <= ratio + 1e-12 && u[r] > u[leave])) ratio = t, leave = r;
      }
      if (leave == m) return;  // numerically unbounded: keep the current duals
      const double p = u[leave];
      for (std::size_t k = 0; k < m; ++k) binv[leave * m + k] /= p;
      xb[leave] /= p;
      for (std::size_t r = 0; r < m; ++r) {
        if (r == leave || u[r] == 0) continue;
        const double f = u[r];
        for (std::size_t k = 0; k < m; ++k) binv[r * m + k] -= f * binv[leave * m + k];
        xb[r] = std::max(0.0, xb[r] - f * xb[leave]);
      }
      basis[leave] = enter;
      // y' = y + rc * (row `leave` of the new inverse): the entering column gets reduced cost 0.
      for (std::size_t i = 0; i < m; ++i) y[i] += best_rc * binv[leave * m + i];
      if (++pivots % std::max<std::size_t>(1000, 4 * m) == 0) {
        if (!refactor()) return;
        duals();
      }
    }
  };

  // Dual smoothing (Wentges 1997): price at ysep = alpha * center + (1 - alpha) * y_master, where the
  // center is the best dual-feasible point so far (the duals of the best Farley bound, scaled by
  // 1 / z*). A pattern that does not improve the master at y_master (a "mis-price") adds no column,
  // and the next iteration prices at y_master itself, so convergence is still detected exactly.
  std::vector<double> center(m, 0.0), ysep(m);
  bool have_center = false;
  bool smooth = true;
  const double alpha = std::clamp(lim.smoothing, 0.0, 0.99);
  for (out.iterations = 0; out.iterations < lim.max_iterations; ++out.iterations) {
    solve_master();
    duals();
    const bool smoothed = smooth && have_center && alpha > 0;
    double dy = 0;
    for (std::size_t i = 0; i < m; ++i) {
      yplus[i] = std::max(0.0, y[i]);
      ysep[i] = smoothed ? alpha * center[i] + (1 - alpha) * yplus[i] : yplus[i];
      dy += ysep[i] * static_cast<double>(d[i]);
    }
    bool exact = true;
    const double z = price.solve(ysep, pattern, exact);
    if (z > 0) {
      // Over-estimate z slightly and under-estimate the value: the claim stays valid.
      const double value = dy / (z * (1 + 1e-9));
      if (value > out.lp_value) {
        out.lp_value = value;
        for (std::size_t i = 0; i < m; ++i) center[i] = ysep[i] / z;
        have_center = true;
      }
      const double safe = out.lp_value - 1e-7 * std::max(1.0, out.lp_value);
      const double up = std::ceil(safe);
      if (up > 0 && up < 1.8e19) out.bound = std::max(out.bound, static_cast<std::uint64_t>(up));
    }
    double master = 0;
    for (std::size_t r = 0; r < m; ++r) master += cost(basis[r]) * xb[r];
    if (!exact) break;
    // The pattern's value at the master duals (z itself when not smoothed).
    double ya = 0;
    for (std::size_t i = 0; i < m; ++i) ya += yplus[i] * static_cast<double>(pattern[i]);
    const bool improving = ya > 1 + 1e-9;
    if (!improving && !smoothed) {
      out.converged = true;
      break;
    }
    smooth = improving;
    if (out.bound >= lim.stop_at) break;
    // The master value rounds up to the bound already: more columns cannot raise the rounded bound.
    if (static_cast<double>(std::max(out.bound, lim.known)) >= std::ceil(master - 1e-6)) break;
    if (time_up() || work > lim.max_work) break;
    work += price.work_done() + m;
    if (!improving) continue;
    auto add = [&](const std::vector<std::uint64_t>& pat) {
      for (std::size_t i = 0; i < m; ++i)
        if (pat[i] > 0) col_row.push_back(i), col_val.push_back(static_cast<double>(pat[i]));
      col_start.push_back(col_row.size());
    };
    add(pattern);
    for (const auto& pat : price.extra()) {
      double v = 0;
      for (std::size_t i = 0; i < m; ++i) v += yplus[i] * static_cast<double>(pat[i]);
      if (v > 1 + 1e-9) add(pat);
    }
  }
  return out;
}

}  // namespace fulcrum::detail::gg
