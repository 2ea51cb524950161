// SPDX-License-Identifier: Apache-2.0
/// @file recompute/detail/joint_engine.hpp
/// The engine behind `search_partition` (OmniBal-style balanced search) and
/// `joint_partition_recompute` (AdaPipe-style joint search): a two-level search over 1F1B
/// pipelines whose objective is the simulated iteration time.
///
/// Level 1 (inner, exact): for every candidate stage (start i, end j, position s) the least
/// recompute time that makes the stage fit the device: params(i..j) + min(m, p - s) * kept(i..j)
/// <= device memory. One Pareto frontier of (kept memory, recompute time) per start i, extended
/// layer by layer (frontier_dp.hpp); every (j, s) is a binary search on it.
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
/// reaches the best time found (relative slack 1e-9).
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
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/options.hpp"
#include "fulcrum/pipeline/partition.hpp"
#include "fulcrum/pipeline/profile.hpp"
#include "fulcrum/pipeline/schedule.hpp"
#include "fulcrum/pipeline/stage_partition.hpp"
#include "fulcrum/recompute/detail/instance.hpp"
#include "fulcrum/recompute/frontier_dp.hpp"
#include "fulcrum/recompute/plan.hpp"

namespace fulcrum {

/// Options of the pipeline searches (1F1B schedule).
struct pipeline_search_options {
  std::size_t stages = 1;                                            ///< p
  std::size_t micro_batches = 1;                                     ///< m
  std::uint64_t device_memory = std::numeric_limits<std::uint64_t>::max();  ///< per device, same unit as the layers
  double p2p_time = 0;                                               ///< one activation / gradient transfer
  /// search_partition: consider partitions whose plain bottleneck (forward + backward, no
  /// recompute) is at most (1 + tolerance) x the optimum. joint_partition_recompute ignores it.
  double bottleneck_tolerance = 0.05;
  search_limits limits{};  ///< nodes of the outer search (and wall time)
};

/// A pipeline plan: stages, recompute per layer, per-stage times and memory, simulated schedule.
struct pipeline_plan {
  stage_partition partition;                  ///< boundaries; stage_costs / bottleneck = f + b with recompute
  std::vector<std::size_t> recompute_choice;  ///< per layer: index of its recompute option
  std::vector<double> stage_forward;          ///< per stage, one micro-batch
  std::vector<double> stage_backward;         ///< per stage, one micro-batch, recompute included
  std::vector<double> stage_recompute;        ///< per stage: recompute time per micro-batch
  std::vector<std::uint64_t> stage_memory;    ///< per stage: params + in-flight x kept activations
  schedule_result schedule;                   ///< simulated 1F1B iteration
  double iteration_time = 0;                  ///< schedule.iteration_time
  double lower_bound = 0;                     ///< no plan in the searched set is faster than this
  bool proven_optimal = false;                ///< iteration_time is the least over the searched set
  std::uint64_t nodes = 0;                    ///< outer search nodes visited

