// SPDX-License-Identifier: Apache-2.0
/// @file packing/exact.hpp
/// `pack_exact`: exact one-dimensional bin packing by branch and bound (Korf's bin completion),
/// anytime under `pack_options::limits`.
///
/// What it does
/// - Lower bound: max(L2 (Martello–Toth), L3), where L3 = bins fixed by a root reduction + L2 of the
///   rest. The reduction fixes the bin of the largest item whenever that item has exactly one
///   nondominated completion (then some optimal packing contains that bin, as in MTRP).
/// - Incumbent: best-fit decreasing. If it meets the bound it is optimal and no search runs.
/// - Primal heuristics (detail/exact_primal.hpp): first-fit decreasing, minimum bin slack (MBS'),
///   then a pool local search aiming at exactly `bound` bins (each move refills one bin optimally
///   from its items plus a pool of unplaced items; seeded perturbation when stuck; restarted from
///   the incumbent with a new seed and twice the work when an attempt fails).
/// - LP bound (lp_bound.hpp): when the primal side stays above the bound, the Gilmore–Gomory
///   column-generation bound (Farley-safe rounding, warm-started with the incumbent's bins as
///   columns) may raise it; then the pool search runs again.
/// - Search, bottom-up: for t = bound, bound+1, ... < incumbent, a depth-first bin completion looks
///   for a packing into t bins. Each node takes the largest remaining item (or, once no waste is
///   left, the item with the fewest exact completions: fail first) and branches over the
///   nondominated completions of its bin (fullest first), pruned by a waste budget (t·C - sum), by
///   L2 of the remaining items and by nogoods (a refuted bin's partners may not share a later bin). A packing found at
///   t is optimal (t is a proven bound); a search exhausted at t proves the bound t + 1.
/// - Budgets: with a time limit, the primal heuristics may use up to 10% of it, the LP bound up to
///   75% (cumulative), the second pool search up to 90%; the search gets the rest. Work caps derived
///   from `limits.nodes` keep runs without a time limit deterministic.
/// - Anytime: the search stops at `limits.nodes` units of work (deterministic: the same plan on
///   every machine) or at `limits.time` (wall clock; not deterministic). It then returns the best
///   packing found so far (the incumbent) and the best bound proved so far.
///
/// Guarantee: `proven_optimal` is true only when bins == lower_bound, i.e. with a proof. Every
/// result satisfies bins >= lower_bound, every item exactly once, every bin within capacity.
///
/// Complexity: O(n log n) for bounds and incumbent; FFD and MBS' O(n · bins) (only up to 20000
/// items); the pool search and the LP bound (only up to 1000 distinct sizes) are capped by
/// budgets; the search is exponential in the worst case (bin packing is strongly NP-hard) and
/// bounded by `limits`. Zero-size items are set aside and put into the first bin at the end.
///
/// Errors: capacity == 0 -> invalid_input; an item larger than the capacity -> infeasible naming
/// the item (the `pack()` front door applies the oversize policy before calling this); more items
/// than index_type can address -> invalid_input.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <vector>

#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/detail/chrono.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/bounds.hpp"
#include "fulcrum/packing/detail/exact_primal.hpp"
#include "fulcrum/packing/detail/exact_search.hpp"
#include "fulcrum/packing/detail/gg_bound.hpp"
#include "fulcrum/packing/packing.hpp"

