// Property tests across every packing algorithm (reliability, issue 11): on thousands of random
// instances, including extremes (sizes near 2^32 and 2^64, sums beyond 2^64, zero-size items, all
// equal, one item == capacity, n = 0, n = 1), every pack() result is checked from scratch by
// packing_reference.hpp (exactly once, capacity, loads in 128 bits, L1 <= bound <= optimum <= bins,
// the textbook bin count of naive reference packers, own bins / truncation), the same input gives
// the same plan across runs and concurrently running threads, and bad input is rejected with the
// field and index named.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/packing/pack.hpp>
#include <fulcrum/testing/workloads.hpp>

#include "packing_reference.hpp"

using namespace fulcrum;

namespace {

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

std::vector<pack_algorithm> algorithms() {
  return {pack_algorithm::automatic,           pack_algorithm::next_fit,           pack_algorithm::first_fit,
          pack_algorithm::best_fit,            pack_algorithm::first_fit_decreasing,
          pack_algorithm::best_fit_decreasing, pack_algorithm::histogram,          pack_algorithm::exact};
}

pack_options options_for(pack_algorithm a, oversize policy = oversize::error) {
  pack_options o;
  o.algorithm = a;
  o.oversize_policy = policy;
  o.limits.nodes = 5000;  // deterministic; exact returns its best packing with its bound at the limit
  return o;
}

struct instance {
  std::vector<std::uint64_t> sizes;
  std::uint64_t capacity = 1;
};

// Families: random, all equal, zeros mixed in, one item == capacity, near 2^32, near 2^64 (sums
// overflow 64 bits), many tiny items, a wide range with a few oversize items.
instance make_instance(rng& gen, int family, std::size_t n) {
  instance in;
  switch (family) {
    case 0: in.capacity = 1 + gen.below(200); break;
    case 1: in.capacity = 100; break;
    case 2: in.capacity = 1 + gen.below(50); break;
    case 3: in.capacity = 1 + gen.below(1000); break;
    case 4: in.capacity = (std::uint64_t{1} << 32) + gen.below(3) - 1; break;
    case 5: in.capacity = u64_max - gen.below(4); break;
    case 6: in.capacity = 1000; break;
    default: in.capacity = 64; break;
  }
  const std::uint64_t equal = 1 + gen.below(in.capacity);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t s = 0;
    switch (family) {
      case 0: s = 1 + gen.below(in.capacity); break;
      case 1: s = equal; break;
      case 2: s = gen.below(3) == 0 ? 0 : gen.below(in.capacity + 1); break;
      case 3: s = i == 0 ? in.capacity : gen.below(in.capacity / 2 + 1); break;
      case 4: s = (std::uint64_t{1} << 31) + gen.below(std::uint64_t{1} << 31); break;  // two fit, sometimes three don't
      case 5: s = gen.below(2) ? u64_max / 2 - gen.below(8) : u64_max / 3 + gen.below(8); break;
      case 6: s = 1 + gen.below(3); break;
      default: s = gen.below(4) == 0 ? 64 + gen.below(64) : gen.below(65); break;  // some oversize
    }
    in.sizes.push_back(s);
  }
  return in;
}

bool fits(const instance& in) {
  for (auto s : in.sizes)
    if (s > in.capacity) return false;
  return true;
}

}  // namespace

