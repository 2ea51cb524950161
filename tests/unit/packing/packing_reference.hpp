// Independent, deliberately naive reference packers for the packing property tests and the
// packing fuzz target (reliability, issue 11). They share no code with include/fulcrum/packing:
// each textbook rule is written out in O(n x bins), sums are kept in 128 bits, and the optimum is
// found by a subset DP. Only bin counts are compared: for next/first/best fit (and their
// decreasing variants) the count is determined by the input alone (equal sizes and equally full
// bins are interchangeable), so any correct implementation must reproduce it exactly.
// check_packing_1d / check_packing_multi verify a pack() result against its input from scratch
// (the contract of packing/pack.hpp) and return "" or the first violation.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <fulcrum/packing/packing.hpp>
#include <fulcrum/testing/checkers.hpp>

namespace reliability {

using u128 = unsigned __int128;

/// Bins used by the textbook rule on `sizes` (every size <= capacity).
enum class textbook { next_fit, first_fit, best_fit, first_fit_decreasing, best_fit_decreasing };

inline std::size_t reference_bins(std::vector<std::uint64_t> sizes, std::uint64_t capacity, textbook rule) {
  if (rule == textbook::first_fit_decreasing || rule == textbook::best_fit_decreasing)
    std::stable_sort(sizes.begin(), sizes.end(), std::greater<>());
  std::vector<std::uint64_t> load;  // per bin
  for (const std::uint64_t s : sizes) {
    std::size_t chosen = load.size();
    switch (rule) {
      case textbook::next_fit:
        if (!load.empty() && s <= capacity - load.back()) chosen = load.size() - 1;
        break;
      case textbook::first_fit:
      case textbook::first_fit_decreasing:
        for (std::size_t b = 0; b < load.size(); ++b)
          if (s <= capacity - load[b]) {
            chosen = b;
            break;
          }
        break;
      case textbook::best_fit:
      case textbook::best_fit_decreasing:
        for (std::size_t b = 0; b < load.size(); ++b)
          if (s <= capacity - load[b] && (chosen == load.size() || load[b] > load[chosen])) chosen = b;
        break;
    }
    if (chosen == load.size()) load.push_back(0);
    load[chosen] += s;
  }
  return load.size();
}

/// Multi-constraint next fit / first fit in index order (every dimension must fit).
template <std::size_t D>
std::size_t reference_multi_bins(const std::vector<std::array<std::uint64_t, D>>& sizes,
                                 const std::array<std::uint64_t, D>& capacity, bool first_fit) {
  std::vector<std::array<std::uint64_t, D>> load;
  auto fits = [&](std::size_t b, const std::array<std::uint64_t, D>& s) {
    for (std::size_t d = 0; d < D; ++d)
      if (s[d] > capacity[d] - load[b][d]) return false;
    return true;
  };
  for (const auto& s : sizes) {
    std::size_t chosen = load.size();
    if (first_fit) {
      for (std::size_t b = 0; b < load.size(); ++b)
        if (fits(b, s)) {
          chosen = b;
          break;
        }
    } else if (!load.empty() && fits(load.size() - 1, s)) {
      chosen = load.size() - 1;
    }
    if (chosen == load.size()) load.push_back({});
    for (std::size_t d = 0; d < D; ++d) load[chosen][d] += s[d];
  }
  return load.size();
}

/// Minimum number of bins by a subset DP over all masks, O(3^n): `fits(mask)` says whether the
/// items of `mask` fit one bin. n <= 12.
template <class Fits>
std::size_t optimum_bins(std::size_t n, Fits&& fits) {
  if (n == 0) return 0;
  const std::size_t full = (std::size_t{1} << n) - 1;
  std::vector<std::uint8_t> one(full + 1, 0);
  for (std::size_t m = 1; m <= full; ++m) one[m] = fits(m) ? 1 : 0;
  std::vector<std::uint8_t> best(full + 1, 0xff);
  best[0] = 0;
  for (std::size_t m = 1; m <= full; ++m) {
    const std::size_t low = m & (~m + 1);  // the lowest item must go into some bin: enumerate that bin
    const std::size_t rest = m ^ low;
    for (std::size_t sub = rest;; sub = (sub - 1) & rest) {
      const std::size_t bin = sub | low;
      if (one[bin] && best[m ^ bin] != 0xff) best[m] = std::min<std::uint8_t>(best[m], best[m ^ bin] + 1);
      if (sub == 0) break;
    }
  }
  return best[full];
}

inline std::size_t optimum_bins(const std::vector<std::uint64_t>& sizes, std::uint64_t capacity) {
  return optimum_bins(sizes.size(), [&](std::size_t mask) {
    u128 total = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i)
      if (mask >> i & 1) total += sizes[i];
    return total <= capacity;
  });
}

