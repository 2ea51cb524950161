// SPDX-License-Identifier: Apache-2.0
// pack() front door and multi-constraint packing: property tests over thousands of random
// instances and every algorithm (each item exactly once, capacities held in every dimension,
// loads recomputed, bins >= the reported lower bound >= L2), oversize policies, bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/core/sample.hpp>
#include <fulcrum/packing/best_fit_decreasing.hpp>
#include <fulcrum/packing/bounds.hpp>
#include <fulcrum/packing/histogram.hpp>
#include <fulcrum/packing/multi.hpp>
#include <fulcrum/packing/pack.hpp>
#include <fulcrum/testing/checkers.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {

constexpr pack_algorithm heuristics[] = {pack_algorithm::automatic,           pack_algorithm::next_fit,
                                         pack_algorithm::first_fit,           pack_algorithm::best_fit,
                                         pack_algorithm::first_fit_decreasing, pack_algorithm::best_fit_decreasing,
                                         pack_algorithm::histogram};

template <class Load>
void check_result(const basic_packing<Load>& p, std::size_t n) {
  REQUIRE(testing::check_exactly_once(p.bins, n));
  REQUIRE(p.loads.size() == p.bins.size());
  REQUIRE(testing::check_bound(static_cast<double>(p.bins.size()), static_cast<double>(p.lower_bound)));
  if (p.proven_optimal && p.algorithm != pack_algorithm::exact) CHECK(p.bins.size() == p.lower_bound);
  if (p.bins.size() == p.lower_bound) CHECK(p.proven_optimal);
}

std::string message_of(auto&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Textbook multi-dimensional first fit (plain scan) for the exactness check.
std::vector<std::vector<index_type>> reference_multi_ff(const std::vector<std::array<std::uint64_t, 2>>& s,
                                                       std::array<std::uint64_t, 2> c) {
  std::vector<std::vector<index_type>> bins;
  std::vector<std::array<std::uint64_t, 2>> load;
  for (index_type i = 0; i < s.size(); ++i) {
    std::size_t b = 0;
    while (b < bins.size() && !(load[b][0] + s[i][0] <= c[0] && load[b][1] + s[i][1] <= c[1])) ++b;
    if (b == bins.size()) { bins.emplace_back(); load.push_back({0, 0}); }
    bins[b].push_back(i);
    load[b][0] += s[i][0];
    load[b][1] += s[i][1];
  }
  return bins;
}

}  // namespace

