// SPDX-License-Identifier: Apache-2.0
/// @file layout/packed_layout.hpp
/// `make_packed_layout`: the tensors a varlen attention kernel (flash-attention's
/// `flash_attn_varlen_func`) needs for a batch of packed sequences, from a `grouping` of items
/// (one group = one packed sequence, documents in group order) and each item's token count.
///
///   packed_layout make_packed_layout(const grouping& packs, R&& sizes, layout_options opts = {});
///   packed_layout make_packed_layout(const grouping& packs, const multimodal_documents& docs,
///                                    layout_options opts = {});
///   void make_packed_layout_into(const grouping& packs, ..., const layout_options& opts, packed_layout& out);
///
/// Output (CSR: flat arrays plus offsets, no allocation per sequence; `_into` reuses `out`'s
/// buffers, so a data loader allocates nothing after its first batch):
///  - `sequence_offsets`: sequence s is tokens [sequence_offsets[s], sequence_offsets[s+1]) of the
///    per-token arrays (padding included);
///  - `cu_seqlens` (int32, the varlen convention): sequence s's entries are
///    cu_seqlens[cu_seqlens_offsets[s] .. cu_seqlens_offsets[s+1]), start at 0 and end at the
///    sequence's padded length; one segment per document, and the padding (if any) as one last
///    segment, so the kernel sees every token. `batch_cu_seqlens()` gives the same for the whole
///    batch flattened into one row (what `flash_attn_varlen_func` takes with batch size 1);
///  - `max_seqlen` per sequence (longest segment, padding segment included) and
///    `max_seqlen_overall`;
///  - per token: `position_ids` (restart at 0 in every document; padding counts 0, 1, ... as
///    its own segment), `document_ids` (the document's number within its sequence, 0, 1, ...;
///    -1 for padding: the block-diagonal mask), `source_item` / `source_offset` (the gather map:
///    token t is token `source_offset[t]` of item `source_item[t]`'s text or image tokens,
///    by `kinds[t]`; padding has `packed_layout::padding_item`) and `kinds` (text, image,
///    padding).
///
/// Padding (`layout_options`): every sequence to a multiple of `pad_multiple` (tensor-core
/// alignment, or the SP degree), or to exactly `fixed_length` tokens; the batch to exactly
/// `fixed_sequences` sequences (the extra sequences are all padding). Multimodal items
/// (`multimodal_documents`: text tokens, and per item its images as CSR) place their image tokens
/// by `opts.placement`: all images before the text, all after it, or each image at a given text
/// offset (`image_positions[j]` text tokens of its document precede image j).
///
/// Complexity: O(items + tokens + sequences) time, two passes (lengths and checks, then one
/// write per token and array); >= 100M tokens/s on one core (bench/bench_layout.cpp,
/// docs/benchmarks.md "Packed-sequence layout"). Memory: 17 bytes per token.
/// Guarantee: every token of every item in `packs` appears exactly once, in document order; every
/// sequence is padded as asked; nothing partial on error.
/// Errors (`invalid_input`, naming field, index and value): an index not below the item count, an
/// item in two packs (or twice in one), pad_multiple == 0, fixed_length not a multiple of
/// pad_multiple, a document or padded sequence longer than int32 can address (cu_seqlens and
/// position ids are int32), inconsistent multimodal arrays (offsets, image positions beyond the
/// text or decreasing); `infeasible`: a sequence longer than fixed_length, more packs than
/// fixed_sequences.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <ranges>
#include <span>
#include <type_traits>
#include <vector>

#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"

#include "fulcrum/layout/detail/layout_fill.hpp"
#include "fulcrum/layout/packed_layout_result.hpp"

namespace fulcrum {

/// Fills `out` (reusing its buffers) with the layout of `packs` over `docs` (see the file comment).
inline void make_packed_layout_into(const grouping& packs, const multimodal_documents& docs, const layout_options& opts,
                                    packed_layout& out) {
  detail::layout_fill(packs, docs, opts, out);
}

/// Fills `out` (reusing its buffers) with the layout of text-only items of `sizes[i]` tokens.
inline void make_packed_layout_into(const grouping& packs, std::span<const std::uint32_t> sizes,
                                    const layout_options& opts, packed_layout& out) {
  multimodal_documents docs;
  docs.text_tokens = sizes;
  detail::layout_fill(packs, docs, opts, out);
}

/// The layout of multimodal items (see the file comment).
[[nodiscard]] inline packed_layout make_packed_layout(const grouping& packs, const multimodal_documents& docs,
                                                      layout_options opts = {}) {
  packed_layout out;
  detail::layout_fill(packs, docs, opts, out);
  return out;
}

/// The layout of text-only items: `sizes` is any sized range of non-negative integers (token
/// counts per item, indexed like the grouping's indices).
template <std::ranges::random_access_range R>
requires std::ranges::sized_range<R> && std::integral<std::remove_cvref_t<std::ranges::range_reference_t<R>>>
[[nodiscard]] packed_layout make_packed_layout(const grouping& packs, R&& sizes, layout_options opts = {}) {
  using value = std::remove_cvref_t<std::ranges::range_reference_t<R>>;
  packed_layout out;
  if constexpr (std::ranges::contiguous_range<R> && std::same_as<value, std::uint32_t>) {
    make_packed_layout_into(packs, std::span<const std::uint32_t>(std::ranges::data(sizes), std::ranges::size(sizes)),
                            opts, out);
  } else {
    std::vector<std::uint32_t> lengths;
    lengths.reserve(static_cast<std::size_t>(std::ranges::size(sizes)));
    std::size_t i = 0;
    for (auto&& v : sizes) {
      if constexpr (std::is_signed_v<value>)
        if (v < 0) throw invalid_input(detail::describe("make_packed_layout", "sizes", i, v, "is negative"));
      if (static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
        throw invalid_input(
            detail::describe("make_packed_layout", "sizes", i, v, "is longer than int32 position ids address"));
      lengths.push_back(static_cast<std::uint32_t>(v));
      ++i;
    }
    make_packed_layout_into(packs, std::span<const std::uint32_t>(lengths), opts, out);
  }
  return out;
}

}  // namespace fulcrum
