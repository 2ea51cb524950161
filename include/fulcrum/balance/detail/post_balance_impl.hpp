// SPDX-License-Identifier: Apache-2.0
/// @file balance/detail/post_balance_impl.hpp
/// Internals of `post_balance` (balance/post_balance.hpp): movement accounting, the shed-and-refill
/// attempt, the repair and return-home passes, the Hungarian fallback, and `post_balance` itself
/// (included by post_balance.hpp in header-only mode, compiled once into fulcrum::compiled otherwise:
/// src/balance.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

#include "fulcrum/balance/complete.hpp"
#include "fulcrum/balance/detail/bounds.hpp"
#include "fulcrum/balance/detail/order.hpp"
#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/balance/options.hpp"
#include "fulcrum/balance/partition.hpp"
#include "fulcrum/balance/post_balance.hpp"
#include "fulcrum/config.hpp"
#include "fulcrum/core/bounds.hpp"
#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/core/wide_int.hpp"

namespace fulcrum::detail {

struct post_instance {
  std::span<const cost_t> cost;
  std::span<const index_type> origin;  ///< current rank of each sample
  std::span<const std::uint64_t> bytes;
  std::size_t ranks = 1;
  std::size_t ranks_per_node = 1;
  cost_t cap = 0;  ///< no rank may end above this