  /// (iteration_time - lower_bound) / lower_bound: 0 when proven optimal.
  [[nodiscard]] double gap() const noexcept { return result_gap(iteration_time, lower_bound, proven_optimal); }
  /// max/mean and friends over the stage costs (forward + backward, recompute included).
  [[nodiscard]] load_stats stats() const { return partition.stats(); }
};

namespace detail {

struct joint_input {
  std::vector<pipeline_layer> layers;
  std::vector<std::vector<recompute_option>> options;  // per layer (default: keep all)
};

template <class L, class R>
joint_input make_joint_input(std::string_view where, const L& layers, const R& options, bool has_options) {
  joint_input in;
  for (const auto& l : layers) in.layers.push_back(l);
  const std::size_t n = in.layers.size();
  if (n == 0) throw invalid_input(describe(where, "layers.size()", n, "need at least one layer"));
  for (std::size_t i = 0; i < n; ++i) {
    require_non_negative(where, "layers.forward", i, in.layers[i].forward);
    require_non_negative(where, "layers.backward", i, in.layers[i].backward);
  }
  if (has_options) {
    for (const auto& layer : options) {
      std::vector<recompute_option> o;
      for (const auto& x : layer) o.push_back(recompute_option(x));
      in.options.push_back(std::move(o));
    }
    if (in.options.size() != n)
      throw invalid_input(describe(where, "recompute_options.size()", in.options.size(),
                                   "must equal the number of layers (" + std::to_string(n) + ")"));
    for (std::size_t i = 0; i < n; ++i) {
      const std::string field = "recompute_options[" + std::to_string(i) + "]";
      if (in.options[i].empty()) throw invalid_input(describe(where, field + ".size()", std::size_t{0}, "a layer needs at least one option"));
      for (std::size_t k = 0; k < in.options[i].size(); ++k) require_non_negative(where, field + ".time", k, in.options[i][k].time);
    }
  } else {
    for (const auto& l : in.layers) in.options.push_back({{l.activation_memory, 0.0}});
  }
  return in;
}

inline void validate_search_options(std::string_view where, const pipeline_search_options& o, std::size_t n) {
  if (o.stages == 0) throw invalid_input(describe(where, "stages", o.stages, "need at least one stage"));
  if (o.stages > n)
    throw invalid_input(describe(where, "stages", o.stages, "more stages than layers (" + std::to_string(n) + "); no stage may be empty"));
  if (o.micro_batches == 0) throw invalid_input(describe(where, "micro_batches", o.micro_batches, "need at least one micro-batch"));
  require_non_negative(where, "p2p_time", 0, o.p2p_time);
  if (std::isnan(o.bottleneck_tolerance) || o.bottleneck_tolerance < 0)
    throw invalid_input(describe(where, "bottleneck_tolerance", o.bottleneck_tolerance, "must be >= 0"));
}

class joint_engine {
 public:
  static constexpr double inf = std::numeric_limits<double>::infinity();

  joint_engine(std::string_view where, joint_input in, const pipeline_search_options& o, double plain_cap)
      : where_(where), in_(std::move(in)), o_(o), n_(in_.layers.size()), p_(o.stages), m_(o.micro_batches) {
    const std::size_t n = n_;
    pf_.assign(n + 1, 0.0);
    pb_.assign(n + 1, 0.0);
    pparam_.assign(n + 1, 0);
    for (std::size_t i = 0; i < n; ++i) {
      pf_[i + 1] = pf_[i] + in_.layers[i].forward;
      pb_[i + 1] = pb_[i] + in_.layers[i].backward;
      pparam_[i + 1] = checked_add(pparam_[i], in_.layers[i].parameter_memory, "layers.parameter_memory");
    }
    build_recompute_table(plain_cap);
    build_suffix_bottleneck();
  }

  [[nodiscard]] double plain(std::size_t i, std::size_t j) const { return (pf_[j] - pf_[i]) + (pb_[j] - pb_[i]); }
  [[nodiscard]] double rc(std::size_t s, std::size_t i, std::size_t j) const { return rc_[(s * (n_ + 1) + i) * (n_ + 1) + j]; }
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
        throw infeasible(describe(where_, "stage", s, "layers [" + std::to_string(bnd[s]) + ", " + std::to_string(bnd[s + 1]) +
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
      std::vector<frontier_state> fr{{0, 0.0, 0, 0}};
      for (std::size_t j = i + 1; j <= n; ++j) {
        const std::uint64_t params = pparam_[j] - pparam_[i];
        if (params > M || plain(i, j) > plain_cap) break;  // only grows with j
        fr = extend_frontier(fr, in_.options[j - 1], M - params);
        if (fr.empty()) break;
        for (std::size_t s = 0; s <= s_hi; ++s) {
          if (j + (p_ - 1 - s) > n) continue;  // leave a layer for every later stage
          if (s + 1 == p_ && j != n) continue;
          const std::uint64_t budget = (M - params) / std::min<std::uint64_t>(m_, p_ - s);
          // frontier: memory ascending, time descending; the last state within budget is fastest
          auto it = std::upper_bound(fr.begin(), fr.end(), budget,
                                     [](std::uint64_t v, const frontier_state& st) { return v < st.memory; });
          if (it == fr.begin()) continue;
          rc_[(s * N + i) * N + j] = std::prev(it)->time;
        }
      }
    }
  }

