// SPDX-License-Identifier: Apache-2.0
// detail::range_max (pipeline/detail/chain.hpp), the O(n)-memory range maximum behind the stage
// partition probes: every query [a, b] of random arrays (lengths around the block size and its
// multiples) equals the brute-force maximum.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/pipeline/detail/chain.hpp>

using namespace fulcrum;

TEST_CASE("range_max equals the brute-force maximum on every range") {
  rng gen(17);
  constexpr std::size_t B = detail::range_max<double>::block;
  for (const std::size_t n : {std::size_t{1}, std::size_t{2}, B - 1, B, B + 1, 2 * B, 3 * B + 5, 8 * B, 11 * B + 7}) {
    std::vector<double> v(n);
    std::vector<std::uint64_t> u(n);
    for (std::size_t i = 0; i < n; ++i) {
      v[i] = gen.uniform() * 100.0;
      u[i] = gen.below(1000);
    }
    const detail::range_max<double> rv(v);
    const detail::range_max<std::uint64_t> ru(u);
    for (std::size_t a = 0; a < n; ++a) {
      double mv = v[a];
      std::uint64_t mu = u[a];
      for (std::size_t b = a; b < n; ++b) {
        mv = std::max(mv, v[b]);
        mu = std::max(mu, u[b]);
        REQUIRE(rv.query(a, b) == mv);
        REQUIRE(ru.query(a, b) == mu);
      }
    }
  }
}
