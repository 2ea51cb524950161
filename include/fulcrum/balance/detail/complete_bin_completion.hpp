// SPDX-License-Identifier: Apache-2.0
/// @file balance/detail/complete_bin_completion.hpp
/// Internals of `complete_balance`: bin completion (Korf 2002; Korf, Schreiber & Moffitt 2013) for
/// the decision problem "can the items be split into k parts of load <= C?".
///
/// Parts are filled one at a time. A part always takes the largest unplaced item (the parts are
/// interchangeable, so this breaks their symmetry), then a subset of the other unplaced items,
/// enumerated largest first by include/exclude with (a) load <= C, (b) the part's waste (C - load)
/// within the remaining waste budget k * C - total minus the waste of the parts already filled,
/// (c) duplicates skipped (excluding an item excludes the following items of equal cost) and (d)
/// maximality (a part that some excluded item would still fit into is dominated and skipped).
/// The last part takes whatever is left. Recursion depth <= k + n (callers bound n).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "fulcrum/core/detail/chrono.hpp"
#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/options.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum::detail {

enum class decision { feasible, infeasible, limit };

template <class = void>
class basic_bin_completion {
 public:
  /// cost sorted descending; nodes is a shared budget counter (incremented per item included).
  basic_bin_completion(const std::vector<cost_t>& cost, std::size_t k, bool integral, const search_limits& limits,
                 std::chrono::steady_clock::time_point start, std::uint64_t& nodes)
      : c_(cost), k_(k), integral_(integral), limits_(limits), start_(start), nodes_(nodes) {}

  /// Decides capacity C; on feasible, `part_of` holds a plan (part of each sorted item).
  decision decide(cost_t C, std::vector<index_type>& part_of) {
    const std::size_t n = c_.size();
    cap_ = C;
    cost_t total = 0;
    for (cost_t x : c_) total += x;
    cost_t waste = fulcrum::detail::mul(static_cast<cost_t>(k_), C) - total;  // mul: never contracted (core/detail/float.hpp)
    if (!integral_) waste += fulcrum::detail::mul(1e-9, total);  // rounding slack for float sums (only loosens pruning)
    if (waste < 0) return decision::infeasible;
    if (n > 0 && c_[0] > C) return decision::infeasible;
    part_.assign(n, unplaced);
    stopped_ = false;
    cand_stack_.clear();
    cand_stack_.reserve(k_ + 1);  // frames hold references into it: never reallocate
    const bool ok = fill(0, waste);
    if (stopped_) return decision::limit;
    if (!ok) return decision::infeasible;
    part_of = part_;
    return decision::feasible;
  }

 private:
  static constexpr index_type unplaced = std::numeric_limits<index_type>::max();

  bool out_of_budget() {
    if (stopped_) return true;
    ++nodes_;
    if (nodes_ >= limits_.nodes) stopped_ = true;
    else if (limits_.time != std::chrono::milliseconds::max() && (nodes_ & 1023u) == 0 &&
             std::chrono::steady_clock::now() - start_ >= limits_.time)
      stopped_ = true;
    return stopped_;
  }

  /// Fills part `bin` (and the following ones) with the unplaced items; `waste` is what is left of
  /// the waste budget.
  bool fill(std::size_t bin, cost_t waste) {
    const std::size_t n = c_.size();
    std::size_t first = 0;
    while (first < n && part_[first] != unplaced) ++first;
    if (first == n) return true;  // everything placed (remaining parts stay empty)
    if (bin + 1 == k_) {          // last part: takes the rest if it fits
      cost_t rest = 0;
      for (std::size_t i = first; i < n; ++i)
        if (part_[i] == unplaced) rest += c_[i];
      if (rest > cap_) return false;
      for (std::size_t i = first; i < n; ++i)
        if (part_[i] == unplaced) part_[i] = static_cast<index_type>(bin);
      return true;
    }
    cand_stack_.emplace_back();
    auto& cand = cand_stack_.back();
    for (std::size_t i = first + 1; i < n; ++i)
      if (part_[i] == unplaced) cand.push_back(static_cast<index_type>(i));
    std::vector<cost_t> suffix(cand.size() + 1, 0);
    for (std::size_t t = cand.size(); t-- > 0;) suffix[t] = suffix[t + 1] + c_[cand[t]];
    part_[first] = static_cast<index_type>(bin);
    const bool ok = complete(bin, 0, c_[first], waste, suffix);
    if (!ok) part_[first] = unplaced;
    cand_stack_.pop_back();
    return ok;
  }

  /// Include/exclude enumeration over candidates t.. of the current part (load so far `load`).
  bool complete(std::size_t bin, std::size_t t, cost_t load, cost_t waste, const std::vector<cost_t>& suffix) {
    const auto& cand = cand_stack_.back();
    if (stopped_) return false;
    // Even taking every remaining candidate cannot bring the waste within budget.
    const cost_t reach = std::min(cap_, load + suffix[t]);
    if (cap_ - reach > waste) return false;
    if (t == cand.size() || cap_ - load < c_[cand.back()]) {  // nothing more fits (candidates descend)
      // The part is complete: maximal if no excluded unplaced item fits in the slack.
      const cost_t slack = cap_ - load;
      if (slack > waste) return false;
      for (std::size_t u = 0; u < t; ++u) {
        const index_type i = cand[u];
        if (part_[i] == unplaced && c_[i] <= slack) return false;  // dominated: not maximal
      }
      return fill(bin + 1, waste - slack);
    }
    const index_type i = cand[t];
    if (load + c_[i] <= cap_) {
      if (out_of_budget()) return false;
      part_[i] = static_cast<index_type>(bin);
      if (complete(bin, t + 1, load + c_[i], waste, suffix)) return true;
      part_[i] = unplaced;
      if (stopped_) return false;
    }
    // Exclude i and every following candidate of the same cost.
    std::size_t u = t + 1;
    while (u < cand.size() && c_[cand[u]] == c_[i]) ++u;
    return complete(bin, u, load, waste, suffix);
  }

  const std::vector<cost_t>& c_;
  std::size_t k_;
  bool integral_;
  search_limits limits_;
  std::chrono::steady_clock::time_point start_;
  std::uint64_t& nodes_;
  cost_t cap_ = 0;
  bool stopped_ = false;
  std::vector<index_type> part_;
  std::vector<std::vector<index_type>> cand_stack_;
};
using bin_completion = basic_bin_completion<>;

}  // namespace fulcrum::detail
