// The lower bound read from the descending order (the per-step path of balance()) equals the
// selection-based bound bit for bit: random costs with ties, zeros, fractions and whole numbers
// sharing a gcd, every k from 1 to n + 1, with and without equal counts.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include <fulcrum/balance/detail/bounds.hpp>
#include <fulcrum/balance/detail/order.hpp>

TEST_CASE("ordered lower bound equals the selection bound bit for bit") {
  std::mt19937_64 rng(42);
  int cases = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const std::size_t n = rng() % 40;
    std::vector<double> costs(n);
    for (auto& c : costs) {
      switch (trial % 4) {
        case 0:
          c = static_cast<double>(rng() % 7);
          break;  // ties and zeros
        case 1:
          c = static_cast<double>(576 * (1 + rng() % 9));
          break;  // a common gcd
        case 2:
          c = std::ldexp(static_cast<double>(rng() % 1000), -3);
          break;  // exact fractions
        default:
          c = std::uniform_real_distribution<double>(0, 1e6)(rng);
          break;  // inexact sums
      }
    }
    const auto order = fulcrum::detail::radix_order_descending(costs);
    for (std::size_t k = 1; k <= n + 1; ++k)
      for (bool equal_counts : {false, true}) {
        const double a = fulcrum::detail::balance_lower_bound(costs, k, equal_counts);
        const double b = fulcrum::detail::balance_lower_bound(costs, order, k, equal_counts);
        CHECK(std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b));
        ++cases;
      }
  }
  CHECK(cases > 1000);
}