TEST_SUITE("properties") {
  TEST_CASE("every pack algorithm is valid - respects its bounds and matches the textbook rule on random and extreme instances") {
    rng gen(2611);
    std::size_t plans = 0, instances = 0;
    for (int trial = 0; trial < 2500; ++trial) {
      const int family = static_cast<int>(gen.below(8));
      const std::size_t n = trial < 8 ? static_cast<std::size_t>(trial % 2) : gen.below(trial % 5 == 0 ? 200 : 14);
      const auto in = make_instance(gen, family, n);
      ++instances;
      const std::vector<oversize> policies =
          fits(in) ? std::vector<oversize>{oversize::error} : std::vector<oversize>{oversize::truncate, oversize::own_bin};
      for (auto a : algorithms())
        for (auto policy : policies) {
          CAPTURE(trial);
          CAPTURE(family);
          CAPTURE(static_cast<int>(a));
          CAPTURE(static_cast<int>(policy));
          const auto opts = options_for(a, policy);
          const auto p = pack(in.sizes, in.capacity, opts);
          const auto e = reliability::check_packing_1d(p, in.sizes, in.capacity, opts);
          CHECK_MESSAGE(e.empty(), e);
          ++plans;
        }
      if (!fits(in) && !in.sizes.empty()) {
        CHECK_THROWS_AS((void)pack(in.sizes, in.capacity, options_for(pack_algorithm::automatic)), infeasible);
      }
    }
    MESSAGE("instances: " << instances << ", plans checked: " << plans);
  }

  TEST_CASE("sizes given as doubles - signed integers and through a projection pack like the same unsigned sizes") {
    rng gen(5);
    for (int trial = 0; trial < 200; ++trial) {
      const auto in = make_instance(gen, static_cast<int>(gen.below(4)), gen.below(30));
      std::vector<double> d(in.sizes.begin(), in.sizes.end());
      std::vector<std::int64_t> s(in.sizes.begin(), in.sizes.end());
      struct rec {
        int pad;
        std::uint32_t tokens;
      };
      std::vector<rec> r;
      for (auto x : in.sizes) r.push_back({0, static_cast<std::uint32_t>(x)});
      for (auto a : algorithms()) {
        const auto opts = options_for(a);
        const auto ref = pack(in.sizes, in.capacity, opts);
        CHECK(pack(d, static_cast<double>(in.capacity), opts).bins == ref.bins);
        CHECK(pack(s, static_cast<std::int64_t>(in.capacity), opts).bins == ref.bins);
        CHECK(pack(r, in.capacity, opts, &rec::tokens).bins == ref.bins);
      }
    }
  }

  TEST_CASE("multi-constraint packing (tokens x image slots) is valid in every dimension") {
    rng gen(77);
    std::size_t plans = 0;
    const std::array multi_algorithms{pack_algorithm::automatic, pack_algorithm::best_fit_decreasing,
                                      pack_algorithm::first_fit_decreasing, pack_algorithm::first_fit,
                                      pack_algorithm::next_fit};
    for (int trial = 0; trial < 1000; ++trial) {
      const std::array<std::uint64_t, 2> cap{trial % 7 == 0 ? u64_max - gen.below(3) : 1 + gen.below(5000),
                                             trial % 5 == 0 ? 1 + gen.below(1u << 20) : gen.below(9)};
      if (cap[1] == 0) continue;
      const std::size_t n = gen.below(trial % 4 == 0 ? 150 : 12);
      std::vector<std::array<std::uint64_t, 2>> sizes(n);
      const bool oversize_items = trial % 3 == 0;
      for (auto& s : sizes) {
        const std::uint64_t bound0 = cap[0] >= u64_max - 8 ? cap[0] : cap[0] + (oversize_items ? 2 : 1);
        s[0] = gen.below(2) == 0 ? 0 : gen.below(bound0);
        s[1] = gen.below(cap[1] + (oversize_items ? 2 : 1));
      }
      for (auto a : multi_algorithms)
        for (auto policy : {oversize::truncate, oversize::own_bin}) {
          CAPTURE(trial);
          CAPTURE(static_cast<int>(a));
          const auto opts = options_for(a, policy);
          const auto p = pack(sizes, cap, opts);
          const auto e = reliability::check_packing_multi<2>(p, sizes, cap, opts);
          CHECK_MESSAGE(e.empty(), e);
          CHECK(pack(sizes, cap, opts).bins == p.bins);
          ++plans;
        }
    }
    MESSAGE("multi-constraint plans checked: " << plans);
  }

  TEST_CASE("same input - same plan: across runs and across threads") {
    const auto tokens = testing::generate_w1_tokens(20000);
    for (auto a : algorithms()) {
      CAPTURE(static_cast<int>(a));
      const auto opts = options_for(a, oversize::truncate);
      const auto reference = pack(tokens, 16384u, opts).bins.fingerprint();
      CHECK(pack(tokens, 16384u, opts).bins.fingerprint() == reference);
      std::array<std::uint64_t, 4> seen{};
      std::vector<std::thread> threads;
      for (std::size_t t = 0; t < seen.size(); ++t)
        threads.emplace_back([&, t] { seen[t] = pack(tokens, 16384u, opts).bins.fingerprint(); });
      for (auto& t : threads) t.join();
      for (auto h : seen) CHECK(h == reference);
    }
  }

  TEST_CASE("regression (fuzz_pack): exact packing accepts sizes whose sum exceeds 2^64") {
    // tests/fuzz/regressions/pack/exact_sum_of_sizes_overflows_64_bits: pack_exact summed the sizes
    // with checked_add and threw invalid_input for a valid instance.
    const std::vector<std::uint64_t> sizes{u64_max - 7, u64_max - 40};
    for (auto a : algorithms()) {
      const auto opts = options_for(a);
      const auto p = pack(sizes, u64_max - 7, opts);
      CHECK(p.bin_count() == 2);
      CHECK(reliability::check_packing_1d(p, sizes, u64_max - 7, opts) == "");
    }
  }

  TEST_CASE("bad input is rejected by every algorithm - naming the field and index - nothing partial") {
    for (auto a : algorithms()) {
      CAPTURE(static_cast<int>(a));
      const auto opts = options_for(a);
      CHECK_THROWS_WITH_AS((void)pack(std::vector<std::int64_t>{3, -1}, 10, opts), doctest::Contains("[1]"), invalid_input);
      CHECK_THROWS_WITH_AS((void)pack(std::vector<double>{3, std::nan("")}, 10.0, opts), doctest::Contains("NaN"),
                           invalid_input);
      CHECK_THROWS_AS((void)pack(std::vector<double>{std::numeric_limits<double>::infinity()}, 10.0, opts), invalid_input);
      CHECK_THROWS_WITH_AS((void)pack(std::vector<double>{2.5}, 10.0, opts), doctest::Contains("integer"), invalid_input);
      CHECK_THROWS_AS((void)pack(std::vector<double>{18446744073709551616.0}, 10.0, opts), invalid_input);
      CHECK_THROWS_WITH_AS((void)pack(std::vector<std::uint64_t>{1}, 0u, opts), doctest::Contains("capacity"), invalid_input);
      CHECK_THROWS_WITH_AS((void)pack(std::vector<std::uint64_t>{5, 11, 3}, 10u, opts), doctest::Contains("[1]"), infeasible);
      const auto empty = pack(std::vector<std::uint32_t>{}, 10u, opts);
      CHECK(empty.bin_count() == 0);
      CHECK(empty.proven_optimal);
    }
    using cap2 = std::array<std::uint64_t, 2>;
    const std::vector<cap2> two{{1, 1}, {2, 3}};
    CHECK_THROWS_WITH_AS((void)pack(two, cap2{5, 0}), doctest::Contains("capacity"), invalid_input);
    CHECK_THROWS_WITH_AS((void)pack(two, cap2{5, 2}), doctest::Contains("sizes[1]"), infeasible);
    CHECK_THROWS_AS((void)pack(two, cap2{5, 5}, options_for(pack_algorithm::histogram)), invalid_input);
  }
}
