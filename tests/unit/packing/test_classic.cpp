// SPDX-License-Identifier: Apache-2.0
// The classic packers against plain O(n x bins) reference implementations written here from the
// textbook definitions: identical bins (same items in the same bins, bins in opening order),
// on thousands of random instances covering both internal structures (bucketed and ordered).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/packing/best_fit.hpp>
#include <fulcrum/packing/best_fit_decreasing.hpp>
#include <fulcrum/packing/first_fit.hpp>
#include <fulcrum/packing/first_fit_decreasing.hpp>
#include <fulcrum/packing/histogram.hpp>
#include <fulcrum/packing/next_fit.hpp>
#include <fulcrum/testing/checkers.hpp>

using namespace fulcrum;

namespace {

using bins_t = std::vector<std::vector<index_type>>;  // items per bin, each bin sorted by index

enum class rule { next, first, best };

// Textbook reference: visit items in `order`, scan all bins linearly.
bins_t reference(const std::vector<std::uint64_t>& s, std::uint64_t c, rule r, bool decreasing) {
  std::vector<index_type> order(s.size());
  std::iota(order.begin(), order.end(), index_type{0});
  if (decreasing)
    std::stable_sort(order.begin(), order.end(), [&](index_type a, index_type b) { return s[a] > s[b]; });
  bins_t bins;
  std::vector<std::uint64_t> load;
  for (index_type i : order) {
    std::size_t chosen = bins.size();
    if (r == rule::next) {
      if (!bins.empty() && load.back() + s[i] <= c) chosen = bins.size() - 1;
    } else {
      for (std::size_t b = 0; b < bins.size(); ++b) {
        if (load[b] + s[i] > c) continue;
        if (r == rule::first) { chosen = b; break; }
        if (chosen == bins.size() || load[b] > load[chosen]) chosen = b;  // strictly fuller: keeps lowest index
      }
    }
    if (chosen == bins.size()) { bins.emplace_back(); load.push_back(0); }
    bins[chosen].push_back(i);
    load[chosen] += s[i];
  }
  for (auto& b : bins) std::sort(b.begin(), b.end());
  return bins;
}

// The histogram packer's rule (packing/histogram.hpp, rule 2): least room >= s, ties to the bin
// that entered that room most recently.
bins_t reference_histogram(const std::vector<std::uint64_t>& s, std::uint64_t c) {
  std::vector<index_type> order(s.size());
  std::iota(order.begin(), order.end(), index_type{0});
  std::stable_sort(order.begin(), order.end(), [&](index_type a, index_type b) { return s[a] > s[b]; });
  bins_t bins;
  std::vector<std::uint64_t> room;
  std::vector<std::size_t> entered;  // time the bin got its current room
  std::size_t now = 0;
  for (index_type i : order) {
    std::size_t chosen = bins.size();
    for (std::size_t b = 0; b < bins.size(); ++b) {
      if (room[b] < s[i]) continue;
      if (chosen == bins.size() || room[b] < room[chosen] || (room[b] == room[chosen] && entered[b] > entered[chosen]))
        chosen = b;
    }
    if (chosen == bins.size()) {
      bins.emplace_back();
      room.push_back(c);
      entered.push_back(0);
    }
    bins[chosen].push_back(i);
    room[chosen] -= s[i];
    entered[chosen] = ++now;
  }
  for (auto& b : bins) std::sort(b.begin(), b.end());
  return bins;
}

bins_t as_bins(const packing& p) {
  bins_t out;
  for (std::size_t b = 0; b < p.bins.size(); ++b) out.emplace_back(p.bins[b].begin(), p.bins[b].end());
  return out;
}

void check_valid(const packing& p, const std::vector<std::uint64_t>& s, std::uint64_t c) {
  const std::span<const std::uint64_t> sp(s);
  REQUIRE(testing::check_exactly_once(p.bins, s.size()));
  REQUIRE(testing::check_capacity(p.bins, sp, c));
  REQUIRE(testing::check_loads(p.bins, sp, std::span<const std::uint64_t>(p.loads)));
  REQUIRE(testing::check_bound(static_cast<double>(p.bins.size()), static_cast<double>(p.lower_bound)));
  CHECK(p.lower_bound == lower_bound_l2(sp, c));
  CHECK(p.proven_optimal == (p.bins.size() == p.lower_bound));
}

std::vector<std::uint64_t> sorted_loads(const packing& p) {
  std::vector<std::uint64_t> l(p.loads);
  std::sort(l.begin(), l.end());
  return l;
}

// Random instance: a mix of regimes (tiny capacity with many ties and zeros, large capacity
// taking the ordered-structure paths, big items, small items).
std::vector<std::uint64_t> random_instance(rng& r, std::uint64_t& c, int t) {
  const int kind = t % 7;
  std::size_t n = static_cast<std::size_t>(r.below(kind == 0 ? 8 : kind == 6 ? 1500 : 120));
  std::vector<std::uint64_t> s(n);
  switch (kind) {
    case 0: c = 1 + r.below(12); for (auto& x : s) x = r.below(c + 1); break;              // tiny, zeros, ties
    case 1: c = 10 + r.below(90); for (auto& x : s) x = r.below(c + 1); break;             // uniform
    case 2: c = 100; for (auto& x : s) x = 20 + r.below(40); break;                        // triplet-ish
    case 3: c = 1000; for (auto& x : s) x = r.below(4) == 0 ? 400 + r.below(601) : 1 + r.below(100); break;
    case 4:  // huge capacity: the ordered (non-bucket) paths
      c = (std::uint64_t{1} << 40) + r.below(1000);
      for (auto& x : s) x = r.below(c / 2) + (r.below(2) ? c / 3 : 0);
      break;
    case 5: c = 50 + r.below(20); for (auto& x : s) x = r.below(2) ? 0 : r.below(c + 1); break;
    default: c = 10 + r.below(30); for (auto& x : s) x = 1 + r.below(c); break;  // many equally full bins
  }
  return s;
}

}  // namespace

