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
#include <chrono>
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
};

/// Copies and validates the layers (non-empty; forward and backward finite and >= 0).
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
class keep_all_activations {
 public:
  explicit keep_all_activations(const std::vector<pipeline_layer>& layers) : layers_(&layers) {}
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
  [[nodiscard]] stage_choice choose(std::size_t i, std::size_t j, std::uint64_t) const {
    stage_choice c;
    c.choice.assign(j - i, 0);
    for (std::size_t l = i; l < j; ++l) c.memory += (*layers_)[l].activation_memory;  // fitted: no overflow
    return c;
  }

 private:
  const std::vector<pipeline_layer>* layers_;
  std::uint64_t kept_ = 0;
};

template <class Inner>
class stage_search_engine {
 public:
  static constexpr double inf = std::numeric_limits<double>::infinity();

  stage_search_engine(std::string_view where, std::vector<pipeline_layer> layers, Inner inner,
                      const pipeline_search_options& o, double plain_cap)
      : where_(where),
        layers_(std::move(layers)),
        inner_(std::move(inner)),
        o_(o),
        n_(layers_.size()),
        p_(o.stages),
        m_(o.micro_batches) {
    const std::size_t n = n_;
    pf_.assign(n + 1, 0.0);
    pb_.assign(n + 1, 0.0);
    pparam_.assign(n + 1, 0);
    for (std::size_t i = 0; i < n; ++i) {
      pf_[i + 1] = pf_[i] + layers_[i].forward;
      pb_[i + 1] = pb_[i] + layers_[i].backward;
      pparam_[i + 1] = checked_add(pparam_[i], layers_[i].parameter_memory, "layers.parameter_memory");
    }
    build_recompute_table(plain_cap);
    build_suffix_bottleneck();
  }

  [[nodiscard]] double plain(std::size_t i, std::size_t j) const { return (pf_[j] - pf_[i]) + (pb_[j] - pb_[i]); }
  [[nodiscard]] double rc(std::size_t s, std::size_t i, std::size_t j) const {
    return rc_[(s * (n_ + 1) + i) * (n_ + 1) + j];
  }
  [[nodiscard]] double f(std::size_t i, std::size_t j) const { return pf_[j] - pf_[i]; }
  [[nodiscard]] double b(std::size_t s, std::size_t i, std::size_t j) const { return (pb_[j] - pb_[i]) + rc(s, i, j); }
  [[nodiscard]] double w(std::size_t s, std::size_t i, std::size_t j) const { return f(i, j) + b(s, i, j); }

  /// The outer branch and bound. Throws infeasible when no partition fits.
  pipeline_plan solve() {
    if (bmin_[0] == inf)
      throw infeasible(describe(where_, "device_memory", o_.device_memory,
                                "no partition into " + std::to_string(p_) +
                                    " stages fits, even with the least-memory recompute option of every layer"));
    // incumbent: the least-bottleneck partition (from the suffix DP)
    std::vector<std::size_t> bnd(p_ + 1, 0);
    for (std::size_t s = 0; s < p_; ++s) bnd[s + 1] = bnext_[s * (n_ + 1) + bnd[s]];
    best_time_ = simulate(bnd);
    best_ = bnd;
    cur_.assign(p_ + 1, 0);
    start_ = std::chrono::steady_clock::now();
    complete_ = true;
    dfs(0, 0, 0.0, 0.0, -inf);
    auto plan = finish(best_);
    plan.proven_optimal = complete_;
    plan.lower_bound = complete_ ? plan.iteration_time : root_bound();
    plan.nodes = nodes_;
    return plan;
  }

  /// Evaluates given boundaries (each stage with its least recompute); throws infeasible naming a
  /// stage that cannot fit.
  pipeline_plan evaluate(const std::vector<std::size_t>& bnd) {
    for (std::size_t s = 0; s < p_; ++s)
      if (rc(s, bnd[s], bnd[s + 1]) == inf)
        throw infeasible(describe(where_, "stage", s,
                                  "layers [" + std::to_string(bnd[s]) + ", " + std::to_string(bnd[s + 1]) +
                                      ") do not fit the device memory (" + std::to_string(o_.device_memory) +
                                      ") even with the least-memory recompute options"));
    auto plan = finish(bnd);
    plan.lower_bound = 0;
    return plan;
  }