  [[nodiscard]] std::size_t node_of(std::size_t r) const { return r / ranks_per_node; }
  [[nodiscard]] std::size_t nodes() const { return (ranks + ranks_per_node - 1) / ranks_per_node; }
  [[nodiscard]] std::size_t ranks_in(std::size_t node) const {
    return std::min(ranks, (node + 1) * ranks_per_node) - node * ranks_per_node;
  }
  /// The rule of balance/detail/sums.hpp: no tolerance. Loads tracked incrementally here are
  /// only a guide; every plan is accepted on loads recomputed in index order (rank_loads).
  [[nodiscard]] bool fits(cost_t load) const { return load <= cap; }
};

/// Bytes moved by an assignment, split by level. Sums of bytes are 128-bit (inputs were checked to
/// have a total that fits 64 bits).
struct movement {
  std::uint64_t inter = 0, intra = 0;
  std::size_t samples = 0;
  friend bool operator<(const movement& a, const movement& b) {
    if (a.inter != b.inter) return a.inter < b.inter;
    if (a.intra != b.intra) return a.intra < b.intra;
    return a.samples < b.samples;
  }
};

template <class = void>
inline movement measure_movement(const post_instance& in, std::span<const index_type> rank_of) {
  movement m;
  for (std::size_t i = 0; i < rank_of.size(); ++i) {
    if (rank_of[i] == in.origin[i]) continue;
    ++m.samples;
    if (in.node_of(rank_of[i]) != in.node_of(in.origin[i]))
      m.inter += in.bytes[i];
    else
      m.intra += in.bytes[i];
  }
  return m;
}

template <class = void>
inline std::vector<cost_t> rank_loads(const post_instance& in, std::span<const index_type> rank_of) {
  std::vector<cost_t> load(in.ranks, 0);
  for (std::size_t i = 0; i < rank_of.size(); ++i) load[rank_of[i]] += in.cost[i];
  return load;
}

/// Shedding preference: most cost per byte first (fewest bytes to remove a given cost), then
/// larger cost, then lower index. Zero-byte items first.
template <class = void>
inline bool shed_before(const post_instance& in, index_type a, index_type b) {
  // cost_a / bytes_a > cost_b / bytes_b  <=>  cost_a * bytes_b > cost_b * bytes_a (bytes >= 0)
  const long double lhs = static_cast<long double>(in.cost[a]) * static_cast<long double>(in.bytes[b]);
  const long double rhs = static_cast<long double>(in.cost[b]) * static_cast<long double>(in.bytes[a]);
  if (lhs != rhs) return lhs > rhs;
  if (in.cost[a] != in.cost[b]) return in.cost[a] > in.cost[b];
  return a < b;
}

/// Picks items of `items` (in shedding preference order) whose costs cover `excess`: every item
/// that fits in what is left of the excess, then, if some excess remains, the cheapest-cost item
/// left. Returns the picked items; removes them from `items`.
template <class = void>
inline std::vector<index_type> pick_to_cover(const post_instance& in, std::vector<index_type>& items, cost_t excess) {
  std::vector<index_type> picked, kept;
  for (index_type i : items) {
    if (excess > 0 && in.cost[i] > 0 && in.cost[i] <= excess) {
      picked.push_back(i);
      excess -= in.cost[i];
    } else {
      kept.push_back(i);
    }
  }
  if (excess > 0) {
    std::size_t best = kept.size();
    for (std::size_t t = 0; t < kept.size(); ++t) {
      const index_type i = kept[t];
      if (in.cost[i] <= 0) continue;
      if (best == kept.size() || in.cost[i] < in.cost[kept[best]] ||
          (in.cost[i] == in.cost[kept[best]] && in.bytes[i] < in.bytes[kept[best]]))
        best = t;
    }
    if (best != kept.size()) {
      picked.push_back(kept[best]);
      kept.erase(kept.begin() + static_cast<std::ptrdiff_t>(best));
    }
  }
  items = std::move(kept);
  return picked;
}

/// Moves items that left their node back home (origin rank, else the fullest rank of the origin
/// node that still fits), then items moved within a node back to their origin rank, while every
/// rank stays within the cap. Largest bytes first. Never raises the makespan above the cap.
template <class = void>
inline void return_home(const post_instance& in, std::vector<index_type>& rank_of, std::vector<cost_t>& load) {
  std::vector<index_type> moved;
  for (std::size_t i = 0; i < rank_of.size(); ++i)
    if (rank_of[i] != in.origin[i]) moved.push_back(static_cast<index_type>(i));
  std::stable_sort(moved.begin(), moved.end(), [&](index_type a, index_type b) { return in.bytes[a] > in.bytes[b]; });
  for (int pass = 0; pass < 2; ++pass)
    for (index_type i : moved) {
      const std::size_t now = rank_of[i], home = in.origin[i];
      if (now == home) continue;
      const bool off_node = in.node_of(now) != in.node_of(home);
      if (pass == 0 && !off_node) continue;
      std::size_t to = in.ranks;
      if (in.fits(load[home] + in.cost[i])) {
        to = home;
      } else if (off_node) {
        const std::size_t node = in.node_of(home);
        for (std::size_t r = node * in.ranks_per_node; r < node * in.ranks_per_node + in.ranks_in(node); ++r)
          if (in.fits(load[r] + in.cost[i]) && (to == in.ranks || load[r] > load[to])) to = r;
      }
      if (to == in.ranks) continue;
      load[now] -= in.cost[i];
      load[to] += in.cost[i];
      rank_of[i] = static_cast<index_type>(to);
    }
}

/// Candidates examined per item by swap_home (a documented constant: keeps the pass O(moved * 64)).
inline constexpr std::size_t swap_home_scan = 64;

/// Swaps that bring items home: for each item i away from its origin rank o (largest bytes first),
/// find an item j on o, itself not at home, whose exchange with i keeps both ranks within the cap
/// and lowers the movement (inter-node bytes, then intra-node bytes); apply the best such swap.
/// Only the first `swap_home_scan` entries of o's list of away items are examined per item (the
/// list holds the items not at home on o, in index order, later arrivals appended; entries that
/// left are skipped), so the pass is O(n + moved * swap_home_scan) whatever the layout (scanning
/// every item on o was O(n^2) when every sample starts on one rank). Never raises a rank above
/// the cap.
template <class = void>
inline void swap_home(const post_instance& in, std::vector<index_type>& rank_of, std::vector<cost_t>& load) {
  std::vector<std::vector<index_type>> away(in.ranks);
  for (std::size_t i = 0; i < rank_of.size(); ++i)
    if (rank_of[i] != in.origin[i]) away[rank_of[i]].push_back(static_cast<index_type>(i));
  std::vector<index_type> moved;
  for (std::size_t i = 0; i < rank_of.size(); ++i)
    if (rank_of[i] != in.origin[i]) moved.push_back(static_cast<index_type>(i));
  std::stable_sort(moved.begin(), moved.end(), [&](index_type a, index_type b) { return in.bytes[a] > in.bytes[b]; });
  using cost_pair = std::pair<int128, int128>;
  auto level_cost = [&](std::size_t i, std::size_t r) -> cost_pair {
    if (r == in.origin[i]) return {0, 0};
    if (in.node_of(r) != in.node_of(in.origin[i])) return {in.bytes[i], 0};
    return {0, in.bytes[i]};
  };
  for (index_type i : moved) {
    const std::size_t s = rank_of[i], o = in.origin[i];
    if (s == o) continue;
    const auto i_now = level_cost(i, s);
    auto& list = away[o];
    constexpr std::size_t no_swap = std::numeric_limits<std::size_t>::max();
    std::size_t best_u = no_swap;
    cost_pair best_delta{0, 0};
    for (std::size_t u = 0, seen = 0; u < list.size() && seen < swap_home_scan; ++u) {
      const index_type j = list[u];
      if (rank_of[j] != o || in.origin[j] == o) {  // stale entry: j left o or came home
        list[u] = list.back();
        list.pop_back();
        --u;
        continue;
      }
      ++seen;
      if (!in.fits(load[o] + in.cost[i] - in.cost[j]) || !in.fits(load[s] - in.cost[i] + in.cost[j])) continue;
      const auto j_now = level_cost(j, o), j_then = level_cost(j, s);
      const cost_pair delta{j_then.first - j_now.first - i_now.first, j_then.second - j_now.second - i_now.second};
      if (delta < best_delta) best_delta = delta, best_u = u;
    }
    if (best_u == no_swap) continue;
    const index_type j = list[best_u];
    list[best_u] = list.back();
    list.pop_back();
    if (in.origin[j] != s) away[s].push_back(j);  // i's entry in away[s] goes stale
    load[o] += in.cost[i] - in.cost[j];
    load[s] += in.cost[j] - in.cost[i];
    rank_of[i] = static_cast<index_type>(o);
    rank_of[j] = static_cast<index_type>(s);
  }
}

/// While some rank is above the cap, moves one item off the heaviest rank to a rank where it fits,
/// choosing the move that adds the least movement (inter-node bytes, then intra-node bytes); when
/// no single move fits, swaps an item of the heaviest rank with a cheaper item elsewhere. Each step
/// lowers the heaviest rank and keeps the other rank within the cap. At most n steps and 2e7 pairs
/// examined (then it gives up).
/// O(n_r * k) per move, O(n_r * n) per swap. Returns true if every rank ends within the cap.
template <class = void>
inline bool repair(const post_instance& in, std::vector<index_type>& rank_of, std::vector<cost_t>& load) {
  std::vector<std::vector<index_type>> on(in.ranks);
  for (std::size_t i = 0; i < rank_of.size(); ++i) on[rank_of[i]].push_back(static_cast<index_type>(i));
  using cost_pair = std::pair<int128, int128>;  // (inter-node bytes, intra-node bytes)
  auto level_cost = [&](std::size_t i, std::size_t r) -> cost_pair {
    if (r == in.origin[i]) return {0, 0};
    if (in.node_of(r) != in.node_of(in.origin[i])) return {in.bytes[i], 0};
    return {0, in.bytes[i]};
  };
  // Moves cost O(n_r * k) and swaps O(n_r * n) each: a work budget (pairs examined) bounds the pass.
  constexpr std::uint64_t swap_work_limit = 20'000'000;
  std::uint64_t swap_work = 0;
  for (std::size_t iter = 0; iter <= rank_of.size(); ++iter) {
    std::size_t r = 0;
    for (std::size_t q = 1; q < in.ranks; ++q)
      if (load[q] > load[r]) r = q;
    if (in.fits(load[r])) return true;
    bool found = false;
    std::size_t best_t = 0, best_to = 0;
    cost_pair best_delta{};
    if (swap_work > swap_work_limit) return false;
    swap_work += on[r].size() * in.ranks;
    for (std::size_t t = 0; t < on[r].size(); ++t) {
      const index_type i = on[r][t];
      if (in.cost[i] <= 0) continue;
      const auto from = level_cost(i, r);
      for (std::size_t d = 0; d < in.ranks; ++d) {
        if (d == r || !in.fits(load[d] + in.cost[i])) continue;
        const auto to = level_cost(i, d);
        const cost_pair delta{to.first - from.first, to.second - from.second};  // compared lexicographically
        if (!found || delta < best_delta) {
          found = true;
          best_delta = delta;
          best_t = t;
          best_to = d;
        }
      }
    }
    if (found) {
      const index_type i = on[r][best_t];
      on[r].erase(on[r].begin() + static_cast<std::ptrdiff_t>(best_t));
      on[best_to].push_back(i);
      load[r] -= in.cost[i];
      load[best_to] += in.cost[i];
      rank_of[i] = static_cast<index_type>(best_to);
      continue;
    }
    // No single move fits: swap an item i of r with a cheaper item j of another rank d so that
    // both ranks end within the cap (the smallest cost difference that suffices, then least movement).
    std::size_t best_u = 0;
    cost_t best_diff = 0;
    if (swap_work > swap_work_limit) return false;
    for (std::size_t t = 0; t < on[r].size(); ++t) {
      const index_type i = on[r][t];
      const auto i_from = level_cost(i, r);
      for (std::size_t d = 0; d < in.ranks; ++d) {
        if (d == r) continue;
        const auto i_to = level_cost(i, d);
        swap_work += on[d].size();
        for (std::size_t u = 0; u < on[d].size(); ++u) {
          const index_type j = on[d][u];
          const cost_t diff = in.cost[i] - in.cost[j];
          if (!(diff > 0) || !in.fits(load[r] - diff) || !in.fits(load[d] + diff)) continue;
          const auto j_from = level_cost(j, d), j_to = level_cost(j, r);
          const cost_pair delta{i_to.first - i_from.first + j_to.first - j_from.first,
                                i_to.second - i_from.second + j_to.second - j_from.second};
          if (!found || delta < best_delta || (delta == best_delta && diff < best_diff)) {
            found = true;
            best_delta = delta;
            best_diff = diff;
            best_t = t;
            best_to = d;
            best_u = u;
          }
        }
      }
    }
    if (!found) return false;
    const index_type i = on[r][best_t], j = on[best_to][best_u];
    on[r][best_t] = j;
    on[best_to][best_u] = i;
    load[r] += in.cost[j] - in.cost[i];
    load[best_to] += in.cost[i] - in.cost[j];
    rank_of[i] = static_cast<index_type>(best_to);
    rank_of[j] = static_cast<index_type>(r);
  }
  return false;
}

/// One shed-and-refill attempt with margin m: every rank above cap * (1 - m) sheds items into its
/// node's pool; every node whose kept + pooled load exceeds its ranks * cap * (1 - m) exports pool
/// items; exports go to the lightest nodes (per rank), largest first; each node's pool goes to its
/// lightest ranks, largest first (LPT with preloads); then repair and return_home.
template <class = void>
inline std::vector<index_type> shed_and_refill(const post_instance& in, double margin) {
  const std::size_t n = in.cost.size(), nodes = in.nodes();
  const cost_t keep = in.cap * (1 - margin);
  std::vector<index_type> rank_of(in.origin.begin(), in.origin.end());
  std::vector<cost_t> load = rank_loads(in, rank_of);
  std::vector<std::vector<index_type>> on(in.ranks);
  for (std::size_t i = 0; i < n; ++i) on[rank_of[i]].push_back(static_cast<index_type>(i));
  std::vector<std::vector<index_type>> pool(nodes);
  for (std::size_t r = 0; r < in.ranks; ++r) {
    if (load[r] <= keep) continue;
    auto& items = on[r];
    std::sort(items.begin(), items.end(), [&](index_type a, index_type b) { return shed_before(in, a, b); });
    for (index_type i : pick_to_cover(in, items, load[r] - keep)) {
      load[r] -= in.cost[i];
      pool[in.node_of(r)].push_back(i);
    }
  }
  // Node level.
  std::vector<cost_t> node_total(nodes, 0);
  for (std::size_t r = 0; r < in.ranks; ++r) node_total[in.node_of(r)] += load[r];
  for (std::size_t v = 0; v < nodes; ++v)
    for (index_type i : pool[v]) node_total[v] += in.cost[i];
  std::vector<index_type> exported;
  for (std::size_t v = 0; v < nodes; ++v) {
    const cost_t node_keep = keep * static_cast<cost_t>(in.ranks_in(v));
    if (node_total[v] <= node_keep) continue;
    std::sort(pool[v].begin(), pool[v].end(), [&](index_type a, index_type b) { return shed_before(in, a, b); });
    for (index_type i : pick_to_cover(in, pool[v], node_total[v] - node_keep)) {
      node_total[v] -= in.cost[i];
      exported.push_back(i);
    }
  }
  auto by_cost_desc = [&](index_type a, index_type b) {
    return in.cost[a] != in.cost[b] ? in.cost[a] > in.cost[b] : a < b;
  };
  std::sort(exported.begin(), exported.end(), by_cost_desc);
  for (index_type i : exported) {
    std::size_t best = 0;
    for (std::size_t v = 1; v < nodes; ++v)
      if (node_total[v] / static_cast<cost_t>(in.ranks_in(v)) <
          node_total[best] / static_cast<cost_t>(in.ranks_in(best)))
        best = v;
    node_total[best] += in.cost[i];
    pool[best].push_back(i);
  }
  // Rank level: LPT of each node's pool onto its ranks, preloaded with what they kept.
  for (std::size_t v = 0; v < nodes; ++v) {
    std::sort(pool[v].begin(), pool[v].end(), by_cost_desc);
    const std::size_t first = v * in.ranks_per_node, count = in.ranks_in(v);
    for (index_type i : pool[v]) {
      std::size_t best = first;
      for (std::size_t r = first + 1; r < first + count; ++r)
        if (load[r] < load[best] || (load[r] == load[best] && r == in.origin[i])) best = r;
      load[best] += in.cost[i];
      rank_of[i] = static_cast<index_type>(best);
    }
  }
  load = rank_loads(in, rank_of);
  repair(in, rank_of, load);
  return_home(in, rank_of, load);
  swap_home(in, rank_of, load);
  return_home(in, rank_of, load);
  return rank_of;
}

/// Maximum-weight perfect assignment of rows to columns (square, n x n), Hungarian algorithm
/// (Kuhn-Munkres with potentials), O(n^3). weight is row-major. Returns col_of_row.
template <class = void>
inline std::vector<std::size_t> max_weight_assignment(std::size_t n, const std::vector<double>& weight) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  // Minimise cost = -weight; 1-based arrays as in the classic formulation.
  std::vector<double> u(n + 1, 0), v(n + 1, 0);
  std::vector<std::size_t> p(n + 1, 0), way(n + 1, 0);
  for (std::size_t i = 1; i <= n; ++i) {
    p[0] = i;
    std::size_t j0 = 0;
    std::vector<double> minv(n + 1, inf);
    std::vector<char> used(n + 1, 0);
    do {
      used[j0] = 1;
      const std::size_t i0 = p[j0];
      double delta = inf;
      std::size_t j1 = 0;
      for (std::size_t j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double cur = -weight[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) minv[j] = cur, way[j] = j0;
        if (minv[j] < delta) delta = minv[j], j1 = j;
      }
      for (std::size_t j = 0; j <= n; ++j) {
        if (used[j])
          u[p[j]] += delta, v[j] -= delta;
        else
          minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const std::size_t j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<std::size_t> col_of_row(n);
  for (std::size_t j = 1; j <= n; ++j) col_of_row[p[j] - 1] = j - 1;
  return col_of_row;
}

/// Greedy stand-in for large k: pairs in decreasing weight (ties: row, then column).
template <class = void>
inline std::vector<std::size_t> greedy_assignment(std::size_t n, const std::vector<double>& weight) {
  std::vector<std::size_t> pairs(n * n);
  std::iota(pairs.begin(), pairs.end(), std::size_t{0});
  std::stable_sort(pairs.begin(), pairs.end(), [&](std::size_t a, std::size_t b) { return weight[a] > weight[b]; });
  std::vector<std::size_t> col_of_row(n, n);
  std::vector<char> col_used(n, 0);
  for (std::size_t e : pairs) {
    const std::size_t r = e / n, c = e % n;
    if (col_of_row[r] != n || col_used[c]) continue;
    col_of_row[r] = c;
    col_used[c] = 1;
  }
  return col_of_row;
}

inline constexpr std::size_t hungarian_max_size = 512;

/// Maps the groups of a balanced partition onto ranks: first groups to node slots maximising bytes
/// that stay on their node, then within each node groups to ranks maximising bytes that stay on
/// their rank. Returns the rank of each sample.
template <class = void>
inline std::vector<index_type> map_groups_to_ranks(const post_instance& in, std::span<const index_type> group_of) {
  const std::size_t k = in.ranks, n = in.cost.size();
  auto solve = [](std::size_t m, const std::vector<double>& w) {
    return m <= hungarian_max_size ? max_weight_assignment(m, w) : greedy_assignment(m, w);
  };
  std::vector<double> w(k * k, 0);
  std::vector<double> on_node(k * in.nodes(), 0);
  for (std::size_t i = 0; i < n; ++i)
    on_node[group_of[i] * in.nodes() + in.node_of(in.origin[i])] += static_cast<double>(in.bytes[i]);
  for (std::size_t g = 0; g < k; ++g)
    for (std::size_t r = 0; r < k; ++r) w[g * k + r] = on_node[g * in.nodes() + in.node_of(r)];
  const auto slot = solve(k, w);  // slot[g]: a rank; only its node matters here
  std::vector<std::size_t> rank_of_group(k);
  for (std::size_t v = 0; v < in.nodes(); ++v) {
    std::vector<std::size_t> groups;
    for (std::size_t g = 0; g < k; ++g)
      if (in.node_of(slot[g]) == v) groups.push_back(g);
    const std::size_t m = groups.size(), first = v * in.ranks_per_node;
    std::vector<double> wv(m * m, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t o = in.origin[i];
      if (in.node_of(o) != v) continue;
      const auto it = std::find(groups.begin(), groups.end(), static_cast<std::size_t>(group_of[i]));
      if (it == groups.end()) continue;
      wv[static_cast<std::size_t>(it - groups.begin()) * m + (o - first)] += static_cast<double>(in.bytes[i]);
    }
    const auto local = solve(m, wv);
    for (std::size_t t = 0; t < m; ++t) rank_of_group[groups[t]] = first + local[t];
  }
  std::vector<index_type> rank_of(n);
  for (std::size_t i = 0; i < n; ++i) rank_of[i] = static_cast<index_type>(rank_of_group[group_of[i]]);
  return rank_of;
}

}  // namespace fulcrum::detail

namespace fulcrum {

/// Balances samples over `ranks` starting from `current_rank`, moving as few bytes as possible
/// (inter-node first, then intra-node). See the file comment.
FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER post_balance_result post_balance(std::span<const cost_t> costs, std::span<const index_type> current_rank,
                                               std::span<const std::uint64_t> bytes, std::size_t ranks,
                                               const post_balance_options& opts) {
  constexpr const char* where = "post_balance";
  detail::require_parts(where, ranks, costs.size());
  if (current_rank.size() != costs.size())
    throw invalid_input(
        detail::describe(where, "current_rank.size()", current_rank.size(), "differs from costs.size()"));
  if (bytes.size() != costs.size())
    throw invalid_input(detail::describe(where, "bytes.size()", bytes.size(), "differs from costs.size()"));
  if (opts.ranks_per_node == 0) throw invalid_input(detail::describe(where, "ranks_per_node", 0, "must be positive"));
  if (!(opts.tolerance >= 0) || std::isinf(opts.tolerance))
    throw invalid_input(detail::describe(where, "tolerance", opts.tolerance, "must be finite and non-negative"));
  if (opts.balance.equal_counts)
    throw invalid_input(detail::describe(where, "balance.equal_counts", 1, "is not supported by post_balance"));
  if (opts.balance.part_capacity < std::numeric_limits<cost_t>::infinity())
    throw invalid_input(detail::describe(where, "balance.part_capacity", opts.balance.part_capacity,
                                         "is not supported by post_balance"));
  detail::require_costs(where, costs);  // the validation balance() uses (core/validate.hpp)
  std::uint64_t total_bytes = 0;
  for (std::size_t i = 0; i < costs.size(); ++i) {
    if (current_rank[i] >= ranks)
      throw invalid_input(detail::describe(where, "current_rank", i, current_rank[i], "is not below ranks"));
    total_bytes = checked_add(total_bytes, bytes[i], "post_balance: bytes");
  }

  const partition reference = opts.balance.algorithm == balance_algorithm::complete
                                  ? complete_balance(costs, ranks, opts.balance)
                                  : lpt(costs, ranks);
  detail::post_instance in;
  in.cost = costs;
  in.origin = current_rank;
  in.bytes = bytes;
  in.ranks = ranks;
  in.ranks_per_node = opts.ranks_per_node;
  in.cap = reference.makespan * (1 + opts.tolerance);

  bool have = false;
  std::vector<index_type> best;
  detail::movement best_move;
  auto consider = [&](std::vector<index_type> rank_of) {
    const auto load = detail::rank_loads(in, rank_of);
    for (cost_t l : load)
      if (!in.fits(l)) return;
    const auto m = detail::measure_movement(in, rank_of);
    if (!have || m < best_move) {
      have = true;
      best_move = m;
      best = std::move(rank_of);
    }
  };
  consider(std::vector<index_type>(current_rank.begin(), current_rank.end()));  // already balanced?
  if (!have || best_move.samples > 0) {
    for (double margin : {0.0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0})
      consider(detail::shed_and_refill(in, margin));
    // The reference's groups mapped onto ranks: always within the cap. Tried when no attempt fits,
    // or when the best attempt still moves much (k <= 512, where the Hungarian mapping is cheap).
    const bool costly = have && 4 * (best_move.inter + best_move.intra) > total_bytes;
    if (!have || (costly && ranks <= detail::hungarian_max_size)) {
      const auto mapped = detail::map_groups_to_ranks(in, reference.parts.assignment(costs.size()));
      auto rank_of = mapped;
      auto load = detail::rank_loads(in, rank_of);
      detail::return_home(in, rank_of, load);
      detail::swap_home(in, rank_of, load);
      detail::return_home(in, rank_of, load);
      // The passes track loads incrementally; the rule (index-order loads <= cap) decides.
      for (cost_t l : detail::rank_loads(in, rank_of))
        if (!in.fits(l)) {
          rank_of = mapped;  // the reference's groups: index-order loads <= its makespan <= cap
          break;
        }
      const auto m = detail::measure_movement(in, rank_of);
      if (!have || m < best_move) {
        have = true;
        best_move = m;
        best = std::move(rank_of);
      }
    }
  }

  post_balance_result res;
  res.plan = detail::make_partition(best, costs, ranks, detail::balance_lower_bound(costs, ranks, false));
  res.bytes_moved_inter_node = best_move.inter;
  res.bytes_moved_intra_node = best_move.intra;
  res.samples_moved = best_move.samples;
  res.target_makespan = in.cap;
  return res;
}

}  // namespace fulcrum