TEST_SUITE("packing") {
  TEST_CASE("pack: every algorithm on thousands of random instances") {
    rng r(7);
    for (int t = 0; t < 2000; ++t) {
      CAPTURE(t);
      const std::uint64_t c = t % 4 == 0 ? 1 + r.below(20) : t % 4 == 3 ? (std::uint64_t{1} << 23) + r.below(100) : 50 + r.below(2000);
      std::vector<std::uint64_t> s(r.below(t % 10 == 0 ? 6 : 200));
      for (auto& x : s) x = r.below(2) ? r.below(c + 1) : r.below(c / 3 + 1);
      const std::span<const std::uint64_t> sp(s);
      const std::uint64_t l2 = lower_bound_l2(sp, c);
      for (const auto a : heuristics) {
        CAPTURE(static_cast<int>(a));
        const auto p = pack(s, c, pack_options{.algorithm = a});
        check_result(p, s.size());
        REQUIRE(testing::check_capacity(p.bins, sp, c));
        REQUIRE(testing::check_loads(p.bins, sp, std::span<const std::uint64_t>(p.loads)));
        CHECK(p.lower_bound >= l2);
        if (a != pack_algorithm::automatic) CHECK(p.algorithm == a);
        else CHECK(p.algorithm == (c <= (std::uint64_t{1} << 22) ? pack_algorithm::histogram : pack_algorithm::best_fit_decreasing));
      }
      if (s.size() <= 14 && t % 4 != 3) {  // exact on small instances
        const auto p = pack(s, c, pack_options{.algorithm = pack_algorithm::exact});
        check_result(p, s.size());
        REQUIRE(testing::check_capacity(p.bins, sp, c));
        CHECK(p.lower_bound >= l2);
        CHECK(p.bins.size() <= pack(s, c, pack_options{.algorithm = pack_algorithm::best_fit_decreasing}).bins.size());
      }
    }
  }

  TEST_CASE("pack: zero-copy and materialised paths agree - projections - determinism") {
    const auto w1 = testing::generate_w1(5000, 3);
    std::vector<std::uint32_t> u(w1.size());
    std::vector<long> l(w1.size());
    std::vector<double> f(w1.size());
    for (std::size_t i = 0; i < w1.size(); ++i) u[i] = static_cast<std::uint32_t>(l[i] = static_cast<long>(f[i] = static_cast<double>(w1[i].tokens())));
    const pack_options opts{.oversize_policy = oversize::truncate};
    const auto a = pack(u, 8192, opts);
    const auto b = pack(l, 8192.0, opts);
    const auto c = pack(f, 8192u, opts);
    const auto d = pack(w1, 8192, opts, [](const multimodal_sample& s) { return s.tokens(); });
    CHECK(a.bins == b.bins);
    CHECK(a.bins == c.bins);
    CHECK(a.bins == d.bins);
    CHECK(a.loads == d.loads);
    CHECK(pack(u, 8192, opts).bins == a.bins);
    CHECK(a.bins.size() <= a.lower_bound + 3);
  }

  TEST_CASE("pack: oversize policies") {
    const std::vector<std::uint64_t> s{4, 9, 15, 3, 12, 10};
    const std::string msg = message_of([&] { (void)pack(s, 10); });
    CHECK(msg.find("sizes[2] = 15") != std::string::npos);
    CHECK_THROWS_AS((void)pack(s, 10), infeasible);

    const auto t = pack(s, 10, pack_options{.oversize_policy = oversize::truncate});
    std::vector<std::uint64_t> truncated{4, 9, 10, 3, 10, 10};
    check_result(t, s.size());
    CHECK(testing::check_capacity(t.bins, std::span<const std::uint64_t>(truncated), 10));
    CHECK(testing::check_loads(t.bins, std::span<const std::uint64_t>(truncated), std::span<const std::uint64_t>(t.loads)));

    for (const auto a : heuristics) {
      const auto o = pack(s, 10, pack_options{.algorithm = a, .oversize_policy = oversize::own_bin});
      check_result(o, s.size());
      REQUIRE(o.bins.size() >= 2);
      // The two oversize items sit alone in the last two bins, in index order.
      CHECK(std::vector<index_type>(o.bins[o.bins.size() - 2].begin(), o.bins[o.bins.size() - 2].end()) == std::vector<index_type>{2});
      CHECK(std::vector<index_type>(o.bins[o.bins.size() - 1].begin(), o.bins[o.bins.size() - 1].end()) == std::vector<index_type>{4});
      CHECK(o.loads[o.bins.size() - 2] == 15);
      CHECK(o.loads[o.bins.size() - 1] == 12);
      for (std::size_t b = 0; b + 2 < o.bins.size(); ++b) CHECK(o.loads[b] <= 10);
      CHECK(o.lower_bound == 2 + lower_bound_l2(std::span<const std::uint64_t>(std::vector<std::uint64_t>{4, 9, 3, 10}), 10));
    }
  }

  TEST_CASE("pack: bad input") {
    const std::vector<int> ok{1, 2, 3};
    CHECK_THROWS_AS((void)pack(ok, 0), invalid_input);
    CHECK_THROWS_AS((void)pack(ok, -5), invalid_input);
    CHECK_THROWS_AS((void)pack(ok, 7.5), invalid_input);
    CHECK_THROWS_AS((void)pack(ok, std::nan("")), invalid_input);
    const std::vector<int> negative{1, -2, 3};
    CHECK(message_of([&] { (void)pack(negative, 10); }).find("sizes[1] = -2: is negative") != std::string::npos);
    const std::vector<double> fractional{1.0, 2.5};
    CHECK(message_of([&] { (void)pack(fractional, 10); }).find("sizes[1] = 2.5: is not an integer") != std::string::npos);
    const std::vector<double> nan{std::nan(""), 1.0};
    CHECK_THROWS_AS((void)pack(nan, 10), invalid_input);
    const std::vector<double> inf{1.0, std::numeric_limits<double>::infinity()};
    CHECK_THROWS_AS((void)pack(inf, 10), invalid_input);
    // Empty input: documented empty result.
    for (const auto a : heuristics) {
      const auto e = pack(std::vector<std::uint32_t>{}, 10, pack_options{.algorithm = a});
      CHECK(e.bins.size() == 0);
      CHECK(e.loads.empty());
      CHECK(e.lower_bound == 0);
      CHECK(e.proven_optimal);
    }
    // Multi-constraint: zero capacity in a dimension, oversize naming the dimension, wrong algorithm.
    const std::vector<std::array<int, 2>> m{{1, 1}, {2, 5}};
    CHECK_THROWS_AS((void)pack(m, std::array<int, 2>{10, 0}), invalid_input);
    CHECK(message_of([&] { (void)pack(m, std::array<int, 2>{10, 4}); }).find("sizes[1][1] = 5") != std::string::npos);
    CHECK_THROWS_AS((void)pack(m, std::array<int, 2>{10, 4}, pack_options{.algorithm = pack_algorithm::histogram,
                                                                          .oversize_policy = oversize::truncate}),
                    invalid_input);
    const std::vector<std::array<int, 2>> mneg{{1, -1}};
    CHECK_THROWS_AS((void)pack(mneg, std::array<int, 2>{10, 4}), invalid_input);
    // Runtime dimensions: mismatches.
    const std::vector<std::uint64_t> flat{1, 2, 3, 4, 5};
    const std::vector<std::uint64_t> cap2{10, 10};
    CHECK_THROWS_AS((void)multi_pack_flat(flat, 2, cap2), invalid_input);                       // 5 % 2 != 0
    CHECK_THROWS_AS((void)multi_pack_flat(std::span(flat).first(4), 3, cap2), invalid_input);   // capacity dims
    CHECK_THROWS_AS((void)multi_pack_flat(std::span(flat).first(4), 0, cap2), invalid_input);
    const auto fp = multi_pack_flat(std::span(flat).first(4), 2, cap2);
    CHECK(testing::check_exactly_once(fp.bins, 2));
    CHECK(fp.loads.size() == fp.bins.size() * 2);
    // Per-algorithm headers reject oversize items themselves.
    CHECK_THROWS_AS((void)best_fit_decreasing(std::vector<std::uint32_t>{3, 20}, 10), infeasible);
    CHECK_THROWS_AS((void)histogram_pack(std::vector<std::uint32_t>{3}, 0), invalid_input);
  }

  TEST_CASE("multi-constraint: every algorithm - thousands of random instances - every dimension held") {
    rng r(9);
    const pack_algorithm algos[] = {pack_algorithm::automatic, pack_algorithm::best_fit_decreasing,
                                    pack_algorithm::first_fit_decreasing, pack_algorithm::first_fit,
                                    pack_algorithm::next_fit};
    for (int t = 0; t < 1500; ++t) {
      CAPTURE(t);
      const std::array<std::uint64_t, 2> cap{20 + r.below(500), 1 + r.below(t % 3 == 0 ? 2000 : 9)};
      std::vector<std::array<std::uint64_t, 2>> s(r.below(150));
      for (auto& x : s) x = {r.below(cap[0] + 1), r.below(2) ? 0 : r.below(cap[1] + 1)};
      const std::span<const std::array<std::uint64_t, 2>> sp(s);
      std::uint64_t lb = 0;
      for (std::size_t d = 0; d < 2; ++d) {
        std::vector<std::uint64_t> dim(s.size());
        for (std::size_t i = 0; i < s.size(); ++i) dim[i] = s[i][d];
        lb = std::max(lb, lower_bound_l2(std::span<const std::uint64_t>(dim), cap[d]));
      }
      for (const auto a : algos) {
        const auto p = pack(s, cap, pack_options{.algorithm = a});
        check_result(p, s.size());
        REQUIRE(testing::check_capacity(p.bins, sp, cap));
        CHECK(p.lower_bound == lb);
        for (std::size_t b = 0; b < p.bins.size(); ++b) {
          std::array<std::uint64_t, 2> sum{0, 0};
          for (auto i : p.bins[b]) sum[0] += s[i][0], sum[1] += s[i][1];
          CHECK(sum == p.loads[b]);
        }
        if (a == pack_algorithm::first_fit) {
          const auto ref = reference_multi_ff(s, cap);
          REQUIRE(ref.size() == p.bins.size());
          for (std::size_t b = 0; b < ref.size(); ++b)
            CHECK(ref[b] == std::vector<index_type>(p.bins[b].begin(), p.bins[b].end()));
        }
      }
      // Three dimensions through the same front door.
      std::vector<std::array<std::uint32_t, 3>> s3(s.size());
      for (std::size_t i = 0; i < s.size(); ++i) s3[i] = {static_cast<std::uint32_t>(s[i][0]), static_cast<std::uint32_t>(s[i][1]), static_cast<std::uint32_t>(i % 3)};
      const std::array<std::uint64_t, 3> cap3{cap[0], cap[1], 4};
      const auto p3 = pack(s3, cap3);
      check_result(p3, s.size());
      REQUIRE(testing::check_capacity(p3.bins, std::span<const std::array<std::uint32_t, 3>>(s3), cap3));
    }
  }

  TEST_CASE("multi-constraint: W1 tokens x images within a few percent of the bound") {
    const auto w1 = testing::generate_w1(20000, 5);
    const auto p = pack(w1, std::array<std::uint64_t, 2>{8192, 8}, pack_options{.oversize_policy = oversize::truncate},
                        [](const multimodal_sample& s) { return std::array<std::uint64_t, 2>{s.tokens(), s.images}; });
    check_result(p, w1.size());
    CHECK(static_cast<double>(p.bins.size()) <= 1.10 * static_cast<double>(p.lower_bound));
  }
}

