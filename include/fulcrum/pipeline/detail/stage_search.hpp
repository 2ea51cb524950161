// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/detail/stage_search.hpp
/// The engine behind `search_partition` (OmniBal-style balanced search) and
/// `joint_partition_recompute` (AdaPipe-style joint search): a two-level search over 1F1B
/// pipelines whose objective is the simulated iteration time.
///
/// Level 1 (inner, exact): for every candidate stage (start i, end j, position s) the least
/// recompute time that makes the stage fit the device: params(i..j) + min(m, p - s) * kept(i..j)
/// <= device memory. The inner model is a template parameter (`Inner`), so this header does not
/// depend on recompute/: `keep_all_activations` below (every layer keeps its activation_memory,
/// no recompute) or the recompute frontier of recompute/detail/joint_engine.hpp (one Pareto
/// frontier of (kept memory, recompute time) per start i, extended layer by layer; every (j, s) is
/// a binary search on it). An Inner provides
///   void start(std::size_t i);                         a stage starting at layer i
///   bool extend(std::size_t layer, std::uint64_t cap); add a layer; false: nothing fits in cap
///   double least(std::uint64_t budget) const;          least added time with kept <= budget (inf: none)
///   stage_choice choose(std::size_t i, std::size_t j, std::uint64_t budget) const;
/// Level 2 (outer, exact): depth-first branch and bound over the stage boundaries. The simulated
/// time of a 1F1B schedule is the longest path through its operation graph and never decreases
/// when a stage gets slower, so with w_k = f_k + b_k (recompute included) it is at least
///   LB1_k = sum_{j<k} w_j + m w_k + 2k c                      (reach stage k, run it, drain)
///   LB2_k = sum_{j!=k} w_j + f_k + m b_k + max(0, m - u_k - 1) f_k + 2(p-1) c
///           (micro-batch 0 through every stage and back to k, the rest of stage k, drain;
///            u_k = min(p - k - 1, m) warm-up forwards)
/// for every stage k. Unfixed stages are bounded with the least possible bottleneck of the rest
/// (a DP over suffixes, O(n^2 p)) and the recompute-free work of the rest. Leaves are simulated
/// (schedule.hpp). Children are visited in order of their bound; a node is cut when its bound
/// reaches the best time found (relative slack 1e-9). Every product that is added to something
/// goes through detail::mul (core/detail/float.hpp), so no build contracts a bound into an FMA
/// and the search visits the same nodes everywhere.
/// Guarantee: the least simulated iteration time over all partitions whose plain bottleneck
/// (without recompute) is within the tolerance of the optimum, each stage with its least
/// recompute, up to a relative 1e-9 (proven_optimal = true), unless `limits` stop the search.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/detail/chrono.hpp"
#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/options.hpp"
#include "fulcrum/pipeline/plan.hpp"
#include "fulcrum/pipeline/profile.hpp"
#include "fulcrum/pipeline/schedule.hpp"
#include "fulcrum/pipeline/stage_partition.hpp"

