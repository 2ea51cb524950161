// SPDX-License-Identifier: Apache-2.0
// rank_order_bins (packing/detail/rank_steps.hpp): the order of bins that pack_for_ranks, epoch plans
// and the streaming batcher deal into steps, against an independent reference sort of the bin
// numbers by the documented key (non-empty first; by cost when balancing a cost; loads descending,
// smallest capacity first; first item, then bin number, ascending). Random states cover the packed
// integer key (loads within the capacities, fields within 64 bits) and its fallbacks (capacities
// near 2^64, a load above its capacity, costs), empty bins and ties.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/packing/detail/rank_steps.hpp>

using namespace fulcrum;

namespace {

template <std::size_t D>
struct random_state {
  std::vector<size_vector<D>> sizes;
  std::vector<cost_t> costs;
  detail::rank_state<D> st;
};

/// Bins over a random item set; loads summed here; `over` puts one bin above its capacity.
template <std::size_t D>
void fill(random_state<D>& r, rng& gen, const size_vector<D>& capacity, std::uint64_t max_size, bool with_costs,
          bool over) {
  const std::size_t items = static_cast<std::size_t>(gen.below(300));
  const std::size_t bins = 1 + static_cast<std::size_t>(gen.below(60));
  r.sizes.resize(items);
  for (auto& s : r.sizes)
    for (std::size_t d = 0; d < D; ++d) s[d] = gen.below((over ? max_size : std::min(max_size, capacity[d])) + 1);
  r.costs.clear();
  if (with_costs)
    for (std::size_t i = 0; i < items; ++i) r.costs.push_back(static_cast<cost_t>(gen.below(8)));  // ties
  r.st = detail::rank_state<D>{};
  r.st.sizes = r.sizes;
  r.st.costs = r.costs;
  r.st.capacity = capacity;
  r.st.ranks = 4;
  r.st.bins.assign(bins, {});
  std::vector<index_type> order(items);
  std::iota(order.begin(), order.end(), index_type{0});
  gen.shuffle(std::span<index_type>(order));
  for (const index_type i : order) {
    const std::size_t b = static_cast<std::size_t>(gen.below(bins + bins / 4));  // some bins stay empty
    if (b < bins) r.st.bins[b].push_back(i);
  }
  detail::rank_recompute(r.st);
  if (!over) {
    // Trim every bin to its capacities (drop items from the back until it fits).
    for (std::size_t b = 0; b < bins; ++b) {
      auto fits = [&] {
        for (std::size_t d = 0; d < D; ++d)
          if (r.st.loads[b][d] > capacity[d]) return false;
        return true;
      };
      while (!fits()) {
        r.st.bins[b].pop_back();
        detail::rank_recompute(r.st);
      }
    }
  }
}

/// Bin contents in the reference order (computed from a copy before rank_order_bins runs).
template <std::size_t D>
std::vector<std::vector<index_type>> reference_order(const detail::rank_state<D>& st) {
  std::array<std::size_t, D> dims{};
  std::iota(dims.begin(), dims.end(), std::size_t{0});
  std::stable_sort(dims.begin(), dims.end(),
                   [&](std::size_t a, std::size_t b) { return st.capacity[a] < st.capacity[b]; });
  std::vector<std::size_t> bins(st.bins.size());
  std::iota(bins.begin(), bins.end(), std::size_t{0});
  auto first = [&](std::size_t b) {
    index_type f = std::numeric_limits<index_type>::max();
    for (const index_type i : st.bins[b]) f = std::min(f, i);
    return f;
  };
  std::sort(bins.begin(), bins.end(), [&](std::size_t a, std::size_t b) {
    const bool ea = st.bins[a].empty(), eb = st.bins[b].empty();
    if (ea != eb) return eb;
    if (!st.costs.empty() && st.cost_loads[a] != st.cost_loads[b]) return st.cost_loads[a] > st.cost_loads[b];
    for (const std::size_t d : dims)
      if (st.loads[a][d] != st.loads[b][d]) return st.loads[a][d] > st.loads[b][d];
    if (first(a) != first(b)) return first(a) < first(b);
    return a < b;
  });
  std::vector<std::vector<index_type>> out;
  for (const std::size_t b : bins) out.push_back(st.bins[b]);
  return out;
}

template <std::size_t D>
void check_against_reference(std::uint64_t seed, const size_vector<D>& capacity, std::uint64_t max_size,
                             bool with_costs, bool over) {
  rng gen(seed);
  for (int round = 0; round < 200; ++round) {
    random_state<D> r;
    fill(r, gen, capacity, max_size, with_costs, over);
    const auto expected = reference_order(r.st);
    detail::rank_order_bins(r.st);
    REQUIRE(r.st.bins == expected);
    // The loads belong to the reordered bins.
    auto recomputed = r.st;
    detail::rank_recompute(recomputed);
    REQUIRE(r.st.loads == recomputed.loads);
    REQUIRE(r.st.cost_loads == recomputed.cost_loads);
  }
}

}  // namespace

TEST_CASE("rank_order_bins matches a reference sort with packed keys") {
  check_against_reference<1>(1, {64}, 9, false, false);
  check_against_reference<2>(2, {8, 8192}, 3000, false, false);
  check_against_reference<2>(3, {8, 8192}, 2, false, false);  // many equal loads: ties by first item
  check_against_reference<3>(4, {1000, 3, 70}, 40, false, false);
  check_against_reference<2>(5, {0, 50}, 0, false, false);  // zero capacity and sizes: every load equal
}

TEST_CASE("rank_order_bins matches a reference sort on its fallbacks") {
  constexpr std::uint64_t huge = std::numeric_limits<std::uint64_t>::max() - 5;
  check_against_reference<2>(6, {huge, 8192}, 3000, false, false);  // fields over 64 bits
  check_against_reference<2>(7, {8, 100}, 60, false, true);         // loads above their capacity
  check_against_reference<2>(8, {8, 8192}, 3000, true, false);      // balancing a cost
  check_against_reference<1>(9, {std::uint64_t{1} << 40}, std::uint64_t{1} << 33, false, false);
}
