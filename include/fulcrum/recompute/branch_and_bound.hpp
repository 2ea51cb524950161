// SPDX-License-Identifier: Apache-2.0
/// @file recompute/branch_and_bound.hpp
/// Exact, anytime recompute selection by depth-first branch and bound.
///
/// What: layers in order; at each layer try its non-dominated options, fastest first; a node is
/// cut when its time plus the LP-relaxation bound of the remaining layers under the remaining
/// budget (the multiple-choice knapsack LP: convex-hull steps taken greedily, the last one
/// fractionally; Sinha and Zoltners 1979) cannot beat the best plan so far, or when the least
/// memory of the remaining layers does not fit. Starts from the greedy plan.
/// Complexity: exponential in the worst case; each node O(1) (the bound looks at no more than 256
/// hull steps: a weaker but valid bound on very long models). Stops after
/// `limits.nodes` nodes or `limits.time` with the best plan found (proven_optimal = false,
/// lower_bound = the LP bound). Use it when memories are large and irregular (the frontier DP's
/// state count grows with the number of distinct memory totals; this does not).
/// Guarantee: exact when it finishes within the limits.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fulcrum/core/detail/chrono.hpp"
#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/wide_int.hpp"
#include "fulcrum/recompute/concepts.hpp"
#include "fulcrum/recompute/detail/instance.hpp"
#include "fulcrum/recompute/greedy.hpp"
#include "fulcrum/recompute/plan.hpp"

namespace fulcrum {
namespace detail {

template <class = void>
class basic_recompute_bnb {
 public:
  basic_recompute_bnb(const recompute_instance& in, search_limits limits) : in_(in), limits_(limits) {
    const std::size_t n = in.options.size();
    steps_ = hull_steps(in, fastest_);
    frontier_.resize(n);
    for (std::size_t l = 0; l < n; ++l) {
      frontier_[l] = pareto_options(in.options[l]);
      std::reverse(frontier_[l].begin(), frontier_[l].end());  // fastest first
    }
    rest_min_.assign(n + 1, 0);
    rest_fast_mem_.assign(n + 1, 0);
    rest_fast_time_.assign(n + 1, 0.0);
    for (std::size_t l = n; l-- > 0;) {
      rest_min_[l] = rest_min_[l + 1] + in.options[l][frontier_[l].back()].memory;
      rest_fast_mem_[l] = rest_fast_mem_[l + 1] + static_cast<uint128>(in.options[l][fastest_[l]].memory);
      rest_fast_time_[l] = rest_fast_time_[l + 1] + in.options[l][fastest_[l]].time;
    }
  }

  recompute_plan solve() {
    const auto g = greedy_recompute(in_);
    best_ = g.plan;
    root_bound_ = g.lp_bound;
    choice_.assign(in_.options.size(), 0);
    start_ = std::chrono::steady_clock::now();
    complete_ = true;
    search();
    best_.proven_optimal = complete_;
    best_.lower_bound = complete_ ? best_.time : std::min(root_bound_, best_.time);
    return best_;
  }

  [[nodiscard]] std::uint64_t nodes() const noexcept { return nodes_; }

 private:
  /// Hull steps looked at per bound: caps a node's cost at O(1) whatever the layer count.
  static constexpr std::size_t max_bound_steps = 256;

  /// LP bound on the time of layers l..n-1 within `budget`. Every hull step adds time >= 0, so
  /// stopping after max_bound_steps steps (a weaker bound, never above the LP bound) stays a valid
  /// lower bound: the search stays exact, each node costs O(max_bound_steps).
  [[nodiscard]] double suffix_bound(std::size_t l, std::uint64_t budget) const {
    double t = rest_fast_time_[l];
    uint128 mem = rest_fast_mem_[l];
    std::size_t looked = 0;
    for (const auto& st : steps_) {
      if (mem <= budget || ++looked > max_bound_steps) break;
      if (st.layer < l) continue;
      const uint128 excess = mem - budget;
      if (excess <= st.saved) return t + st.added * static_cast<double>(static_cast<std::uint64_t>(excess)) / static_cast<double>(st.saved);
      t += st.added;
      mem -= st.saved;
    }
    return t;
  }

  /// Visits the node (l, mem, time): counts it, checks the limits, records a complete plan and
  /// applies the cut. True when its children are to be searched.
  bool enter(std::size_t l, std::uint64_t mem, double time) {
    if (!complete_) return false;
    if (++nodes_ > limits_.nodes ||
        ((nodes_ & 1023) == 0 &&
         std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_) > limits_.time)) {
      complete_ = false;
      return false;
    }
    if (l == in_.options.size()) {
      if (time < best_.time) best_ = evaluate_choice(in_, choice_);
      return false;
    }
    const double slack = mul(1e-12, std::max(1.0, std::abs(best_.time)));  // subtracted below: never contracted
    return time + suffix_bound(l, in_.budget - mem) - slack < best_.time;
  }

  /// Depth-first search with an explicit stack (one frame per layer: no recursion, so any number of
  /// layers is safe); children in frontier order, fastest option first.
  void search() {
    struct frame {
      std::size_t layer;
      std::uint64_t mem;
      double time;
      std::size_t next;  // next position in frontier_[layer]
    };
    std::vector<frame> stack;
    if (!enter(0, 0, 0.0)) return;
    stack.push_back({0, 0, 0.0, 0});
    while (!stack.empty() && complete_) {
      frame& f = stack.back();
      const auto& options = frontier_[f.layer];
      bool descended = false;
      while (f.next < options.size()) {
        const std::size_t k = options[f.next++];
        const std::uint64_t m = f.mem + in_.options[f.layer][k].memory;  // <= budget checked below: no overflow past it
        if (m < f.mem || m > in_.budget - rest_min_[f.layer + 1]) continue;
        choice_[f.layer] = k;
        const std::size_t child = f.layer + 1;
        const double t = f.time + in_.options[f.layer][k].time;
        if (enter(child, m, t)) {
          stack.push_back({child, m, t, 0});  // invalidates f: leave the loop at once
          descended = true;
          break;
        }
        if (!complete_) return;
      }
      if (!descended) stack.pop_back();
    }
  }

  const recompute_instance& in_;
  search_limits limits_;
  std::vector<hull_step> steps_;
  std::vector<std::size_t> fastest_;
  std::vector<std::vector<std::size_t>> frontier_;
  std::vector<std::uint64_t> rest_min_;
  std::vector<uint128> rest_fast_mem_;
  std::vector<double> rest_fast_time_;
  std::vector<std::size_t> choice_;
  recompute_plan best_;
  double root_bound_ = 0;
  bool complete_ = true;
  std::uint64_t nodes_ = 0;
  std::chrono::steady_clock::time_point start_;
};
using recompute_bnb = basic_recompute_bnb<>;

}  // namespace detail

/// Branch and bound (see file docs).
template <recompute_layer_range R>
[[nodiscard]] recompute_plan branch_and_bound_recompute(R&& layers, std::uint64_t memory_budget,
                                                        search_limits limits = {std::chrono::milliseconds::max(), default_recompute_nodes}) {
  const auto in = detail::make_recompute_instance("select_recompute(branch_and_bound)", layers, memory_budget);
  return detail::recompute_bnb(in, limits).solve();
}

}  // namespace fulcrum