namespace fulcrum::detail {

/// What the inner model chose for one stage: per layer of the stage its option index, the
/// added time per micro-batch and the activation memory kept per micro-batch.
struct stage_choice {
  std::vector<std::size_t> choice;
  double time = 0;
  std::uint64_t memory = 0;
  bool fits = true;  ///< false: even the least-memory choice exceeds the budget
};

/// Copies and validates the layers (non-empty; forward and backward finite and >= 0).
template <class = void>
inline std::vector<pipeline_layer> validated_layers(std::string_view where, std::span<const pipeline_layer> layers) {
  std::vector<pipeline_layer> out(layers.begin(), layers.end());
  const std::size_t n = out.size();
  if (n == 0) throw invalid_input(describe(where, "layers.size()", n, "need at least one layer"));
  for (std::size_t i = 0; i < n; ++i) {
    require_non_negative(where, "layers.forward", i, out[i].forward);
    require_non_negative(where, "layers.backward", i, out[i].backward);
  }
  return out;
}

template <class = void>
inline void validate_search_options(std::string_view where, const pipeline_search_options& o, std::size_t n) {
  if (o.stages == 0) throw invalid_input(describe(where, "stages", o.stages, "need at least one stage"));
  if (o.stages > n)
    throw invalid_input(describe(where, "stages", o.stages,
                                 "more stages than layers (" + std::to_string(n) + "); no stage may be empty"));
  if (o.micro_batches == 0)
    throw invalid_input(describe(where, "micro_batches", o.micro_batches, "need at least one micro-batch"));
  require_non_negative(where, "p2p_time", 0, o.p2p_time);
  if (std::isnan(o.bottleneck_tolerance) || o.bottleneck_tolerance < 0)
    throw invalid_input(describe(where, "bottleneck_tolerance", o.bottleneck_tolerance, "must be >= 0"));
}

/// Inner model without recompute: every layer keeps its activation_memory; a stage fits when
/// params + in-flight x (sum of activation_memory) <= device memory.
template <class = void>
class basic_keep_all_activations {
 public:
  explicit basic_keep_all_activations(const std::vector<pipeline_layer>& layers) : layers_(&layers) {}
  void start(std::size_t) { kept_ = 0; }
  bool extend(std::size_t layer, std::uint64_t cap) {
    const std::uint64_t a = (*layers_)[layer].activation_memory;
    if (a > cap || kept_ > cap - a) return false;
    kept_ += a;
    return true;
  }
  [[nodiscard]] double least(std::uint64_t budget) const {
    return kept_ <= budget ? 0.0 : std::numeric_limits<double>::infinity();
  }
  [[nodiscard]] static constexpr bool exact() noexcept { return true; }
  /// Work of one extend() call, in the unit of the set-up budget.
  [[nodiscard]] static constexpr std::uint64_t step_cost() noexcept { return 1; }
  [[nodiscard]] stage_choice choose(std::size_t i, std::size_t j, std::uint64_t budget) const {
    stage_choice c;
    c.choice.assign(j - i, 0);
    for (std::size_t l = i; l < j && c.fits; ++l) {
      const std::uint64_t a = (*layers_)[l].activation_memory;
      c.fits = a <= budget && c.memory <= budget - a;
      if (c.fits) c.memory += a;
    }
    return c;
  }

 private:
  const std::vector<pipeline_layer>* layers_;
  std::uint64_t kept_ = 0;
};
using keep_all_activations = basic_keep_all_activations<>;

template <class Inner>
class stage_search_engine {
 public:
  static constexpr double inf = std::numeric_limits<double>::infinity();
  /// Set-up budget: inner-model work units (see choose_stride); about 0.1 s.
  static constexpr std::uint64_t setup_work = std::uint64_t{1} << 24;

  /// `search`: when the candidate stages would cost more than setup_work to price, stage
  /// boundaries are restricted to multiples of a stride g (a power of two, at most n / p), so the
  /// set-up stays within the budget; the plan is then not proven optimal (see solve()). Without
  /// `search` only evaluate() may be called: nothing is tabulated.
  stage_search_engine(std::string_view where, std::vector<pipeline_layer> layers, Inner inner,
                      const pipeline_search_options& o, double plain_cap, bool search = true)
      : where_(where),
        layers_(std::move(layers)),
        inner_(std::move(inner)),
        o_(o),
        nf_(layers_.size()),
        p_(o.stages),
        m_(o.micro_batches) {
    const std::size_t n = nf_;
    fpf_.assign(n + 1, 0.0), fpb_.assign(n + 1, 0.0), frest_.assign(n + 1, 0.0), fparam_.assign(n + 1, 0);
    for (std::size_t i = 0; i < n; ++i) {
      fpf_[i + 1] = fpf_[i] + layers_[i].forward;
      fpb_[i + 1] = fpb_[i] + layers_[i].backward;
      fparam_[i + 1] = checked_add(fparam_[i], layers_[i].parameter_memory, "layers.parameter_memory");
    }
    for (std::size_t i = n; i-- > 0;) frest_[i] = frest_[i + 1] + (layers_[i].forward + layers_[i].backward);
    plain_cap_ = plain_cap;
    if (search) {
      build(choose_stride());
    } else {
      n_ = nf_;
      pos_.resize(n_ + 1);
      for (std::size_t q = 0; q <= n_; ++q) pos_[q] = q;
      pf_ = fpf_, pb_ = fpb_, pparam_ = fparam_, rest_ = frest_;
    }
  }