namespace fulcrum {

/// Statistics of one `pack_exact` run (optional out-parameter).
struct exact_stats {
  std::uint64_t nodes = 0;       ///< units of search work (nodes + completion-enumeration steps)
  std::uint64_t root_bound = 0;  ///< bound before the search: max(L2, L3)
  std::uint64_t l2 = 0;          ///< Martello–Toth L2
  std::uint64_t incumbent = 0;   ///< bins of the best-fit-decreasing start
  std::uint64_t primal = 0;      ///< bins after the primal heuristics (before the search)
  std::uint64_t lp = 0;          ///< Gilmore–Gomory bound, 0 when it did not run
  bool limit_hit = false;        ///< the node or time limit stopped the search
};

namespace detail::exact {

/// Deadline `start + fraction * time` (no deadline when time is unlimited).
template <class = void>
inline primal_budget share(std::uint64_t work, const search_limits& limits, std::chrono::steady_clock::time_point start,
                           double fraction) {
  primal_budget b;
  b.work = work;
  if (limits.time != std::chrono::milliseconds::max()) {
    b.has_deadline = true;
    const auto part = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double, std::milli>(static_cast<double>(limits.time.count()) * fraction));
    const auto max_left = std::chrono::steady_clock::time_point::max() - start;
    b.deadline = part >= max_left ? std::chrono::steady_clock::time_point::max() : start + part;
  }
  return b;
}

/// Primal heuristics and the LP bound (see exact.hpp): improves `best` and `bound` in place.
template <class = void>
inline void strengthen(std::span<const std::uint64_t> sizes, std::span<const index_type> positive,
                       std::uint64_t capacity, const search_limits& limits, std::chrono::steady_clock::time_point start,
                       std::vector<std::vector<index_type>>& best, std::uint64_t& bound, exact_stats& st) {
  auto take = [&](bin_list&& candidate) {
    if (!candidate.empty() && candidate.size() < best.size()) {
      for (auto& b : candidate) std::sort(b.begin(), b.end());
      best = std::move(candidate);
    }
  };
  // FFD and MBS' are O(n * bins) and O(n * 2000 + n * bins): only for instances the search can
  // face (large inputs keep best-fit decreasing and go straight to the bounded pool search).
  if (positive.size() <= 20'000) {
    take(first_fit_decreasing(sizes, positive, capacity));
    if (best.size() > bound) take(minimum_bin_slack(sizes, positive, capacity, 2000));
  }
  // Pool-search work (DP words): scaled to the instance, capped by limits.nodes * 20; a quarter
  // before the LP bound, the rest after it.
  const std::uint64_t words = capacity / 64 + 1;
  const std::uint64_t scaled = words > (std::uint64_t{1} << 20) ? 0 : 80'000 * positive.size() * words + 100'000;
  const std::uint64_t ls_work = std::min(
      scaled, limits.nodes > std::numeric_limits<std::uint64_t>::max() / 20 ? limits.nodes : limits.nodes * 20);
  std::uint64_t round = 0;  // a different seed per call: the second run does not replay the first
  auto local_search = [&](double fraction, std::uint64_t work) {
    ++round;
    if (best.size() <= bound || capacity > (std::uint64_t{1} << 22)) return;
    primal_budget budget = share(work, limits, start, fraction);
    // Restarts: the pool search's run times are heavy-tailed, so a failed attempt is retried from
    // the incumbent with a new seed and twice the work, until the share is spent.
    std::uint64_t slice = std::max<std::uint64_t>(work / 8, 1);
    for (std::uint64_t attempt = 0; best.size() > bound && budget.work > 0 && !budget.time_up(); ++attempt) {
      pool_search ls(sizes, capacity,
                     0x5eed0001ULL + best.size() + 0x9e3779b97f4a7c15ULL * round + 0xd1b54a32d192ed03ULL * attempt);
      primal_budget part = budget;
      part.work = std::min(slice, budget.work);
      const std::uint64_t given = part.work;
      // One bin fewer at a time: each step starts from a pool of one bin's items.
      while (best.size() > bound) {
        bin_list next = ls.run(best, best.size() - 1, part);
        if (next.empty() || next.size() >= best.size()) break;
        take(std::move(next));
      }
      if (part.work == given) break;  // nothing spent: the search cannot move (e.g. one bin)
      budget.work -= given - part.work;
      if (slice <= std::numeric_limits<std::uint64_t>::max() / 2) slice *= 2;
    }
  };
  local_search(0.1, ls_work / 4);
  if (best.size() > bound) {
    std::vector<std::uint64_t> w, d;
    for (index_type i : sorted_desc(sizes, positive)) {
      if (w.empty() || w.back() != sizes[i]) w.push_back(sizes[i]), d.push_back(0);
      ++d.back();
    }
    // The dense simplex keeps an m x m inverse: at most 1000 distinct sizes (8 MB).
    if (w.size() > 1000) {
      local_search(0.9, ls_work - ls_work / 4);
      return;
    }
    gg::limits lim;
    lim.max_iterations = 1000;
    lim.stop_at = best.size();
    lim.known = bound;
    lim.max_work = limits.nodes > std::numeric_limits<std::uint64_t>::max() / 100 ? limits.nodes : limits.nodes * 100;
    const primal_budget b = share(0, limits, start, 0.75);
    lim.has_deadline = b.has_deadline;
    lim.deadline = b.deadline;
    // Warm start: the incumbent's bins as patterns (counts per distinct size, w descending).
    std::vector<std::vector<std::uint64_t>> patterns;
    patterns.reserve(best.size());
    for (const auto& bin : best) {
      std::vector<std::uint64_t> pat(w.size(), 0);
      for (index_type i : bin) {
        const auto at = std::lower_bound(w.begin(), w.end(), sizes[i], std::greater<>());
        ++pat[static_cast<std::size_t>(at - w.begin())];
      }
      patterns.push_back(std::move(pat));
    }
    const auto lp = gg::column_generation(w, d, capacity, lim, patterns);
    st.lp = lp.bound;
    if (lp.bound > bound) bound = std::min<std::uint64_t>(lp.bound, best.size());  // safety net
    local_search(0.9, ls_work - ls_work / 4);
  }
}

}  // namespace detail::exact