  void build_suffix_bottleneck() {
    const std::size_t N = n_ + 1;
    bmin_.assign((p_ + 1) * N, inf);
    bnext_.assign(p_ * N, 0);
    rest_.assign(N, 0.0);
    for (std::size_t i = n_; i-- > 0;) rest_[i] = rest_[i + 1] + (in_.layers[i].forward + in_.layers[i].backward);
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
    const double lb2 = rest_[0] + static_cast<double>(m_ > p_ ? m_ - p_ : 0) * bmin_[0] + 2.0 * double(p_ - 1) * c;
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
        ((nodes_ & 255) == 0 &&
         std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_) > o_.limits.time)) {
      complete_ = false;
      return;
    }
    const std::size_t N = n_ + 1;
    const double m = static_cast<double>(m_), c = o_.p2p_time;
    const double slack = 1e-9 * best_time_;
    std::vector<child> kids;
    const std::size_t j_hi = s + 1 == p_ ? n_ : n_ - (p_ - 1 - s);
    const std::size_t j_lo = s + 1 == p_ ? n_ : i + 1;
    for (std::size_t j = j_lo; j <= j_hi; ++j) {
      const double r = rc(s, i, j);
      if (r == inf) continue;
      const double fk = f(i, j), bk = b(s, i, j), wk = fk + bk;
      const double u = static_cast<double>(std::min<std::size_t>(p_ - s - 1, m_));
      const double lb1 = sum_w + m * wk + 2.0 * double(s) * c;
      const double a = std::max(amax, fk + m * bk + std::max(0.0, m - u - 1.0) * fk - wk);
      const double sw = sum_w + wk;
      double bound = std::max({lb, lb1, sw + rest_[j] + a + 2.0 * double(p_ - 1) * c});
      if (s + 1 < p_) {
        const double bm = bmin_[(s + 1) * N + j];
        if (bm == inf) continue;
        const double ahead = static_cast<double>(m_ + s + 1 > p_ ? m_ + s + 1 - p_ : 0);
        bound = std::max({bound, sw + m * bm + 2.0 * double(s + 1) * c,
                          sw + rest_[j] + ahead * bm + 2.0 * double(p_ - 1) * c});
      }
      if (bound >= best_time_ - slack) continue;
      kids.push_back({bound, j});
    }
    std::stable_sort(kids.begin(), kids.end(), [](const child& x, const child& y) { return x.bound < y.bound; });
    for (const auto& k : kids) {
      if (k.bound >= best_time_ - 1e-9 * best_time_) break;
      cur_[s] = i;
      cur_[s + 1] = k.j;
      if (s + 1 == p_) {
        const double t = simulate(cur_);
        if (t < best_time_) best_time_ = t, best_ = cur_;
        continue;
      }
      const double fk = f(i, k.j), bk = b(s, i, k.j), wk = fk + bk;
      const double u = static_cast<double>(std::min<std::size_t>(p_ - s - 1, m_));
      dfs(s + 1, k.j, sum_w + wk, std::max(lb, sum_w + m * wk + 2.0 * double(s) * c),
          std::max(amax, fk + m * bk + std::max(0.0, m - u - 1.0) * fk - wk));
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
      recompute_instance ri;
      ri.options.assign(in_.options.begin() + static_cast<std::ptrdiff_t>(i), in_.options.begin() + static_cast<std::ptrdiff_t>(j));
      ri.budget = (o_.device_memory - params) / k;
      const auto sel = frontier_dp_recompute(ri, std::numeric_limits<std::uint64_t>::max());
      for (std::size_t l = i; l < j; ++l) plan.recompute_choice[l] = sel->choice[l - i];
      plan.stage_recompute[s] = sel->time;
      plan.stage_forward[s] = f(i, j);
      plan.stage_backward[s] = (pb_[j] - pb_[i]) + sel->time;
      plan.stage_memory[s] = params + k * sel->memory;
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
  joint_input in_;
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

}  // namespace detail
}  // namespace fulcrum