  [[nodiscard]] double plain(std::size_t i, std::size_t j) const { return (pf_[j] - pf_[i]) + (pb_[j] - pb_[i]); }
  /// Least recompute time of stage s = layers [i, j); inf when it cannot fit or lies outside the
  /// window (a plain cost above the cap, or a start no partition within the cap reaches).
  [[nodiscard]] double rc(std::size_t s, std::size_t i, std::size_t j) const {
    if (i < a_[s] || i > b_[s]) return inf;
    const window& w = win_[wbase_[s] + (i - a_[s])];
    return j < w.jlo || j - w.jlo >= w.len ? inf : rc_[w.off + (j - w.jlo)];
  }
  [[nodiscard]] double f(std::size_t i, std::size_t j) const { return pf_[j] - pf_[i]; }
  [[nodiscard]] double b(std::size_t s, std::size_t i, std::size_t j) const { return (pb_[j] - pb_[i]) + rc(s, i, j); }
  [[nodiscard]] double w(std::size_t s, std::size_t i, std::size_t j) const { return f(i, j) + b(s, i, j); }

  /// The outer branch and bound. Throws infeasible when no partition fits.
  pipeline_plan solve() {
    if (bmin(0, 0) == inf && stride_ > 1) build(1);  // only the full grid may say "nothing fits"
    if (bmin(0, 0) == inf)
      throw infeasible(describe(where_, "device_memory", o_.device_memory,
                                "no partition into " + std::to_string(p_) +
                                    " stages fits, even with the least-memory recompute option of every layer"));
    // incumbent: the least-bottleneck partition (from the suffix DP)
    std::vector<std::size_t> bnd(p_ + 1, 0);
    for (std::size_t s = 0; s < p_; ++s) bnd[s + 1] = bnext_[wbase_[s] + (bnd[s] - a_[s])];
    best_time_ = simulate(bnd);
    best_ = bnd;
    cur_.assign(p_ + 1, 0);
    kids_.assign(p_, {});
    start_ = std::chrono::steady_clock::now();
    complete_ = true;
    dfs(0, 0, 0.0, 0.0, -inf);
    auto plan = finish(best_);
    if (stride_ > 1 || !inner_.exact()) {
      // searched a restricted set (boundaries on the stride, or a thinned recompute frontier):
      // only the relaxation of relaxed_bound() holds for every plan
      plan.proven_optimal = false;
      plan.lower_bound = std::min(relaxed_bound(), plan.iteration_time);
    } else {
      plan.proven_optimal = complete_;
      // stopped by the limits: every plan not simulated lies under an unfinished node (bound >= the
      // least open bound) or was cut by its bound (>= the best time less the slack)
      const double cut = best_time_ - mul(1e-9, best_time_);
      plan.lower_bound = complete_ ? plan.iteration_time : std::max(root_bound(), std::min(cut, open_bound_));
    }
    plan.nodes = nodes_;
    return plan;
  }

  /// Evaluates given boundaries (each stage with its least recompute); throws infeasible naming a
  /// stage that cannot fit.
  pipeline_plan evaluate(const std::vector<std::size_t>& bnd) {
    const std::uint64_t M = o_.device_memory;
    for (std::size_t s = 0; s < p_; ++s) {
      const std::uint64_t params = fparam_[bnd[s + 1]] - fparam_[bnd[s]];
      if (params <= M &&
          inner_.choose(bnd[s], bnd[s + 1], (M - params) / std::min<std::uint64_t>(m_, p_ - s)).fits)
        continue;
      throw infeasible(describe(where_, "stage", s,
                                  "layers [" + std::to_string(bnd[s]) + ", " + std::to_string(bnd[s + 1]) +
                                      ") do not fit the device memory (" + std::to_string(o_.device_memory) +
                                      ") even with the least-memory recompute options"));
    }
    auto plan = finish(bnd);
    plan.lower_bound = 0;
    return plan;
  }