TEST_SUITE("packing") {
  TEST_CASE("histogram packer by size class equals its rule driven item by item") {
    // histogram_by_class (bulk per size class, two-pass CSR) against the same rule as a store
    // driven one item at a time, on instances with many items per size class and many bins.
    rng r(23);
    for (int t = 0; t < 400; ++t) {
      const std::uint64_t c = 1 + r.below(t % 4 == 0 ? 40 : 3000);
      const std::size_t n = static_cast<std::size_t>(1 + r.below(t % 5 == 0 ? 20000 : 2000));
      std::vector<std::uint64_t> s(n);
      const std::uint64_t lo = r.below(c + 1);
      for (auto& x : s) x = lo + r.below(c - lo + 1);
      if (t % 3 == 0)
        for (auto& x : s) x = r.below(4) == 0 ? c - r.below(c / 3 + 1) : r.below(c / 8 + 1);  // big and small, zeros
      CAPTURE(t);
      const std::span<const std::uint64_t> sp(s);
      const auto size = [sp](std::size_t i) { return sp[i]; };
      const auto bulk = detail::histogram_by_class(n, size, c);
      const auto one_by_one = detail::greedy_decreasing(
          n, size, c, [&](std::uint64_t m, std::size_t e) { return detail::lifo_buckets(c, m, e); },
          pack_algorithm::histogram);
      check_valid(bulk, s, c);
      CHECK(as_bins(bulk) == as_bins(one_by_one));
      CHECK(bulk.loads == one_by_one.loads);
      CHECK(bulk.lower_bound == one_by_one.lower_bound);
      if (n <= 300) CHECK(as_bins(bulk) == reference_histogram(s, c));
    }
  }

  TEST_CASE("classic packers equal their textbook reference on random instances") {
    rng r(4);
    for (int t = 0; t < 3000; ++t) {
      std::uint64_t c = 0;
      const auto s = random_instance(r, c, t);
      CAPTURE(t);
      CAPTURE(c);
      const auto nf = next_fit(s, c);
      const auto ff = first_fit(s, c);
      const auto bf = best_fit(s, c);
      const auto ffd = first_fit_decreasing(s, c);
      const auto bfd = best_fit_decreasing(s, c);
      const auto hist = histogram_pack(s, c);
      for (const packing* p : {&nf, &ff, &bf, &ffd, &bfd, &hist}) check_valid(*p, s, c);
      CHECK(as_bins(nf) == reference(s, c, rule::next, false));
      CHECK(as_bins(ff) == reference(s, c, rule::first, false));
      CHECK(as_bins(bf) == reference(s, c, rule::best, false));
      CHECK(as_bins(ffd) == reference(s, c, rule::first, true));
      CHECK(as_bins(bfd) == reference(s, c, rule::best, true));
      CHECK(as_bins(hist) == reference_histogram(s, c));
      // Histogram: same bin count and load multiset as BFD.
      CHECK(hist.bins.size() == bfd.bins.size());
      CHECK(sorted_loads(hist) == sorted_loads(bfd));
      CHECK(nf.algorithm == pack_algorithm::next_fit);
      CHECK(hist.algorithm == pack_algorithm::histogram);
    }
  }
}
