// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/detail/chain.hpp
/// Internals shared by the stage-partition algorithms: the validated chain (prefix sums of layer
/// costs and memories, per-stage speed, fixed cost and memory cap), the greedy probe for
/// homogeneous stages and the exact reachable-set probe for heterogeneous ones.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/pipeline/stage_partition.hpp"

namespace fulcrum::detail {

/// Range maximum over a fixed array in O(n) memory: a sparse table over blocks of `block`
/// values (O((n / block) log n) build) plus the values themselves; a query scans at most two
/// partial blocks and reads two table entries, O(block). (A sparse table over the values was
/// O(n log n) time and memory: 1.9 GB at n = 10^7, which broke partition_stages' O(n) term; the
/// maximum is exact either way, so the results are the same.)
template <class T>
class range_max {
 public:
  static constexpr std::size_t block = 32;
  range_max() = default;
  explicit range_max(const std::vector<T>& v) : values_(v) {
    const std::size_t n = v.size();
    const std::size_t blocks = n / block;  // full blocks only; the tail is scanned
    if (blocks == 0) return;
    std::vector<T> level(blocks);
    for (std::size_t k = 0; k < blocks; ++k)
      level[k] = *std::max_element(v.begin() + static_cast<std::ptrdiff_t>(k * block),
                                   v.begin() + static_cast<std::ptrdiff_t>((k + 1) * block));
    table_.push_back(std::move(level));
    for (std::size_t w = 1; 2 * w <= blocks; w *= 2) {
      const auto& prev = table_.back();
      std::vector<T> next(blocks - 2 * w + 1);
      for (std::size_t i = 0; i < next.size(); ++i) next[i] = std::max(prev[i], prev[i + w]);
      table_.push_back(std::move(next));
    }
  }
  /// max of v[a..b] (inclusive), a <= b.
  [[nodiscard]] T query(std::size_t a, std::size_t b) const {
    const std::size_t first_block = (a + block - 1) / block;  // first full block inside [a, b]
    const std::size_t end_block = (b + 1) / block;            // one past the last full block
    if (first_block >= end_block) return scan(a, b + 1);
    T best = scan_or(a, first_block * block, values_[first_block * block]);
    best = std::max(best, blocks_max(first_block, end_block - 1));
    if (end_block * block <= b) best = std::max(best, scan(end_block * block, b + 1));
    return best;
  }

 private:
  [[nodiscard]] T scan(std::size_t from, std::size_t to) const {
    T best = values_[from];
    for (std::size_t i = from + 1; i < to; ++i) best = std::max(best, values_[i]);
    return best;
  }
  [[nodiscard]] T scan_or(std::size_t from, std::size_t to, T init) const {
    for (std::size_t i = from; i < to; ++i) init = std::max(init, values_[i]);
    return init;
  }
  [[nodiscard]] T blocks_max(std::size_t a, std::size_t b) const {
    const std::size_t len = b - a + 1;
    const std::size_t k = static_cast<std::size_t>(std::bit_width(len)) - 1;
    return std::max(table_[k][a], table_[k][b + 1 - (std::size_t{1} << k)]);
  }

  std::vector<T> values_;
  std::vector<std::vector<T>> table_;  // table_[k][i] = max of blocks i .. i + 2^k - 1
};

/// The validated partition instance.
template <class = void>
struct basic_chain {
  std::size_t n = 0, p = 0;
  std::vector<cost_t> prefix;            ///< n + 1 prefix sums of layer costs
  std::vector<cost_t> layer;             ///< P[i+1] - P[i] as computed (the cost of layer i alone)
  std::vector<double> speed;             ///< p
  std::vector<cost_t> fixed;             ///< p
  std::vector<std::uint64_t> mem_prefix; ///< n + 1, or empty when memory is not constrained
  std::vector<std::uint64_t> mem;        ///< n, or empty
  std::vector<std::uint64_t> cap;        ///< p, or empty
  bool homogeneous = true;               ///< same speed, fixed cost and cap on every stage
  range_max<cost_t> layer_max;
  range_max<std::uint64_t> mem_max;