 private:
  /// The set-up extends the inner model once per (start, layer of the stage) pair: about
  /// sum_i (jmax_i - i) / g steps of inner.step_cost() each with stride g, and holds about p times
  /// that / g cells. The least power of two g <= n / p that keeps the steps within setup_work.
  std::size_t choose_stride() const {
    const std::size_t n = nf_;
    const auto& pf = fpf_;
    const auto& pb = fpb_;
    const auto& pparam = fparam_;
    const double plain_cap = plain_cap_;
    const std::uint64_t M = o_.device_memory;
    std::uint64_t steps = 0;
    std::size_t j = 0;
    for (std::size_t i = 0; i < n; ++i) {
      j = std::max(j, i);
      while (j < n && pparam[j + 1] - pparam[i] <= M && (pf[j + 1] - pf[i]) + (pb[j + 1] - pb[i]) <= plain_cap) ++j;
      steps += j - i;
    }
    const std::uint64_t cost = inner_.step_cost();
    const std::uint64_t budget = setup_work / cost;
    std::size_t g = 1;
    while (steps / g > budget && 2 * g <= n / p_) g *= 2;
    return g;
  }

  /// Positions every stride layers (and n), then the bands, the recompute table and the suffix DP.
  void build(std::size_t stride) {
    const std::size_t n = nf_;
    stride_ = stride;
    n_ = (n + stride_ - 1) / stride_;
    pos_.resize(n_ + 1);
    for (std::size_t q = 0; q <= n_; ++q) pos_[q] = std::min(q * stride_, n);
    pf_.resize(n_ + 1), pb_.resize(n_ + 1), pparam_.resize(n_ + 1), rest_.resize(n_ + 1);
    for (std::size_t q = 0; q <= n_; ++q)
      pf_[q] = fpf_[pos_[q]], pb_[q] = fpb_[pos_[q]], pparam_[q] = fparam_[pos_[q]], rest_[q] = frest_[pos_[q]];
    build_bands(plain_cap_);
    build_recompute_table(plain_cap_);
    build_suffix_bottleneck();
  }

  /// A bound valid for every partition and recompute choice: a stage costs at least its plain
  /// work (recompute only adds), so the bottleneck is at least max(largest layer, total / p).
  [[nodiscard]] double relaxed_bound() const {
    double b = rest_[0] / static_cast<double>(p_);
    for (const auto& l : layers_) b = std::max(b, l.forward + l.backward);
    const double c = o_.p2p_time;
    const double lb1 = mul(static_cast<double>(m_), b);
    const double lb2 = rest_[0] + mul(static_cast<double>(m_ > p_ ? m_ - p_ : 0), b) + mul(2.0 * double(p_ - 1), c);
    return std::max(lb1, lb2);
  }

