// core/wide_int.hpp: the portable 128-bit types agree with the compiler's builtin on edge and
// random values for every operator fulcrum uses; mul_wide, add_overflow and mul_overflow agree
// with 128-bit arithmetic; rng::below draws what the 128-bit multiply-shift it replaced drew.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <fulcrum/core/checked.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/core/wide_int.hpp>

using fulcrum::detail::portable_int128;
using fulcrum::detail::portable_uint128;

namespace {

constexpr std::uint64_t max64 = std::numeric_limits<std::uint64_t>::max();

std::vector<portable_uint128> samples() {
  std::vector<portable_uint128> v;
  const std::uint64_t edges[] = {0, 1, 2, 3, 0xffffffffULL, 0x100000000ULL, max64 - 1, max64, 0x8000000000000000ULL};
  for (auto hi : edges)
    for (auto lo : edges) v.emplace_back(fulcrum::wide_parts{hi, lo});
  fulcrum::rng gen(7);
  for (int i = 0; i < 200; ++i) v.emplace_back(fulcrum::wide_parts{gen.next() >> (gen.next() % 64), gen.next()});
  return v;
}

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 builtin_u128;
__extension__ typedef __int128 builtin_i128;
builtin_u128 to_builtin(portable_uint128 x) {
  return (static_cast<builtin_u128>(x.high()) << 64) | x.low();
}
bool same(portable_uint128 x, builtin_u128 y) {
  return x.high() == static_cast<std::uint64_t>(y >> 64) && x.low() == static_cast<std::uint64_t>(y);
}
#endif

}  // namespace

TEST_SUITE("core") {
  TEST_CASE("wide_int.mul_wide_and_overflow_helpers") {
    const auto p = fulcrum::mul_wide(max64, max64);  // (2^64-1)^2 = 2^128 - 2^65 + 1
    CHECK(p.high == max64 - 1);
    CHECK(p.low == 1);
    std::uint64_t r = 0;
    CHECK_FALSE(fulcrum::add_overflow(max64 - 1, 1, r));
    CHECK(r == max64);
    CHECK(fulcrum::add_overflow(max64, 1, r));
    CHECK_FALSE(fulcrum::mul_overflow(0xffffffffULL, 0x100000001ULL, r));
    CHECK(r == max64);
    CHECK(fulcrum::mul_overflow(0x100000000ULL, 0x100000000ULL, r));
    CHECK_THROWS_AS((void)fulcrum::checked_mul(0x100000000ULL, 0x100000000ULL), fulcrum::invalid_input);
    CHECK(fulcrum::checked_add(2, 3) == 5);
  }

  TEST_CASE("wide_int.portable_uint128_arithmetic_by_hand") {
    const portable_uint128 two64 = portable_uint128(1) << 64;
    CHECK(two64.high() == 1);
    CHECK(two64.low() == 0);
    CHECK(two64 - 1 == portable_uint128(max64));
    CHECK((two64 - 1) + 1 == two64);
    CHECK(portable_uint128(max64) * max64 == portable_uint128(fulcrum::wide_parts{max64 - 1, 1}));
    CHECK(two64 / 3 == portable_uint128(0x5555555555555555ULL));
    CHECK(two64 % 3 == 1);
    CHECK(static_cast<std::uint64_t>(two64 >> 1) == 0x8000000000000000ULL);
    CHECK(portable_uint128(5) > 4);
    CHECK(2 * portable_uint128(3) == 6);
    CHECK(static_cast<double>(two64) == 18446744073709551616.0);
    CHECK(portable_uint128(-1) == portable_uint128(fulcrum::wide_parts{max64, max64}));
    CHECK(portable_int128(-5) < portable_int128(3));
    CHECK(portable_int128(3) - portable_int128(5) == portable_int128(-2));
    CHECK(static_cast<double>(portable_int128(-7)) == -7.0);
    CHECK(std::pair<portable_int128, portable_int128>{0, -1} < std::pair<portable_int128, portable_int128>{0, 0});
  }

#if defined(__SIZEOF_INT128__)
  TEST_CASE("wide_int.portable_types_agree_with_the_builtin") {
    const auto v = samples();
    for (const auto a : v) {
      const builtin_u128 ba = to_builtin(a);
      for (int s : {0, 1, 31, 63, 64, 65, 127}) {
        CHECK(same(a << s, ba << s));
        CHECK(same(a >> s, ba >> s));
      }
      CHECK(static_cast<double>(a) == static_cast<double>(ba));
      for (const auto b : v) {
        const builtin_u128 bb = to_builtin(b);
        REQUIRE(same(a + b, ba + bb));
        REQUIRE(same(a - b, ba - bb));
        REQUIRE(same(a * b, ba * bb));
        REQUIRE((a < b) == (ba < bb));
        REQUIRE((a == b) == (ba == bb));
        if (bb != 0) {
          REQUIRE(same(a / b, ba / bb));
          REQUIRE(same(a % b, ba % bb));
        }
        const portable_int128 sa = portable_int128(0) + portable_int128(static_cast<std::int64_t>(a.low())) - b.high();
        const builtin_i128 bsa =
            builtin_i128{0} + static_cast<std::int64_t>(a.low()) - static_cast<builtin_i128>(b.high());
        const portable_int128 sb = portable_int128(static_cast<std::int64_t>(b.low()));
        const builtin_i128 bsb = static_cast<std::int64_t>(b.low());
        REQUIRE((sa < sb) == (bsa < bsb));
        REQUIRE(static_cast<std::uint64_t>(sa - sb) == static_cast<std::uint64_t>(bsa - bsb));
      }
    }
  }

  TEST_CASE("wide_int.rng_below_draws_what_the_128_bit_multiply_drew") {
    // The multiply-shift rng::below used before core/wide_int.hpp, verbatim: same draws.
    auto reference = [](fulcrum::rng& g, std::uint64_t n) {
      builtin_u128 m = static_cast<builtin_u128>(g.next()) * n;
      auto low = static_cast<std::uint64_t>(m);
      if (low < n) {
        const std::uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
          m = static_cast<builtin_u128>(g.next()) * n;
          low = static_cast<std::uint64_t>(m);
        }
      }
      return static_cast<std::uint64_t>(m >> 64);
    };
    fulcrum::rng a(11), b(11);
    for (std::uint64_t n : std::vector<std::uint64_t>{1, 2, 3, 1000, (std::uint64_t{1} << 63) + 1, max64})
      for (int i = 0; i < 100; ++i) REQUIRE(a.below(n) == reference(b, n));
  }
#endif
}