 private:
  void build_recompute_table(double plain_cap) {
    const std::size_t n = n_, N = n + 1;
    rc_.assign(p_ * N * N, inf);
    const std::uint64_t M = o_.device_memory;
    for (std::size_t i = 0; i + 1 <= n; ++i) {
      const std::size_t s_hi = std::min(i, p_ - 1);  // stage s starts at >= s
      inner_.start(i);
      for (std::size_t j = i + 1; j <= n; ++j) {
        const std::uint64_t params = pparam_[j] - pparam_[i];
        if (params > M || plain(i, j) > plain_cap) break;  // only grows with j
        if (!inner_.extend(j - 1, M - params)) break;      // nothing fits: only gets worse with j
        for (std::size_t s = 0; s <= s_hi; ++s) {
          if (j + (p_ - 1 - s) > n) continue;  // leave a layer for every later stage
          if (s + 1 == p_ && j != n) continue;
          const std::uint64_t budget = (M - params) / std::min<std::uint64_t>(m_, p_ - s);
          rc_[(s * N + i) * N + j] = inner_.least(budget);
        }
      }
    }
  }

  void build_suffix_bottleneck() {
    const std::size_t N = n_ + 1;
    bmin_.assign((p_ + 1) * N, inf);
    bnext_.assign(p_ * N, 0);
    rest_.assign(N, 0.0);
    for (std::size_t i = n_; i-- > 0;) rest_[i] = rest_[i + 1] + (layers_[i].forward + layers_[i].backward);
    bmin_[p_ * N + n_] = 0;  // after the last stage: nothing left (only at n)
    for (std::size_t s = p_; s-- > 0;)
      for (std::size_t i = s; i + (p_ - s) <= n_; ++i) {
        double best = inf;
        std::size_t arg = 0;
        for (std::size_t j = i + 1; j + (p_ - 1 - s) <= n_; ++j) {
          const double r = rc(s, i, j);
          if (r == inf) continue;
          const double v = std::max(w(s, i, j), bmin_[(s + 1) * N + j]);
          if (v < best) best = v, arg = j;
        }
        bmin_[s * N + i] = best;
        bnext_[s * N + i] = arg;
      }
  }

  [[nodiscard]] double root_bound() const {
    const double c = o_.p2p_time;
    const double lb1 = static_cast<double>(m_) * bmin_[0];
    const double lb2 =
        rest_[0] + mul(static_cast<double>(m_ > p_ ? m_ - p_ : 0), bmin_[0]) + mul(2.0 * double(p_ - 1), c);
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
    const std::size_t N = n_ + 1;
    const double m = static_cast<double>(m_), c = o_.p2p_time;
    const double slack = mul(1e-9, best_time_);
    std::vector<child> kids;
    const std::size_t j_hi = s + 1 == p_ ? n_ : n_ - (p_ - 1 - s);
    const std::size_t j_lo = s + 1 == p_ ? n_ : i + 1;
    for (std::size_t j = j_lo; j <= j_hi; ++j) {
      const double r = rc(s, i, j);
      if (r == inf) continue;
      const double fk = f(i, j), bk = b(s, i, j), wk = fk + bk;
      const double u = static_cast<double>(std::min<std::size_t>(p_ - s - 1, m_));
      const double lb1 = sum_w + mul(m, wk) + mul(2.0 * double(s), c);
      const double a = std::max(amax, fk + mul(m, bk) + mul(std::max(0.0, m - u - 1.0), fk) - wk);
      const double sw = sum_w + wk;
      double bound = std::max({lb, lb1, sw + rest_[j] + a + mul(2.0 * double(p_ - 1), c)});
      if (s + 1 < p_) {
        const double bm = bmin_[(s + 1) * N + j];
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
      if (!complete_) return;
    }
  }

  pipeline_plan finish(const std::vector<std::size_t>& bnd) {
    pipeline_plan plan;
    plan.partition.boundaries = bnd;
    plan.partition.stage_costs.resize(p_);
    plan.recompute_choice.assign(n_, 0);
    plan.stage_forward.resize(p_);
    plan.stage_backward.resize(p_);
    plan.stage_recompute.resize(p_);
    plan.stage_memory.resize(p_);
    for (std::size_t s = 0; s < p_; ++s) {
      const std::size_t i = bnd[s], j = bnd[s + 1];
      const std::uint64_t params = pparam_[j] - pparam_[i];
      const std::uint64_t k = std::min<std::uint64_t>(m_, p_ - s);
      const auto sel = inner_.choose(i, j, (o_.device_memory - params) / k);
      for (std::size_t l = i; l < j; ++l) plan.recompute_choice[l] = sel.choice[l - i];
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
  std::size_t n_, p_, m_;
  std::vector<double> pf_, pb_, rc_, bmin_, rest_;
  std::vector<std::uint64_t> pparam_;
  std::vector<std::size_t> bnext_, cur_, best_;
  double best_time_ = inf;
  bool complete_ = true;
  std::uint64_t nodes_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace fulcrum::detail