  /// Stage s can only start at layers a_[s]..b_[s]: the prefix [0, i) must split into s stages and
  /// the suffix [i, n) into p - s stages, each non-empty with a plain cost <= the cap (greedy reach
  /// from either end; plain(i, j) is monotone in i and j in floating point too, so the greedy reach
  /// is exact). With the balanced search's cap the band is about tolerance x n + n / p wide.
  void build_bands(double plain_cap) {
    const std::size_t n = n_;
    std::vector<std::size_t> fwd(p_ + 1, 0), back(p_ + 1, n);  // fwd[s]: furthest end of s stages from 0
    for (std::size_t s = 1; s <= p_; ++s) {
      std::size_t j = fwd[s - 1];
      while (j < n && plain(fwd[s - 1], j + 1) <= plain_cap) ++j;
      fwd[s] = j;
      std::size_t i = back[s - 1];  // back[q]: least start from which q stages reach n
      while (i > 0 && plain(i - 1, back[s - 1]) <= plain_cap) --i;
      back[s] = i;
    }
    a_.assign(p_ + 1, 0);
    b_.assign(p_ + 1, 0);
    for (std::size_t s = 0; s <= p_; ++s) {
      a_[s] = std::max(s, back[p_ - s]);
      b_[s] = std::min(n - (p_ - s), fwd[s]);
    }
    // a start the cap cannot reach or leave gives an empty band (a_ > b_): every rc is inf there
    // jmax[i]: the last end j with the stage's parameters and plain cost within bounds (two pointers)
    jmax_.assign(n, 0);
    const std::uint64_t M = o_.device_memory;
    std::size_t j = 0;
    for (std::size_t i = 0; i < n; ++i) {
      j = std::max(j, i);
      while (j < n && pparam_[j + 1] - pparam_[i] <= M && plain(i, j + 1) <= plain_cap) ++j;
      jmax_[i] = j;  // == i: not even one layer fits
    }
    wbase_.assign(p_ + 1, 0);
    std::size_t count = 0, cells = 0;
    for (std::size_t s = 0; s < p_; ++s) {
      wbase_[s] = count;
      if (a_[s] <= b_[s]) count += b_[s] - a_[s] + 1;
    }
    wbase_[p_] = count;
    win_.assign(count, window{});
    for (std::size_t s = 0; s < p_; ++s)
      for (std::size_t i = a_[s]; i <= b_[s] && a_[s] <= b_[s]; ++i) {
        const std::size_t lo = std::max(i + 1, a_[s + 1]), hi = std::min(jmax_[i], b_[s + 1]);
        window& w = win_[wbase_[s] + (i - a_[s])];
        w.off = cells;
        w.jlo = lo;
        w.len = hi >= lo ? hi - lo + 1 : 0;
        cells += w.len;
      }
    rc_.assign(cells, inf);
  }

  void build_recompute_table(double plain_cap) {
    const std::size_t n = n_;
    const std::uint64_t M = o_.device_memory;
    for (std::size_t i = 0; i < n; ++i) {
      // the stages that may start at i, and the furthest end any of them may reach
      std::size_t s_lo = p_, s_hi = 0, j_end = 0;
      for (std::size_t s = 0; s < p_; ++s)
        if (a_[s] <= i && i <= b_[s]) {
          s_lo = std::min(s_lo, s), s_hi = s;
          const window& w = win_[wbase_[s] + (i - a_[s])];
          if (w.len > 0) j_end = std::max(j_end, w.jlo + w.len - 1);
        }
      if (s_lo > s_hi || j_end <= i) continue;
      inner_.start(pos_[i]);
      for (std::size_t j = i + 1; j <= j_end; ++j) {
        const std::uint64_t params = pparam_[j] - pparam_[i];  // <= M: j <= jmax_[i]
        if (plain(i, j) > plain_cap) break;
        bool fits = true;  // the layers of block j - 1 (one layer without a stride)
        for (std::size_t l = pos_[j - 1]; l < pos_[j] && fits; ++l) fits = inner_.extend(l, M - params);
        if (!fits) break;  // nothing fits: only gets worse with j
        for (std::size_t s = s_lo; s <= s_hi; ++s) {
          if (i < a_[s] || i > b_[s]) continue;
          const window& w = win_[wbase_[s] + (i - a_[s])];
          if (j < w.jlo || j - w.jlo >= w.len) continue;
          const std::uint64_t budget = (M - params) / std::min<std::uint64_t>(m_, p_ - s);
          rc_[w.off + (j - w.jlo)] = inner_.least(budget);
        }
      }
    }
  }

  /// bmin(s, i): the least bottleneck (w, recompute included) of stages s..p-1 over layers [i, n).
  [[nodiscard]] double bmin(std::size_t s, std::size_t i) const {
    if (s == p_) return i == n_ ? 0.0 : inf;
    return i < a_[s] || i > b_[s] ? inf : bmin_[wbase_[s] + (i - a_[s])];
  }