template <std::size_t D>
std::size_t optimum_bins(const std::vector<std::array<std::uint64_t, D>>& sizes, const std::array<std::uint64_t, D>& capacity) {
  return optimum_bins(sizes.size(), [&](std::size_t mask) {
    for (std::size_t d = 0; d < D; ++d) {
      u128 total = 0;
      for (std::size_t i = 0; i < sizes.size(); ++i)
        if (mask >> i & 1) total += sizes[i][d];
      if (total > capacity[d]) return false;
    }
    return true;
  });
}

/// ceil(sum / capacity), summed in 128 bits (the trivial bound L1; every valid bound is >= it
/// only if it is at least as strong, and every packing uses at least this many bins).
inline std::uint64_t l1_bound(const std::vector<std::uint64_t>& sizes, std::uint64_t capacity) {
  u128 total = 0;
  for (const auto s : sizes) total += s;
  return static_cast<std::uint64_t>((total + capacity - 1) / capacity);
}

#define RELIABILITY_EXPECT(cond, what) \
  do {                                 \
    if (!(cond)) return what;          \
  } while (0)

/// Shape shared by 1-D and 2-D: exactly once, index order within bins, no empty bin, own bins
/// last holding one oversize item each in index order. Sets `regular_bins`.
inline std::string check_shape(const fulcrum::grouping& bins, std::size_t n, const std::vector<bool>& over, bool own_bin,
                               std::size_t& regular_bins) {
  if (auto r = fulcrum::testing::check_exactly_once(bins, n); !r) return "exactly once: " + r.message;
  for (std::size_t b = 0; b < bins.size(); ++b) {
    const auto g = bins[b];
    RELIABILITY_EXPECT(!g.empty(), "empty bin");
    for (std::size_t j = 1; j < g.size(); ++j) RELIABILITY_EXPECT(g[j - 1] < g[j], "items not in index order within a bin");
  }
  std::size_t own = 0;
  if (own_bin)
    for (std::size_t i = 0; i < n; ++i) own += over[i] ? 1 : 0;
  RELIABILITY_EXPECT(bins.size() >= own, "fewer bins than oversize items under own_bin");
  regular_bins = bins.size() - own;
  std::size_t next_over = 0;
  for (std::size_t b = 0; b < bins.size(); ++b) {
    const auto g = bins[b];
    if (b < regular_bins) {
      for (auto i : g) RELIABILITY_EXPECT(!own_bin || !over[i], "oversize item in a regular bin under own_bin");
    } else {
      while (!over[next_over]) ++next_over;
      RELIABILITY_EXPECT(g.size() == 1 && g[0] == next_over, "own bins must hold one oversize item each, in index order");
      ++next_over;
    }
  }
  return {};
}

/// The algorithm pack() documents to run.
inline fulcrum::pack_algorithm expected_algorithm(fulcrum::pack_algorithm a, std::uint64_t capacity) {
  if (a != fulcrum::pack_algorithm::automatic) return a;
  return capacity <= (std::uint64_t{1} << 22) ? fulcrum::pack_algorithm::histogram
                                               : fulcrum::pack_algorithm::best_fit_decreasing;
}

/// Checks a one-dimensional pack() result (see the file comment); `sizes` as converted.
inline std::string check_packing_1d(const fulcrum::packing& p, const std::vector<std::uint64_t>& sizes,
                                    std::uint64_t capacity, const fulcrum::pack_options& opts) {
  using fulcrum::oversize;
  using fulcrum::pack_algorithm;
  const std::size_t n = sizes.size();
  std::vector<bool> over(n);
  for (std::size_t i = 0; i < n; ++i) over[i] = sizes[i] > capacity;
  const bool own_bin = opts.oversize_policy == oversize::own_bin;
  std::size_t regular_bins = 0;
  if (auto e = check_shape(p.bins, n, over, own_bin, regular_bins); !e.empty()) return e;
  std::vector<std::uint64_t> eff(n), regular;  // what counts against the capacity
  std::size_t own = 0;
  for (std::size_t i = 0; i < n; ++i) {
    eff[i] = opts.oversize_policy == oversize::truncate ? std::min(sizes[i], capacity) : sizes[i];
    if (own_bin && over[i]) ++own;
    else regular.push_back(eff[i]);
  }
  RELIABILITY_EXPECT(p.loads.size() == p.bins.size(), "not one load per bin");
  for (std::size_t b = 0; b < p.bins.size(); ++b) {
    u128 total = 0;
    for (auto i : p.bins[b]) total += eff[i];
    RELIABILITY_EXPECT(total == p.loads[b], "reported load differs from the 128-bit recomputed load");
    if (b < regular_bins) RELIABILITY_EXPECT(total <= capacity, "bin over capacity");
  }
  RELIABILITY_EXPECT(p.bins.size() >= p.lower_bound, "bins below the reported lower bound");
  RELIABILITY_EXPECT(p.lower_bound >= l1_bound(regular, capacity) + own, "lower bound below L1");
  if (p.proven_optimal) RELIABILITY_EXPECT(p.bins.size() == p.lower_bound, "proven_optimal without bins == bound");
  if (n == 0) RELIABILITY_EXPECT(p.bins.size() == 0 && p.lower_bound == 0 && p.proven_optimal, "empty input: not an empty packing");
  const pack_algorithm ran = expected_algorithm(opts.algorithm, capacity);
  RELIABILITY_EXPECT(p.algorithm == ran, "reported algorithm is not the one documented to run");
  if (regular.size() <= 10) {
    const std::size_t opt = optimum_bins(regular, capacity) + own;
    RELIABILITY_EXPECT(p.lower_bound <= opt, "lower bound above the optimum");
    RELIABILITY_EXPECT(p.bins.size() >= opt, "fewer bins than the optimum");
    if (ran == pack_algorithm::exact && p.bins.size() == p.lower_bound)
      RELIABILITY_EXPECT(p.proven_optimal, "exact: bins == bound but not proven_optimal");
  }
  std::size_t reference = regular_bins;  // exact: bounded by the optimum checks above
  switch (ran) {
    case pack_algorithm::next_fit: reference = reference_bins(regular, capacity, textbook::next_fit); break;
    case pack_algorithm::first_fit: reference = reference_bins(regular, capacity, textbook::first_fit); break;
    case pack_algorithm::best_fit: reference = reference_bins(regular, capacity, textbook::best_fit); break;
    case pack_algorithm::first_fit_decreasing:
      reference = reference_bins(regular, capacity, textbook::first_fit_decreasing);
      break;
    case pack_algorithm::best_fit_decreasing:
    case pack_algorithm::histogram: reference = reference_bins(regular, capacity, textbook::best_fit_decreasing); break;
    default: break;
  }
  RELIABILITY_EXPECT(regular_bins == reference, "bin count differs from the textbook rule's");
  return {};
}

