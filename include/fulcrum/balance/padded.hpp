// SPDX-License-Identifier: Apache-2.0
/// @file balance/padded.hpp
/// `balance_padded()`: split items into k parts (micro-batches) when every part is padded to its
/// longest item, so a part costs per_token x count x longest (padded_cost, core/cost_model.hpp),
/// not the sum of its items' costs; minimises the largest part cost, exactly.
///
///   partition balance_padded(std::span<const T> lengths, size_t k, double per_token = 1);
///
/// Why exact and fast: (1) some optimal plan takes contiguous runs of the items sorted by length,
/// longest first: given an optimal plan's part sizes c_1..c_k in order of decreasing part maximum
/// m_1 >= ... >= m_k, the items longer than m_i all lie in parts 1..i-1, so giving part i the
/// sorted items c_1+..+c_(i-1)+1 .. c_1+..+c_i gives it a longest item <= m_i with the same count:
/// no part gets more expensive. (2) For a target T, runs are formed greedily from the longest
/// item, each as long as count x its first length <= T; a longer earlier run only leaves shorter
/// items for later runs, so the greedy uses the fewest runs, and T is feasible iff that is <= k.
/// (3) The optimum is an integer (count x integer length), found by bisection on T.
/// Time O(n log n + k log(n x max length)); memory O(n).
/// Result: parts (items in index order; empty parts last), loads per_token x count x longest,
/// makespan, lower_bound = makespan and proven_optimal = true (the search is exact).
/// Ties: the sort is by length, then index, so equal input gives an equal plan.
/// Errors (invalid_input naming the field): k == 0 or above max_parts, per_token negative or not
/// finite, n x the longest length above 2^53 (where the integer costs stop being exact).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <type_traits>
#include <vector>

#include "fulcrum/balance/partition.hpp"
#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/core/validate.hpp"

namespace fulcrum {

template <class T>
requires std::is_integral_v<T> &&(!std::is_same_v<T, bool>) [[nodiscard]] partition
    balance_padded(std::span<const T> lengths, std::size_t k, double per_token = 1.0) {
  constexpr std::string_view where = "balance_padded";
  const std::size_t n = lengths.size();
  detail::validate_parts(where, "k", k, n);
  if (!(per_token >= 0) || !std::isfinite(per_token))
    throw invalid_input(detail::describe(where, "per_token", per_token, "must be finite and non-negative"));
  std::vector<std::uint64_t> len(n);
  for (std::size_t i = 0; i < n; ++i) {
    if constexpr (std::is_signed_v<T>)
      if (lengths[i] < T{0}) throw invalid_input(detail::describe(where, "lengths", i, lengths[i], "is negative"));
    len[i] = static_cast<std::uint64_t>(lengths[i]);
  }
  std::vector<index_type> order(n);
  std::iota(order.begin(), order.end(), index_type{0});
  std::stable_sort(order.begin(), order.end(), [&](index_type a, index_type b) { return len[a] > len[b]; });
  const std::uint64_t longest = n == 0 ? 0 : len[order[0]];
  constexpr std::uint64_t exact = std::uint64_t{1} << 53;
  if (longest != 0 && n > exact / longest)
    throw invalid_input(detail::describe(where, "lengths", order[0], longest,
                                         "times the item count exceeds 2^53 (padded costs would not be exact)"));
  // Greedy runs under target t: the run starts (positions in `order`), or empty if more than k.
  std::vector<std::size_t> starts;
  auto runs = [&](std::uint64_t t) {
    starts.clear();
    std::size_t i = 0;
    while (i < n) {
      if (starts.size() == k) return false;
      starts.push_back(i);
      const std::uint64_t l = len[order[i]];
      if (l == 0) break;  // the rest are empty items: one run, cost 0
      const std::uint64_t count = t / l;
      if (count == 0) return false;
      i = count >= n - i ? n : i + static_cast<std::size_t>(count);
    }
    return true;
  };
  std::uint64_t hi = static_cast<std::uint64_t>(n) * longest;  // one run: always feasible
  std::uint64_t lo = longest == 0 ? 0 : longest - 1;           // below one item: infeasible
  if (longest == 0) hi = 0;
  while (hi > lo + 1) {  // invariant: hi feasible, lo infeasible (or lo = hi = 0)
    const std::uint64_t mid = lo + (hi - lo) / 2;
    if (runs(mid))
      hi = mid;
    else
      lo = mid;
  }
  const bool ok = runs(hi);
  (void)ok;  // hi is feasible by the invariant
  std::vector<index_type> part_of(n, 0);
  for (std::size_t r = 0; r < starts.size(); ++r) {
    const std::size_t end = r + 1 < starts.size() ? starts[r + 1] : n;
    for (std::size_t p = starts[r]; p < end; ++p) part_of[order[p]] = static_cast<index_type>(r);
  }
  partition out;
  out.parts = grouping::from_assignment(std::span<const index_type>(part_of), k);
  out.loads.assign(k, 0.0);
  for (std::size_t r = 0; r < k; ++r) {
    std::uint64_t mx = 0;
    for (const index_type i : out.parts[r]) mx = std::max(mx, len[i]);
    out.loads[r] = detail::mul(per_token, static_cast<double>(mx * out.parts[r].size()));
  }
  out.makespan = out.loads.empty() ? 0.0 : *std::max_element(out.loads.begin(), out.loads.end());
  out.lower_bound = out.makespan;
  out.proven_optimal = true;
  return out;
}

/// balance_padded on a vector of lengths.
template <class T>
requires std::is_integral_v<T> &&(!std::is_same_v<T, bool>) [[nodiscard]] partition
    balance_padded(const std::vector<T>& lengths, std::size_t k, double per_token = 1.0) {
  return balance_padded(std::span<const T>(lengths), k, per_token);
}

}  // namespace fulcrum