  void build_suffix_bottleneck() {
    bmin_.assign(wbase_[p_], inf);
    bnext_.assign(wbase_[p_], 0);
    for (std::size_t s = p_; s-- > 0;) {
      if (a_[s] > b_[s]) continue;
      for (std::size_t i = a_[s]; i <= b_[s]; ++i) {
        const window& win = win_[wbase_[s] + (i - a_[s])];
        double best = inf;
        std::size_t arg = 0;
        for (std::size_t j = win.jlo; j < win.jlo + win.len; ++j) {
          const double r = rc_[win.off + (j - win.jlo)];
          if (r == inf) continue;
          const double v = std::max(w(s, i, j), bmin(s + 1, j));
          if (v < best) best = v, arg = j;
        }
        bmin_[wbase_[s] + (i - a_[s])] = best;
        bnext_[wbase_[s] + (i - a_[s])] = arg;
      }
    }
  }

  [[nodiscard]] double root_bound() const {
    const double c = o_.p2p_time;
    const double b0 = bmin(0, 0);
    const double lb1 = static_cast<double>(m_) * b0;
    const double lb2 = rest_[0] + mul(static_cast<double>(m_ > p_ ? m_ - p_ : 0), b0) + mul(2.0 * double(p_ - 1), c);
    return std::max(lb1, lb2);
  }

  double simulate(const std::vector<std::size_t>& bnd) {
    std::vector<double> fw(p_), bw(p_);
    for (std::size_t s = 0; s < p_; ++s) fw[s] = f(bnd[s], bnd[s + 1]), bw[s] = b(s, bnd[s], bnd[s + 1]);
    schedule_options so;
    so.micro_batches = m_;
    so.p2p_time = o_.p2p_time;
    return simulate_schedule(fw, bw, so).iteration_time;
  }

  struct child {
    double bound;
    std::size_t j;
  };

  // s: stage to place; i: its first layer; sum_w: sum of fixed stages' w; lb: best bound of fixed
  // stages (LB1 max); amax: max over fixed k of (f_k + m b_k + max(0, m-u_k-1) f_k - w_k).
  void dfs(std::size_t s, std::size_t i, double sum_w, double lb, double amax) {
    if (!complete_) return;
    if (++nodes_ > o_.limits.nodes ||
        ((nodes_ & 255) == 0 && std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                                      start_) > o_.limits.time)) {
      complete_ = false;
      return;
    }
    const double m = static_cast<double>(m_), c = o_.p2p_time;
    const double slack = mul(1e-9, best_time_);
    std::vector<child>& kids = kids_[s];
    kids.clear();
    const window& win = win_[wbase_[s] + (i - a_[s])];  // i is in the band: the parent checked rc
    for (std::size_t j = win.jlo; j < win.jlo + win.len; ++j) {
      const double r = rc_[win.off + (j - win.jlo)];
      if (r == inf) continue;
      const double fk = f(i, j), bk = b(s, i, j), wk = fk + bk;
      const double u = static_cast<double>(std::min<std::size_t>(p_ - s - 1, m_));
      const double lb1 = sum_w + mul(m, wk) + mul(2.0 * double(s), c);
      const double a = std::max(amax, fk + mul(m, bk) + mul(std::max(0.0, m - u - 1.0), fk) - wk);
      const double sw = sum_w + wk;
      double bound = std::max({lb, lb1, sw + rest_[j] + a + mul(2.0 * double(p_ - 1), c)});
      if (s + 1 < p_) {
        const double bm = bmin(s + 1, j);
        if (bm == inf) continue;
        const double ahead = static_cast<double>(m_ + s + 1 > p_ ? m_ + s + 1 - p_ : 0);
        bound = std::max({bound, sw + mul(m, bm) + mul(2.0 * double(s + 1), c),
                          sw + rest_[j] + mul(ahead, bm) + mul(2.0 * double(p_ - 1), c)});
      }
      if (bound >= best_time_ - slack) continue;
      kids.push_back({bound, j});
    }
    std::stable_sort(kids.begin(), kids.end(), [](const child& x, const child& y) { return x.bound < y.bound; });
    for (const auto& k : kids) {
      if (k.bound >= best_time_ - mul(1e-9, best_time_)) break;
      cur_[s] = i;
      cur_[s + 1] = k.j;
      if (s + 1 == p_) {
        const double t = simulate(cur_);
        if (t < best_time_) best_time_ = t, best_ = cur_;
        continue;
      }
      const double fk = f(i, k.j), bk = b(s, i, k.j), wk = fk + bk;
      const double u = static_cast<double>(std::min<std::size_t>(p_ - s - 1, m_));
      dfs(s + 1, k.j, sum_w + wk, std::max(lb, sum_w + mul(m, wk) + mul(2.0 * double(s), c)),
          std::max(amax, fk + mul(m, bk) + mul(std::max(0.0, m - u - 1.0), fk) - wk));
      if (!complete_) {  // this subtree and the later siblings (bounds >= k.bound) are unfinished
        open_bound_ = std::min(open_bound_, k.bound);
        return;
      }
    }
  }