  [[nodiscard]] cost_t cost(std::size_t s, std::size_t i, std::size_t j) const {
    return fixed[s] + (prefix[j] - prefix[i]) / speed[s];
  }
  [[nodiscard]] bool fits(std::size_t s, std::size_t i, std::size_t j) const {
    return cap.empty() || mem_prefix[j] - mem_prefix[i] <= cap[s];
  }
  [[nodiscard]] bool ok(std::size_t s, std::size_t i, std::size_t j, cost_t bound) const {
    return cost(s, i, j) <= bound && fits(s, i, j);
  }
  /// Largest j in [lo, hi] with ok(s, i, j, bound), assuming ok(s, i, lo) (monotone in j).
  [[nodiscard]] std::size_t farthest(std::size_t s, std::size_t i, std::size_t lo, std::size_t hi, cost_t bound) const {
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo + 1) / 2;
      if (ok(s, i, mid, bound)) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
  /// Smallest i in [lo, hi] with ok(s, i, j, bound), assuming ok(s, hi, j) (monotone in i).
  [[nodiscard]] std::size_t nearest_start(std::size_t s, std::size_t lo, std::size_t hi, std::size_t j, cost_t bound) const {
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (ok(s, mid, j, bound)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
  /// Stage costs and bottleneck of given boundaries.
  [[nodiscard]] stage_partition make(std::vector<std::size_t> b, bool optimal) const {
    stage_partition r;
    r.stage_costs.resize(p);
    for (std::size_t s = 0; s < p; ++s) {
      r.stage_costs[s] = cost(s, b[s], b[s + 1]);
      r.bottleneck = s == 0 ? r.stage_costs[s] : std::max(r.bottleneck, r.stage_costs[s]);
    }
    r.boundaries = std::move(b);
    r.proven_optimal = optimal;
    r.lower_bound = optimal ? r.bottleneck : std::min(r.bottleneck, simple_bound());
    return r;
  }
  /// A bound on every partition's bottleneck: the work spread over the total speed (fixed costs
  /// included), and the largest layer on its cheapest stage. O(n + p).
  [[nodiscard]] cost_t simple_bound() const {
    double speeds = 0, weighted_fixed = 0, largest_layer = 0;
    for (std::size_t s = 0; s < p; ++s) {
      speeds += speed[s];
      weighted_fixed += fixed[s] * speed[s];
    }
    for (cost_t l : layer) largest_layer = std::max(largest_layer, l);
    cost_t cheapest = std::numeric_limits<cost_t>::infinity();
    for (std::size_t s = 0; s < p; ++s) cheapest = std::min(cheapest, fixed[s] + largest_layer / speed[s]);
    const cost_t spread = speeds > 0 ? (prefix[n] + weighted_fixed) / speeds : 0;
    return std::max(spread, p == 0 ? cost_t{0} : cheapest);
  }
};
using chain = basic_chain<>;

/// Validates the input and builds the chain. Throws invalid_input naming field, index and value.
template <class = void>
inline chain make_chain(std::string_view where, const std::vector<cost_t>& costs, std::size_t p,
                        const pipeline_options& opts) {
  chain c;
  c.n = costs.size();
  c.p = p;
  if (p == 0) throw invalid_input(describe(where, "stages", p, "need at least one stage"));
  if (c.n == 0) throw invalid_input(describe(where, "layers", c.n, "need at least one layer"));
  if (p > c.n)
    throw invalid_input(describe(where, "stages", p,
                                 "more stages than layers (" + std::to_string(c.n) + "); no stage may be empty"));
  c.prefix.resize(c.n + 1, 0.0);
  c.layer.resize(c.n);
  for (std::size_t i = 0; i < c.n; ++i) {
    require_non_negative(where, "layer_costs", i, costs[i]);
    c.prefix[i + 1] = c.prefix[i] + costs[i];
    if (!std::isfinite(c.prefix[i + 1]))
      throw invalid_input(describe(where, "layer_costs", i, costs[i], "the sum of costs overflows"));
    c.layer[i] = c.prefix[i + 1] - c.prefix[i];
  }
  auto sized = [&](std::string_view field, std::size_t got, std::size_t want, std::string_view what) {
    if (got != want)
      throw invalid_input(describe(where, field, got, "size must equal the number of " + std::string(what) + " (" +
                                                          std::to_string(want) + ")"));
  };
  if (!opts.stage_speed.empty()) {
    sized("stage_speed.size()", opts.stage_speed.size(), p, "stages");
    for (std::size_t s = 0; s < p; ++s) {
      require_non_negative(where, "stage_speed", s, opts.stage_speed[s]);
      if (!(opts.stage_speed[s] > 0)) throw invalid_input(describe(where, "stage_speed", s, opts.stage_speed[s], "must be positive"));
    }
    c.speed = opts.stage_speed;
  } else {
    c.speed.assign(p, 1.0);
  }
  if (!opts.stage_fixed_cost.empty()) {
    sized("stage_fixed_cost.size()", opts.stage_fixed_cost.size(), p, "stages");
    for (std::size_t s = 0; s < p; ++s) require_non_negative(where, "stage_fixed_cost", s, opts.stage_fixed_cost[s]);
    c.fixed = opts.stage_fixed_cost;
  } else {
    c.fixed.assign(p, 0.0);
  }
  if (!opts.stage_memory_cap.empty() && opts.layer_memory.empty())
    throw invalid_input(describe(where, "layer_memory.size()", std::size_t{0}, "stage_memory_cap needs layer_memory"));
  if (!opts.layer_memory.empty()) {
    sized("layer_memory.size()", opts.layer_memory.size(), c.n, "layers");
    c.mem = opts.layer_memory;
    c.mem_prefix.resize(c.n + 1, 0);
    for (std::size_t i = 0; i < c.n; ++i) c.mem_prefix[i + 1] = checked_add(c.mem_prefix[i], c.mem[i], "layer_memory");
    if (!opts.stage_memory_cap.empty()) {
      sized("stage_memory_cap.size()", opts.stage_memory_cap.size(), p, "stages");
      c.cap = opts.stage_memory_cap;
    }
  }
  for (std::size_t s = 1; s < p; ++s)
    if (c.speed[s] != c.speed[0] || c.fixed[s] != c.fixed[0] || (!c.cap.empty() && c.cap[s] != c.cap[0])) c.homogeneous = false;
  c.layer_max = range_max<cost_t>(c.layer);
  if (!c.cap.empty()) c.mem_max = range_max<std::uint64_t>(c.mem);
  return c;
}

/// Greedy probe for homogeneous stages: can layers [start, n) be split into stages
/// first..p-1 (each non-empty) with every stage cost <= bound? Each stage takes as many layers as
/// fit (O(log n) by binary search), which is optimal when all stages are alike.
/// O((p - first) log n).
template <class = void>
[[nodiscard]] inline bool greedy_probe(const chain& c, std::size_t start, std::size_t first, cost_t bound) {
  std::size_t pos = start;
  for (std::size_t s = first; s < c.p; ++s) {
    const std::size_t limit = c.n - (c.p - 1 - s);  // leave one layer for every later stage
    if (pos >= limit || !c.ok(s, pos, pos + 1, bound)) return false;
    if (s + 1 == c.p) return c.ok(s, pos, c.n, bound);
    pos = c.farthest(s, pos, pos + 1, limit, bound);
  }
  return false;
}

/// Exact probe for any stages (speeds, fixed costs, caps differing): the set of positions where
/// stage s can end, as a sorted list of disjoint intervals [lo, hi]. A start i can serve stage s
/// when layer i alone fits it ("unblocked"); a run [a, b] of unblocked starts reaches the ends
/// (a, far(b)], because far(i) (the farthest end from i) is non-decreasing in i.
/// Also computes the smallest bound above `bound` at which any reachable set can change
/// (`next_event`), which makes bisection exact.
template <class = void>
class basic_reach_probe {
 public:
  using interval = std::pair<std::size_t, std::size_t>;

  explicit basic_reach_probe(const chain& c) : c_(c), sets_(c.p) {}

  /// Returns whether position n is reachable after stage p - 1. Records `failed_stage`: the first
  /// stage with nothing reachable (p when n is reachable).
  bool run(cost_t bound) {
    next_event_ = std::numeric_limits<cost_t>::infinity();
    failed_stage_ = c_.p;
    std::vector<interval> prev{{0, 0}};
    for (std::size_t s = 0; s < c_.p; ++s) {
      auto& cur = sets_[s];
      cur.clear();
      const std::size_t start_limit = c_.n - (c_.p - s);  // stage s must leave a layer for each later stage
      const std::size_t end_limit = c_.n - (c_.p - 1 - s);
      for (auto [a0, b0] : prev) {
        if (a0 > start_limit) break;
        const std::size_t b = std::min(b0, start_limit);
        std::size_t i = a0;
        while (i <= b) {
          // skip blocked starts (each is an event: the bound at which it unblocks, if memory allows)
          while (i <= b && blocked(s, i, bound)) {
            if (c_.fits(s, i, i + 1)) note(c_.cost(s, i, i + 1));
            ++i;
          }
          if (i > b) break;
          const std::size_t run_end = last_unblocked(s, i, b, bound);
          const std::size_t far = c_.farthest(s, run_end, run_end + 1, end_limit, bound);
          if (far < end_limit && c_.fits(s, run_end, far + 1)) note(c_.cost(s, run_end, far + 1));
          if (!cur.empty() && cur.back().second + 1 >= i + 1) cur.back().second = std::max(cur.back().second, far);
          else cur.emplace_back(i + 1, far);
          i = run_end + 1;
        }
      }
      if (cur.empty()) {
        failed_stage_ = s;
        return false;
      }
      prev = cur;
    }
    const bool reached = sets_[c_.p - 1].back().second == c_.n;
    if (!reached) failed_stage_ = c_.p - 1;
    return reached;
  }

  /// After a successful run(bound): boundaries of a partition with bottleneck <= bound, taking
  /// stages from the last backwards, each starting as late as possible.
  [[nodiscard]] std::vector<std::size_t> extract(cost_t bound) const {
    std::vector<std::size_t> b(c_.p + 1);
    b[c_.p] = c_.n;
    for (std::size_t s = c_.p; s-- > 1;) {
      const std::size_t e = b[s + 1];
      const std::size_t lo = c_.nearest_start(s, 0, e - 1, e, bound);
      // largest reachable end of stage s-1 in [lo, e-1]
      const auto& set = sets_[s - 1];
      std::size_t best = c_.n + 1;
      for (auto it = set.rbegin(); it != set.rend(); ++it) {
        if (it->first > e - 1) continue;
        const std::size_t cand = std::min(it->second, e - 1);
        if (cand >= lo) best = cand;
        break;
      }
      b[s] = best;  // exists by construction of the reachable sets
    }
    b[0] = 0;
    return b;
  }

  [[nodiscard]] cost_t next_event() const noexcept { return next_event_; }
  [[nodiscard]] std::size_t failed_stage() const noexcept { return failed_stage_; }

 private:
  [[nodiscard]] bool blocked(std::size_t s, std::size_t i, cost_t bound) const { return !c_.ok(s, i, i + 1, bound); }
  [[nodiscard]] bool any_blocked(std::size_t s, std::size_t a, std::size_t b, cost_t bound) const {
    if (c_.fixed[s] + c_.layer_max.query(a, b) / c_.speed[s] > bound) return true;
    return !c_.cap.empty() && c_.mem_max.query(a, b) > c_.cap[s];
  }
  /// Last index r in [i, b] such that [i, r] holds no blocked start (i itself is unblocked).
  [[nodiscard]] std::size_t last_unblocked(std::size_t s, std::size_t i, std::size_t b, cost_t bound) const {
    if (!any_blocked(s, i, b, bound)) return b;
    std::size_t lo = i, hi = b;  // [i, lo] clean, [i, hi] dirty at the end... find largest clean prefix
    while (lo + 1 < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (any_blocked(s, i, mid, bound)) hi = mid;
      else lo = mid;
    }
    return lo;
  }
  void note(cost_t v) { next_event_ = std::min(next_event_, v); }

  const chain& c_;
  std::vector<std::vector<interval>> sets_;
  cost_t next_event_ = 0;
  std::size_t failed_stage_ = 0;
};
using reach_probe = basic_reach_probe<>;

/// Throws `infeasible` naming the stage whose memory cap cannot be met (probe with no time bound).
template <class = void>
inline void require_memory_feasible(std::string_view where, const chain& c, reach_probe& probe) {
  if (c.cap.empty()) return;
  if (probe.run(std::numeric_limits<cost_t>::infinity())) return;
  const std::size_t s = probe.failed_stage();
  throw infeasible(describe(where, "stage_memory_cap", s, c.cap[s],
                            "no contiguous, non-empty assignment of layers fits this stage's memory cap "
                            "together with the caps of the other stages"));
}

}  // namespace fulcrum::detail
