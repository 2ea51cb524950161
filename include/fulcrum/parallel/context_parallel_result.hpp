// SPDX-License-Identifier: Apache-2.0
/// @file parallel/context_parallel_result.hpp
/// The types of plan_context_parallel (parallel/context_parallel.hpp): `cp_method`, `cp_cost`,
/// `cp_options`, `cp_chunk`, `causal_pairs` and the result `cp_plan` (chunks per rank, tokens,
/// pairs, costs, lower_bound, gap(), proven_optimal, stats()). Complexity: O(cp) per accessor.
/// Guarantee: causal_pairs is exact in 64 bits for chunks of documents below 2^31 tokens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <ranges>
#include <span>
#include <type_traits>
#include <vector>

#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/stats.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

/// How to split documents over context-parallel ranks (see the file comment).
enum class cp_method : std::uint8_t { automatic, zigzag, zigzag_padded, fill };

/// Names of cp_method in declaration order (core/enum_names.hpp).
[[nodiscard]] constexpr enum_names_table<cp_method, 4> enum_table(cp_method) noexcept {
  return {"cp_method", {"automatic", "zigzag", "zigzag_padded", "fill"}};
}

/// Cost of a chunk: per_token x tokens + per_pair x causal query-key pairs + per_chunk.
struct cp_cost {
  double per_token = 0.0;  ///< linear layers (MLP, projections) per token
  double per_pair = 1.0;   ///< causal attention per (query, key) pair
  double per_chunk = 0.0;  ///< fixed cost of a contiguous chunk (kernel tiles, launches)
};

struct cp_options {
  cp_method method = cp_method::automatic;
  cp_cost cost{};
  std::uint64_t token_slack = 0;  ///< allowed max - min tokens per rank (0: equal)
};

/// Tokens [begin, end) of document `document` (positions within the document).
struct cp_chunk {
  index_type document = 0;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  friend bool operator==(const cp_chunk&, const cp_chunk&) = default;
};

/// Causal (query, key) pairs of the chunk [begin, end): (end - begin)(begin + end + 1) / 2.
[[nodiscard]] constexpr std::uint64_t causal_pairs(std::uint64_t begin, std::uint64_t end) noexcept {
  const std::uint64_t n = end - begin;
  const std::uint64_t s = begin + end + 1;
  return n % 2 == 0 ? (n / 2) * s : n * (s / 2);  // n and s have opposite parity when n is odd
}

/// The context-parallel sharding of one packed sequence (see the file comment).
struct cp_plan {
  std::size_t cp = 0;                         ///< ranks
  cp_method method = cp_method::fill;         ///< the method that produced the plan
  std::vector<std::size_t> rank_offsets{0};   ///< cp + 1: rank r's chunks are chunks[rank_offsets[r] .. [r+1])
  std::vector<cp_chunk> chunks;               ///< by rank, then document, then begin
  std::vector<std::uint32_t> padded_lengths;  ///< per document (its length unless zigzag_padded)
  std::vector<std::uint64_t> rank_tokens;     ///< per rank
  std::vector<std::uint64_t> rank_pairs;      ///< per rank: causal query-key pairs
  std::vector<cost_t> rank_costs;             ///< per rank, under opts.cost
  cost_t lower_bound = 0;                     ///< on the makespan of any plan
  bool proven_optimal = false;                ///< makespan <= lower_bound

  /// Rank r's chunks.
  [[nodiscard]] std::span<const cp_chunk> rank_chunks(std::size_t r) const {
    return std::span<const cp_chunk>(chunks).subspan(rank_offsets[r], rank_offsets[r + 1] - rank_offsets[r]);
  }
  /// The largest rank cost.
  [[nodiscard]] cost_t makespan() const noexcept {
    cost_t m = 0;
    for (const cost_t c : rank_costs) m = c > m ? c : m;
    return m;
  }
  /// Max - min tokens over the ranks.
  [[nodiscard]] std::uint64_t token_spread() const noexcept {
    if (rank_tokens.empty()) return 0;
    std::uint64_t lo = rank_tokens[0], hi = rank_tokens[0];
    for (const auto t : rank_tokens) lo = t < lo ? t : lo, hi = t > hi ? t : hi;
    return hi - lo;
  }
  [[nodiscard]] double gap() const noexcept { return result_gap(makespan(), lower_bound, proven_optimal); }
  [[nodiscard]] load_stats stats() const { return summarize_loads(std::span<const cost_t>(rank_costs)); }
};

}  // namespace fulcrum