/// Checks a multi-constraint pack() result.
template <std::size_t D>
std::string check_packing_multi(const fulcrum::basic_packing<std::array<std::uint64_t, D>>& p,
                                const std::vector<std::array<std::uint64_t, D>>& sizes,
                                const std::array<std::uint64_t, D>& capacity, const fulcrum::pack_options& opts) {
  using fulcrum::oversize;
  using fulcrum::pack_algorithm;
  const std::size_t n = sizes.size();
  std::vector<bool> over(n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t d = 0; d < D; ++d) over[i] = over[i] || sizes[i][d] > capacity[d];
  const bool own_bin = opts.oversize_policy == oversize::own_bin;
  std::size_t regular_bins = 0;
  if (auto e = check_shape(p.bins, n, over, own_bin, regular_bins); !e.empty()) return e;
  std::vector<std::array<std::uint64_t, D>> eff(n), regular;
  std::size_t own = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t d = 0; d < D; ++d)
      eff[i][d] = opts.oversize_policy == oversize::truncate ? std::min(sizes[i][d], capacity[d]) : sizes[i][d];
    if (own_bin && over[i]) ++own;
    else regular.push_back(eff[i]);
  }
  RELIABILITY_EXPECT(p.loads.size() == p.bins.size(), "not one load per bin");
  for (std::size_t b = 0; b < p.bins.size(); ++b)
    for (std::size_t d = 0; d < D; ++d) {
      u128 total = 0;
      for (auto i : p.bins[b]) total += eff[i][d];
      RELIABILITY_EXPECT(total == p.loads[b][d], "reported load differs from the recomputed load (some dimension)");
      if (b < regular_bins) RELIABILITY_EXPECT(total <= capacity[d], "bin over capacity in some dimension");
    }
  std::uint64_t l1 = 0;
  for (std::size_t d = 0; d < D; ++d) {
    std::vector<std::uint64_t> dim;
    for (const auto& s : regular) dim.push_back(s[d]);
    l1 = std::max(l1, l1_bound(dim, capacity[d]));
  }
  RELIABILITY_EXPECT(p.lower_bound >= l1 + own, "lower bound below max_d L1");
  RELIABILITY_EXPECT(p.bins.size() >= p.lower_bound, "bins below the reported lower bound");
  if (p.proven_optimal) RELIABILITY_EXPECT(p.bins.size() == p.lower_bound, "proven_optimal without bins == bound");
  if (regular.size() <= 9) {
    const std::size_t opt = optimum_bins<D>(regular, capacity) + own;
    RELIABILITY_EXPECT(p.lower_bound <= opt && opt <= p.bins.size(), "not lower_bound <= optimum <= bins");
  }
  const pack_algorithm a = opts.algorithm;
  if (a == pack_algorithm::next_fit || a == pack_algorithm::first_fit)
    RELIABILITY_EXPECT(regular_bins == reference_multi_bins<D>(regular, capacity, a == pack_algorithm::first_fit),
                       "bin count differs from the textbook multi-constraint rule's");
  return {};
}

#undef RELIABILITY_EXPECT

}  // namespace reliability
