// SPDX-License-Identifier: Apache-2.0
/// @file testing/balance_instances.hpp
/// Seeded generators of balancing instances with a known optimum, for tests and benchmarks of the
/// exact search (balance/complete.hpp).
///
/// `generate_perfect_instance(k, n, part_sum, seed)`: n items that split into k parts of exactly
/// `part_sum` each (a planted perfect partition, so the optimal makespan is part_sum = sum / k).
/// Part j gets n/k items (the first n%k parts one more); its items are the gaps between
/// (count - 1) distinct cut points drawn uniformly in (0, part_sum), so every item is a positive
/// integer and the part sums to part_sum exactly. Items are then shuffled. The larger part_sum is
/// relative to the number of items, the fewer perfect partitions exist and the harder the proof.
/// O(n log n) time; deterministic (splitmix64 rng).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum::testing {

struct perfect_instance {
  std::vector<cost_t> costs;        ///< shuffled item costs (whole numbers)
  std::size_t k = 0;                ///< number of parts
  cost_t part_sum = 0;              ///< every part of the planted partition sums to this
  std::vector<index_type> planted;  ///< planted[i] = part of item i in the planted perfect partition
};

[[nodiscard]] inline perfect_instance generate_perfect_instance(std::size_t k, std::size_t n, std::uint64_t part_sum,
                                                                std::uint64_t seed = default_seed) {
  if (k == 0) throw invalid_input("generate_perfect_instance: k = 0: need at least one part");
  if (n < k) throw invalid_input(fulcrum::detail::describe("generate_perfect_instance", "n", n, "need at least k items"));
  if (part_sum < (n + k - 1) / k || part_sum > (std::uint64_t{1} << 40))
    throw invalid_input(fulcrum::detail::describe("generate_perfect_instance", "part_sum", part_sum,
                                                  "must be >= ceil(n/k) (positive items) and <= 2^40"));
  rng gen(seed);
  perfect_instance inst;
  inst.k = k;
  inst.part_sum = static_cast<cost_t>(part_sum);
  std::vector<std::pair<cost_t, index_type>> items;
  items.reserve(n);
  for (std::size_t j = 0; j < k; ++j) {
    const std::size_t m = n / k + (j < n % k ? 1 : 0);
    std::vector<std::uint64_t> cuts;
    cuts.reserve(m + 1);
    cuts.push_back(0);
    cuts.push_back(part_sum);
    while (cuts.size() < m + 1) {  // m - 1 distinct interior cuts
      const std::uint64_t c = 1 + gen.below(part_sum - 1);
      if (std::find(cuts.begin(), cuts.end(), c) == cuts.end()) cuts.push_back(c);
    }
    std::sort(cuts.begin(), cuts.end());
    for (std::size_t t = 0; t + 1 < cuts.size(); ++t)
      items.emplace_back(static_cast<cost_t>(cuts[t + 1] - cuts[t]), static_cast<index_type>(j));
  }
  gen.shuffle(std::span<std::pair<cost_t, index_type>>(items));
  for (const auto& [c, part] : items) {
    inst.costs.push_back(c);
    inst.planted.push_back(part);
  }
  return inst;
}

}  // namespace fulcrum::testing
