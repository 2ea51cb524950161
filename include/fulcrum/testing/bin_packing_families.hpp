// SPDX-License-Identifier: Apache-2.0
/// @file testing/bin_packing_families.hpp
/// Seeded generators for the classic one-dimensional bin-packing benchmark families, built from
/// their published descriptions. They are generated approximations of those families, NOT the
/// published instance files: the same parameters (n, capacity, size ranges), different draws.
///
/// Families (`bin_packing_family`), sizes integer, drawn uniformly with fulcrum::rng (splitmix64
/// with unbiased rejection sampling, identical on every standard library):
/// - falkenauer_u: sizes in [20, 100], C = 150, n in {120, 250, 500, 1000}, 20 per n (80).
/// - falkenauer_t: triplets, C = 1000: every bin holds three items in (C/4, C/2) summing to C, so
///   the optimum is n/3; n in {60, 120, 249, 501}, 20 per n (80).
/// - scholl_1: n in {50, 100, 200, 500}, C in {100, 120, 150}, sizes in [1,100], [20,100] or
///   [30,100]; 20 per combination (720).
/// - scholl_2: C = 1000, n in {50, 100, 200, 500}; mean size W = C/3, C/5, C/7, C/9 (about 3, 5, 7, 9
///   items per bin), sizes in [W - dW, W + dW] for d in {20%, 50%, 90%}; 10 per combination (480).
/// - scholl_3: C = 100000, n = 200, sizes in [20000, 35000] (10).
/// - schwerin_1 / schwerin_2: C = 1000, sizes in [150, 200], n = 100 / 120 (100 each).
/// - waescher: APPROXIMATION of Wäscher and Gau's 17 hard instances: C = 10000, n in [57, 239],
///   built from 10..45 distinct sizes in [150, 7000] with multiplicities (the published ones are
///   cutting-stock instances with few distinct sizes and a non-IRUP-like gap). 17 instances.
/// - near_irup: APPROXIMATION of the "hard28" set (Schoenfield): C = 1000, n in [160, 200], sizes
///   in [1, 800], skewed towards large items so that neither L2 nor greedy is tight. 28 instances.
///
/// `known_optimum` is set where the construction fixes it (triplets: n/3); 0 = unknown.
/// Complexity: O(n) per instance. Deterministic: the same (family, index) gives the same instance on
/// every platform.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/rng.hpp"