namespace detail::exact {

/// pack_exact's body; `strong` = false skips the primal heuristics and the LP bound (the solver as
/// it was before them, kept for the family benchmark's comparison).
template <class = void>
[[nodiscard]] inline packing pack_exact_impl(std::span<const std::uint64_t> sizes, std::uint64_t capacity,
                                             const pack_options& opts, exact_stats* stats, bool strong) {
  const auto start = std::chrono::steady_clock::now();
  if (capacity == 0) throw invalid_input(detail::describe("pack_exact", "capacity", capacity, "must be positive"));
  if (sizes.size() > std::numeric_limits<index_type>::max())
    throw invalid_input(
        detail::describe("pack_exact", "sizes.size()", sizes.size(), "more items than index_type can address"));
  std::vector<index_type> positive;
  std::vector<index_type> zero;
  for (std::size_t i = 0; i < sizes.size(); ++i) {  // sums are 128-bit inside: no overflow check needed
    if (sizes[i] > capacity)
      throw infeasible(detail::describe("pack_exact", "sizes", i, sizes[i], "is larger than the capacity"));
    (sizes[i] == 0 ? zero : positive).push_back(static_cast<index_type>(i));
  }
  packing result;
  result.algorithm = pack_algorithm::exact;
  exact_stats local;
  if (sizes.empty()) {
    result.proven_optimal = true;
    if (stats) *stats = local;
    return result;
  }

  std::vector<std::vector<index_type>> best = detail::exact::best_fit_decreasing(sizes, positive, capacity);
  std::uint64_t bound = std::max<std::uint64_t>(lower_bound_l2(sizes, capacity), 1);
  local.l2 = bound;
  local.incumbent = std::max<std::size_t>(best.size(), 1);

  if (!positive.empty() && best.size() > bound) {
    detail::exact::bin_completion solver(sizes, positive, capacity, opts.limits, start);
    // Root reduction (L3): bounded work so it never dominates the run.
    solver.reduce(std::min<std::uint64_t>(opts.limits.nodes / 4 + 1, 200'000));
    bound = std::max<std::uint64_t>(bound, solver.fixed_bins() + solver.remaining_l2());
    if (strong && best.size() > bound)
      detail::exact::strengthen(sizes, positive, capacity, opts.limits, start, best, bound, local);
    local.primal = best.size();
    local.root_bound = bound;
    for (std::uint64_t t = bound; t < best.size() && !solver.limit_hit(); ++t) {
      const auto r = solver.search(t);
      if (r == detail::exact::bin_completion::outcome::found) {
        best = solver.solution();
        bound = t;  // t was a proven bound, so this packing is optimal
        break;
      }
      if (r == detail::exact::bin_completion::outcome::exhausted)
        bound = t + 1;
      else
        break;  // limit
    }
    local.nodes = solver.nodes();
    local.limit_hit = solver.limit_hit();
  } else {
    local.root_bound = bound;
    local.primal = best.size();
  }

  if (best.empty()) best.emplace_back();  // only zero-size items: one bin holds them all
  if (!zero.empty()) {
    auto& first = best.front();
    first.insert(first.end(), zero.begin(), zero.end());
    std::sort(first.begin(), first.end());
  }
  result.loads.reserve(best.size());
  for (const auto& bin : best) {
    std::uint64_t load = 0;
    for (index_type i : bin) load += sizes[i];
    result.loads.push_back(load);
  }
  result.bins = grouping::from_groups(best);
  result.lower_bound = bound;  // <= best.size(): the loop stops below the incumbent
  result.proven_optimal = best.size() == result.lower_bound;
  if (stats) *stats = local;
  return result;
}

}  // namespace detail::exact

/// Exact bin packing of `sizes` into bins of `capacity` (see file docs). Anytime under opts.limits.
template <class = void>
[[nodiscard]] inline packing pack_exact(std::span<const std::uint64_t> sizes, std::uint64_t capacity,
                                        const pack_options& opts = {}, exact_stats* stats = nullptr) {
  return detail::exact::pack_exact_impl(sizes, capacity, opts, stats, true);
}

}  // namespace fulcrum