TEST_SUITE("packing") {
  TEST_CASE("pack: signed sizes read in place give the plan of their unsigned copy") {
    // int64 and int32 sizes (numpy's and torch's default) are checked for a sign and then read as
    // their unsigned type without a copy: the plan is the one of the same sizes as uint64.
    const auto tokens = testing::generate_w1_tokens(20000);
    const std::vector<std::uint64_t> u(tokens.begin(), tokens.end());
    const std::vector<std::int64_t> s64(tokens.begin(), tokens.end());
    std::vector<std::int32_t> s32(tokens.size());
    for (std::size_t i = 0; i < tokens.size(); ++i) s32[i] = static_cast<std::int32_t>(tokens[i]);
    for (const std::uint64_t cap : {std::uint64_t{16384}, std::uint64_t{40000}, std::uint64_t{1} << 20}) {
      pack_options o;
      const auto ref = pack(u, cap, o);
      const auto a = pack(s64, static_cast<std::int64_t>(cap), o);
      const auto b = pack(s32, static_cast<std::int64_t>(cap), o);
      CHECK(std::equal(a.bins.offsets().begin(), a.bins.offsets().end(), ref.bins.offsets().begin(),
                       ref.bins.offsets().end()));
      CHECK(std::equal(a.bins.indices().begin(), a.bins.indices().end(), ref.bins.indices().begin(),
                       ref.bins.indices().end()));
      CHECK(a.loads == ref.loads);
      CHECK(a.lower_bound == ref.lower_bound);
      CHECK(std::equal(b.bins.indices().begin(), b.bins.indices().end(), ref.bins.indices().begin(),
                       ref.bins.indices().end()));
      CHECK(b.loads == ref.loads);
    }
    // The first negative size is the one named, wherever the others are.
    std::vector<std::int64_t> bad(s64);
    bad[70] = -3;
    bad[9000] = -1;
    CHECK(message_of([&] { (void)pack(bad, 16384); }).find("sizes[70] = -3: is negative") != std::string::npos);
  }
}
