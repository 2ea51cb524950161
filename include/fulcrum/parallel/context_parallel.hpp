// SPDX-License-Identifier: Apache-2.0
/// @file parallel/context_parallel.hpp
/// `plan_context_parallel`: how to shard one packed sequence (documents of given lengths, causal
/// attention within each document) over `cp` context-parallel ranks, so that every rank does the
/// same attention work and holds the same number of tokens (KV all-gathers of fixed size).
///
///   cp_plan plan_context_parallel(R&& lengths, std::size_t cp, cp_options opts = {});
///
/// Cost model (`cp_cost`): a chunk [s, e) of a document (token positions s..e-1) costs
///   per_token * (e - s) + per_pair * pairs(s, e) + per_chunk,
/// pairs(s, e) = sum over queries t in [s, e) of the t + 1 keys it attends (itself and every key
/// before it in its document) = (e - s)(s + e + 1) / 2. A rank's cost is the sum over its chunks.
/// The total of per_token and per_pair terms is the same for every plan; only per_chunk (kernel
/// tiles, launches) and how the work is spread differ.
///
/// Methods (`cp_method`):
///  - zigzag         Megatron's head-tail split: every document in 2 cp near-equal chunks, rank r
///                   gets chunks r and 2cp-1-r (no padding: chunk bounds floor(j L / 2cp), so
///                   per-rank tokens differ when lengths are not multiples of 2cp);
///  - zigzag_padded  the same after padding every document to a multiple of 2cp (what Megatron's
///                   THD format requires): equal tokens and work, at the price of the pad tokens;
///  - fill           fulcrum's plan: a token of a document of length L costs on average
///                   per_token + per_pair (L + 1) / 2 whenever the document's share on a rank is a
///                   mirrored head + tail pair (or a symmetric middle), so a rank's work is set by
///                   how many tokens of each length it holds. Documents are sorted by length; rank
///                   by rank, whole short documents are taken from the short end and mirrored
///                   pieces of long documents from the long end, in the proportion that gives the
///                   rank exactly its token quota (floor or ceil of T / cp) and the remaining
///                   average work. Every rank splits at most two documents, so short documents stay
///                   whole on one rank (no chunks, no KV exchange) and long ones are split;
///  - automatic      all three, keeping the one with the least makespan among those whose token
///                   spread (max - min per rank) is within `token_slack` (zigzag_padded always
///                   is); ties by fewer chunks, then fill, zigzag, zigzag_padded.
///
/// Result (`cp_plan`): per rank its chunks (document, begin, end; CSR by rank, sorted by document
/// then begin; `end` may pass the document's length only in zigzag_padded, where
/// padded_lengths[d] says how far), tokens, exact query-key pairs and cost. Like every result:
/// `lower_bound` (max of the mean over ranks of (per_token T + per_pair P + per_chunk D) and the
/// dearest single token, per_token + per_pair L_max + per_chunk: no plan does better, padded or
/// not), `gap()`, `proven_optimal` (makespan <= lower_bound) and `stats()` over the rank costs.
/// Guarantee: automatic is never worse than zigzag (when its token spread is within token_slack)
/// nor than zigzag_padded. Every token of every document is on exactly one rank. The fill plan
/// keeps every rank's cost within (per_token T + per_pair P) / cp + 2 (per_token + per_pair
/// (L_max + 1)) + per_chunk (4 + whole documents on the rank), for T tokens and P pairs in all:
/// an observed bound (the fill aims each rank at its exact share and splits at most two documents
/// per rank), checked by the tests against brute force over every token-to-rank assignment on small
/// cases and on long-tail batches of 32K tokens (tests/unit/parallel), not a proof.
/// Complexity: O((D + cp) log D) for fill, O(D cp) for the zig-zags; memory O(D + chunks).
/// Errors (invalid_input): cp == 0 or above max_parts; a length above 2^31 - 1; a negative, NaN
/// or infinite cost coefficient; fill asked for when T % cp != 0 and token_slack == 0.
/// Deterministic: ties by document index; products through detail::mul.
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

#include "fulcrum/parallel/context_parallel_result.hpp"
#include "fulcrum/parallel/detail/cp_plan.hpp"

namespace fulcrum {

/// Shards documents of `lengths` tokens (one packed sequence, in order) over cp ranks.
[[nodiscard]] inline cp_plan plan_context_parallel(std::span<const std::uint32_t> lengths, std::size_t cp,
                                                   const cp_options& opts = {}) {
  return detail::cp_plan_lengths(lengths, cp, opts);
}

/// The same for any sized range of non-negative integers.
template <std::ranges::random_access_range R>
requires std::ranges::sized_range<R> && std::integral<std::remove_cvref_t<std::ranges::range_reference_t<R>>>
[[nodiscard]] cp_plan plan_context_parallel(R&& lengths, std::size_t cp, const cp_options& opts = {}) {
  std::vector<std::uint32_t> l;
  l.reserve(static_cast<std::size_t>(std::ranges::size(lengths)));
  std::size_t i = 0;
  for (auto&& v : lengths) {
    if constexpr (std::is_signed_v<std::remove_cvref_t<decltype(v)>>)
      if (v < 0) throw invalid_input(detail::describe("plan_context_parallel", "lengths", i, v, "is negative"));
    if (static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
      throw invalid_input(detail::describe("plan_context_parallel", "lengths", i, v, "exceeds 2^31 - 1"));
    l.push_back(static_cast<std::uint32_t>(v));
    ++i;
  }
  return detail::cp_plan_lengths(std::span<const std::uint32_t>(l), cp, opts);
}

}  // namespace fulcrum