  pipeline_plan finish(const std::vector<std::size_t>& bnd) {
    pipeline_plan plan;
    plan.partition.boundaries.resize(bnd.size());
    for (std::size_t s = 0; s < bnd.size(); ++s) plan.partition.boundaries[s] = pos_[bnd[s]];
    plan.partition.stage_costs.resize(p_);
    plan.recompute_choice.assign(nf_, 0);
    plan.stage_forward.resize(p_);
    plan.stage_backward.resize(p_);
    plan.stage_recompute.resize(p_);
    plan.stage_memory.resize(p_);
    for (std::size_t s = 0; s < p_; ++s) {
      const std::size_t i = bnd[s], j = bnd[s + 1];
      const std::uint64_t params = pparam_[j] - pparam_[i];
      const std::uint64_t k = std::min<std::uint64_t>(m_, p_ - s);
      const auto sel = inner_.choose(pos_[i], pos_[j], (o_.device_memory - params) / k);
      for (std::size_t l = pos_[i]; l < pos_[j]; ++l) plan.recompute_choice[l] = sel.choice[l - pos_[i]];
      plan.stage_recompute[s] = sel.time;
      plan.stage_forward[s] = f(i, j);
      plan.stage_backward[s] = (pb_[j] - pb_[i]) + sel.time;
      plan.stage_memory[s] = params + k * sel.memory;
      plan.partition.stage_costs[s] = plan.stage_forward[s] + plan.stage_backward[s];
      plan.partition.bottleneck = std::max(plan.partition.bottleneck, plan.partition.stage_costs[s]);
    }
    schedule_options so;
    so.micro_batches = m_;
    so.p2p_time = o_.p2p_time;
    plan.schedule = simulate_schedule(plan.stage_forward, plan.stage_backward, so);
    plan.iteration_time = plan.schedule.iteration_time;
    return plan;
  }

  std::string_view where_;
  std::vector<pipeline_layer> layers_;
  Inner inner_;
  pipeline_search_options o_;
  std::size_t nf_;       // layers
  std::size_t n_ = 0;    // boundary positions - 1 (blocks of stride_ layers; == nf_ without a stride)
  std::size_t p_, m_;
  std::size_t stride_ = 1;
  std::vector<std::size_t> pos_;  // layer index of boundary position q
  std::vector<double> fpf_, fpb_, frest_;  // per layer: prefix forward / backward, suffix plain work
  std::vector<std::uint64_t> fparam_;      // per layer: prefix parameter memory
  double plain_cap_ = 0;
  struct window {
    std::size_t off = 0, jlo = 0, len = 0;  // cells rc_[off .. off + len) hold ends jlo .. jlo + len - 1
  };
  std::vector<double> pf_, pb_, rest_;
  std::vector<double> rc_, bmin_;           // banded: per (s, i) window, per band position
  std::vector<std::uint64_t> pparam_;
  std::vector<std::size_t> a_, b_, jmax_;  // band of starts per stage; last end per start
  std::vector<std::size_t> wbase_;         // first band position of stage s
  std::vector<window> win_;
  std::vector<std::size_t> bnext_, cur_, best_;
  std::vector<std::vector<child>> kids_;   // per depth, reused
  double best_time_ = inf;
  double open_bound_ = inf;  // least bound of a node left unfinished by the limits
  bool complete_ = true;
  std::uint64_t nodes_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace fulcrum::detail