namespace fulcrum::testing {

/// The generated families (see file docs).
enum class bin_packing_family {
  falkenauer_u,
  falkenauer_t,
  scholl_1,
  scholl_2,
  scholl_3,
  schwerin_1,
  schwerin_2,
  waescher,
  near_irup,
};

/// One generated instance.
struct family_instance {
  std::string name;  ///< e.g. "u120_07", "N1C1W1_03"
  std::vector<std::uint64_t> sizes;
  std::uint64_t capacity = 0;
  std::uint64_t known_optimum = 0;  ///< 0 when the construction does not fix it
};

/// Display name of a family.
[[nodiscard]] inline const char* family_name(bin_packing_family f) noexcept {
  switch (f) {
    case bin_packing_family::falkenauer_u:
      return "falkenauer_u";
    case bin_packing_family::falkenauer_t:
      return "falkenauer_t";
    case bin_packing_family::scholl_1:
      return "scholl_1";
    case bin_packing_family::scholl_2:
      return "scholl_2";
    case bin_packing_family::scholl_3:
      return "scholl_3";
    case bin_packing_family::schwerin_1:
      return "schwerin_1";
    case bin_packing_family::schwerin_2:
      return "schwerin_2";
    case bin_packing_family::waescher:
      return "waescher";
    case bin_packing_family::near_irup:
      return "near_irup";
  }
  return "?";
}

/// Number of instances in a family.
[[nodiscard]] inline std::size_t family_size(bin_packing_family f) noexcept {
  switch (f) {
    case bin_packing_family::falkenauer_u:
      return 80;
    case bin_packing_family::falkenauer_t:
      return 80;
    case bin_packing_family::scholl_1:
      return 720;
    case bin_packing_family::scholl_2:
      return 480;
    case bin_packing_family::scholl_3:
      return 10;
    case bin_packing_family::schwerin_1:
      return 100;
    case bin_packing_family::schwerin_2:
      return 100;
    case bin_packing_family::waescher:
      return 17;
    case bin_packing_family::near_irup:
      return 28;
  }
  return 0;
}

namespace detail {

inline std::uint64_t family_seed(bin_packing_family f, std::size_t index, std::uint64_t seed) {
  rng mix(seed ^ (0x9e3779b97f4a7c15ULL * (static_cast<std::uint64_t>(f) + 1)));
  for (std::size_t i = 0; i <= index % 4; ++i) mix.next();
  return mix.next() ^ (static_cast<std::uint64_t>(index) * 0xd1b54a32d192ed03ULL);
}

inline std::uint64_t draw(rng& gen, std::uint64_t lo, std::uint64_t hi) {
  return lo + gen.below(hi - lo + 1);
}

inline std::string two_digits(std::size_t k) {
  return std::string(1, static_cast<char>('0' + (k / 10) % 10)) + static_cast<char>('0' + k % 10);
}

}  // namespace detail

/// Instance `index` (0 <= index < family_size(f)) of family `f`; `seed` selects another draw of the
/// whole family. Throws invalid_input naming `index` when it is out of range.
[[nodiscard]] inline family_instance make_family_instance(bin_packing_family f, std::size_t index,
                                                          std::uint64_t seed = 1) {
  if (index >= family_size(f))
    throw invalid_input(fulcrum::detail::describe("make_family_instance", "index", index, "is past the family's end"));
  rng gen(detail::family_seed(f, index, seed));
  family_instance inst;
  auto uniform = [&](std::size_t n, std::uint64_t lo, std::uint64_t hi) {
    inst.sizes.resize(n);
    for (auto& s : inst.sizes) s = detail::draw(gen, lo, hi);
  };
  switch (f) {
    case bin_packing_family::falkenauer_u: {
      static constexpr std::size_t ns[] = {120, 250, 500, 1000};
      const std::size_t n = ns[index / 20];
      inst.capacity = 150;
      uniform(n, 20, 100);
      inst.name = "u" + std::to_string(n) + "_" + detail::two_digits(index % 20);
      break;
    }
    case bin_packing_family::falkenauer_t: {
      static constexpr std::size_t ns[] = {60, 120, 249, 501};
      const std::size_t n = ns[index / 20];
      inst.capacity = 1000;
      const std::uint64_t lo = 251, hi = 499;  // strictly inside (C/4, C/2)
      for (std::size_t b = 0; b < n / 3; ++b) {
        while (true) {
          const std::uint64_t x = detail::draw(gen, lo, hi);
          const std::uint64_t rest = 1000 - x;
          const std::uint64_t ylo = std::max(lo, rest - std::min(rest, hi));
          const std::uint64_t yhi = std::min(hi, rest - lo);
          if (ylo > yhi) continue;
          const std::uint64_t y = detail::draw(gen, ylo, yhi);
          inst.sizes.push_back(x);
          inst.sizes.push_back(y);
          inst.sizes.push_back(rest - y);
          break;
        }
      }
      gen.shuffle(std::span<std::uint64_t>(inst.sizes));
      inst.known_optimum = n / 3;
      inst.name = "t" + std::to_string(n) + "_" + detail::two_digits(index % 20);
      break;
    }
    case bin_packing_family::scholl_1: {
      static constexpr std::size_t ns[] = {50, 100, 200, 500};
      static constexpr std::uint64_t cs[] = {100, 120, 150};
      static constexpr std::uint64_t los[] = {1, 20, 30};
      // index = n (4) x C (3) x W (3) x 20 instances
      const std::size_t ni = index / 180, ci = (index / 60) % 3, k = index % 60, w = k / 20;
      inst.capacity = cs[ci];
      uniform(ns[ni], los[w], 100);
      inst.name = "N" + std::to_string(ni + 1) + "C" + std::to_string(ci + 1) + "W" + std::to_string(w + 1) + "_" +
                  detail::two_digits(k % 20);
      break;
    }
    case bin_packing_family::scholl_2: {
      static constexpr std::size_t ns[] = {50, 100, 200, 500};
      static constexpr std::uint64_t per_bin[] = {3, 5, 7, 9};
      static constexpr std::uint64_t delta_pct[] = {20, 50, 90};
      const std::size_t ni = index / 120, wi = (index / 30) % 4, di = (index / 10) % 3;
      inst.capacity = 1000;
      const std::uint64_t mean = 1000 / per_bin[wi];
      const std::uint64_t d = mean * delta_pct[di] / 100;
      uniform(ns[ni], mean - d, mean + d);
      inst.name = "N" + std::to_string(ni + 1) + "W" + std::to_string(wi + 1) + "B" + std::to_string(di + 1) + "R" +
                  std::to_string(index % 10);
      break;
    }
    case bin_packing_family::scholl_3: {
      inst.capacity = 100000;
      uniform(200, 20000, 35000);
      inst.name = "HARD" + std::to_string(index);
      break;
    }
    case bin_packing_family::schwerin_1:
    case bin_packing_family::schwerin_2: {
      const std::size_t n = f == bin_packing_family::schwerin_1 ? 100 : 120;
      inst.capacity = 1000;
      uniform(n, 150, 200);
      inst.name = std::string(f == bin_packing_family::schwerin_1 ? "SCH_WAE1_BPP_N" : "SCH_WAE2_BPP_N") +
                  std::to_string(index + 1);
      break;
    }
    case bin_packing_family::waescher: {
      inst.capacity = 10000;
      const std::size_t n = static_cast<std::size_t>(detail::draw(gen, 57, 239));
      const std::size_t distinct = static_cast<std::size_t>(detail::draw(gen, 10, 45));
      std::vector<std::uint64_t> types(distinct);
      for (auto& t : types) t = detail::draw(gen, 150, 7000);
      inst.sizes.resize(n);
      for (std::size_t i = 0; i < n; ++i) inst.sizes[i] = types[i < distinct ? i : gen.below(distinct)];
      inst.name = "Waescher_" + detail::two_digits(index + 1);
      break;
    }
    case bin_packing_family::near_irup: {
      inst.capacity = 1000;
      const std::size_t n = static_cast<std::size_t>(detail::draw(gen, 160, 200));
      inst.sizes.resize(n);
      // Mixture: a third of the items large (in (C/2, 800]), the rest in [1, 500] with a bias to
      // medium sizes: (a + b) / 2 of two uniform draws.
      for (auto& s : inst.sizes) {
        if (gen.below(3) == 0)
          s = detail::draw(gen, 501, 800);
        else
          s = (detail::draw(gen, 1, 500) + detail::draw(gen, 1, 500) + 1) / 2;
      }
      inst.name = "nearIRUP_" + detail::two_digits(index + 1);
      break;
    }
  }
  return inst;
}

/// Every instance of a family, in index order.
[[nodiscard]] inline std::vector<family_instance> make_family(bin_packing_family f, std::uint64_t seed = 1) {
  std::vector<family_instance> out;
  out.reserve(family_size(f));
  for (std::size_t i = 0; i < family_size(f); ++i) out.push_back(make_family_instance(f, i, seed));
  return out;
}

}  // namespace fulcrum::testing
