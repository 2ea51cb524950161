// Issue 15: one validation for every front door (core/validate.hpp) and a bounded worst case for
// the multi-constraint fallback of pack() / pack_for_ranks (packing/multi.hpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include <fulcrum/core/validate.hpp>
#include <fulcrum/packing/multi.hpp>
#include <fulcrum/packing/pack.hpp>
#include <fulcrum/packing/rank_packing.hpp>

using namespace fulcrum;

namespace {
using size2 = std::array<std::uint64_t, 2>;

/// Near-complementary large items {4095, 1000} / {1000, 4095} interleaved (each alone in a bin,
/// rooms {1, 3096} and {3096, 1}), then {2, 2} items that fit no heavy bin although every
/// subtree's per-dimension maximum admits them: plain first fit inspects every heavy bin per item.
/// `medium`: {300 + i % 7, 300 + i % 5} instead of {2, 2} (13 per bin instead of 2048).
std::vector<size2> adversarial(std::size_t n, bool medium = false) {
  std::vector<size2> s;
  for (std::size_t i = 0; i < n / 2; ++i) s.push_back(i % 2 ? size2{4095, 1000} : size2{1000, 4095});
  for (std::size_t i = n / 2; i < n; ++i) s.push_back(medium ? size2{300 + i % 7, 300 + i % 5} : size2{2, 2});
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

TEST_CASE("validation: pack_for_ranks with ranks near SIZE_MAX is invalid_input before allocating") {
  const std::vector<std::uint64_t> sizes{1, 2, 3};
  CHECK_THROWS_AS((void)pack_for_ranks(sizes, std::uint64_t{8}, std::numeric_limits<std::size_t>::max() - 1),
                  invalid_input);
  CHECK_THROWS_WITH_AS((void)pack_for_ranks(sizes, std::uint64_t{8}, std::size_t{1} << 40), doctest::Contains("ranks"),
                       invalid_input);
  CHECK_THROWS_AS((void)pack_for_ranks(sizes, std::uint64_t{8}, max_parts + 1), invalid_input);
  CHECK_THROWS_AS((void)pack_for_ranks(sizes, std::uint64_t{8}, 0), invalid_input);
  CHECK_NOTHROW((void)pack_for_ranks(sizes, std::uint64_t{8}, 3));
}

TEST_CASE("validation: pack_for_ranks with costs whose sum overflows is invalid_input not NaN") {
  const std::vector<std::uint64_t> sizes{1, 2, 3};
  const auto huge = [](std::uint64_t) { return 1e308; };
  CHECK_THROWS_WITH_AS((void)pack_for_ranks(sizes, std::uint64_t{8}, 2, {}, huge), doctest::Contains("overflows"),
                       invalid_input);
  const auto fine = [](std::uint64_t s) { return static_cast<double>(s) * 1.5; };
  const auto r = pack_for_ranks(sizes, std::uint64_t{8}, 2, {}, fine);
  CHECK(r.cost_dist == r.cost_dist);  // not NaN
}

TEST_CASE("multi-constraint pack: near-complementary items are not quadratic") {
  // Plain first fit took 14.6 s at n = 80k (quadratic); the bounded fallback is linear.
  const auto s = adversarial(80000);
  const auto t = std::chrono::steady_clock::now();
  const auto p = pack(s, size2{4096, 4096});
  CHECK(seconds_since(t) < 5.0);
  // Same bin count as textbook FFD on this family: 40000 heavy bins + ceil(40000 / 2048) for {2, 2}.
  CHECK(p.bins.size() == 40000 + 20);
  std::vector<int> seen(s.size(), 0);
  for (std::size_t b = 0; b < p.bins.size(); ++b) {
    std::uint64_t l0 = 0, l1 = 0;
    for (index_type i : p.bins[b]) {
      ++seen[i];
      l0 += s[i][0];
      l1 += s[i][1];
    }
    CHECK(l0 <= 4096);
    CHECK(l1 <= 4096);
  }
  for (int v : seen) REQUIRE(v == 1);
}

TEST_CASE("multi-constraint pack: the bounded fallback equals textbook FFD on ordinary inputs") {
  std::vector<size2> s;
  std::uint64_t x = 12345;
  for (std::size_t i = 0; i < 5000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    s.push_back(size2{1 + (x >> 33) % 3000, 1 + (x >> 13) % 2000});
  }
  const size2 cap{4096, 4096};
  const auto a = pack(s, cap);
  const auto b = multi_first_fit_decreasing<2>(s, cap);
  CHECK(a.bins == b.bins);
}

TEST_CASE("pack_for_ranks: near-complementary items are not quadratic") {
  // 5.1 s CPU at n = 80k on the old code (quadratic), 0.13 s now.
  const auto s = adversarial(80000, true);
  const auto t = std::chrono::steady_clock::now();
  const auto r = pack_for_ranks(s, size2{4096, 4096}, 8);
  CHECK(seconds_since(t) < 5.0);
  CHECK(r.used_bins >= 40000);
}

TEST_CASE("pack_for_ranks: bins of thousands of items are not quadratic") {
  // Rank balancing examined every pair of items of two bins (O(m^2) per bin pair: minutes here);
  // beyond 16384 item pairs it uses the sorted swap search (packing/detail/rank_steps.hpp).
  // 131072 items of sizes 1..64 into bins of 2^18: about 8000 items per bin, 16 bins.
  const std::size_t n = 131072;
  constexpr std::uint64_t cap = std::uint64_t{1} << 18;
  std::vector<std::uint64_t> s(n);
  for (std::size_t i = 0; i < n; ++i) s[i] = 1 + (i * 7919) % 64;
  auto t = std::chrono::steady_clock::now();
  const auto r = pack_for_ranks(s, cap, 8);
  CHECK(seconds_since(t) < 5.0);
  std::vector<int> seen(n, 0);
  std::size_t most = 0;
  const auto& groups = r.bins.groups();
  for (std::size_t b = 0; b < groups.size(); ++b) {
    std::uint64_t load = 0;
    for (index_type i : groups[b]) {
      ++seen[i];
      load += s[i];
    }
    CHECK(load <= cap);
    most = std::max(most, groups[b].size());
  }
  for (int x : seen) REQUIRE(x == 1);
  CHECK(most > 4000);  // the family really has thousands of items per bin
  // 2-D: the {2, 2} items, 2048 per bin.
  const auto s2 = adversarial(40000);
  t = std::chrono::steady_clock::now();
  const auto r2 = pack_for_ranks(s2, size2{4096, 4096}, 8);
  CHECK(seconds_since(t) < 5.0);
  CHECK(r2.used_bins >= 20000);
}
