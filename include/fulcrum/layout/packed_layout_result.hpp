// SPDX-License-Identifier: Apache-2.0
/// @file layout/packed_layout_result.hpp
/// The types of make_packed_layout (layout/packed_layout.hpp): `layout_options`, `image_placement`,
/// `token_kind`, `multimodal_documents` and the result `packed_layout` (CSR arrays; see there for
/// every field). Complexity: `batch_cu_seqlens()` is O(segments). Guarantee: no allocation per
/// sequence; int32 overflow of the flattened offsets throws invalid_input.
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

namespace fulcrum {

/// Where a multimodal document's image tokens go relative to its text tokens.
enum class image_placement : std::uint8_t {
  before_text,  ///< all images of the document, in order, then its text (LLaVA-style prompts)
  after_text,   ///< the text, then all images
  at_offsets,   ///< image j after `image_positions[j]` text tokens of its document
};

/// What a token of the packed batch is.
enum class token_kind : std::uint8_t {
  text,     ///< a text token of its item (gather from the token embeddings)
  image,    ///< an image token (gather from the vision encoder's output of that item)
  padding,  ///< padding (no source)
};

/// Names of image_placement in declaration order (core/enum_names.hpp).
[[nodiscard]] constexpr enum_names_table<image_placement, 3> enum_table(image_placement) noexcept {
  return {"image_placement", {"before_text", "after_text", "at_offsets"}};
}
/// Names of token_kind in declaration order (core/enum_names.hpp).
[[nodiscard]] constexpr enum_names_table<token_kind, 3> enum_table(token_kind) noexcept {
  return {"token_kind", {"text", "image", "padding"}};
}

struct layout_options {
  std::uint32_t pad_multiple = 1;   ///< pad every sequence to a multiple of this (8/64/128 tensor cores; the SP degree)
  std::uint32_t fixed_length = 0;   ///< > 0: every sequence padded to exactly this (a multiple of pad_multiple)
  std::size_t fixed_sequences = 0;  ///< > 0: the batch padded with all-padding sequences to exactly this many
  image_placement placement = image_placement::before_text;  ///< multimodal items only
};

/// Multimodal items, CSR: item i has text_tokens[i] text tokens and the images
/// image_offsets[i] .. image_offsets[i+1] (image j has image_tokens[j] tokens). image_offsets is
/// empty for text only; image_positions is read for image_placement::at_offsets only (one entry per
/// image: the text tokens of its document before it, non-decreasing within a document).
struct multimodal_documents {
  std::span<const std::uint32_t> text_tokens;
  std::span<const std::size_t> image_offsets;
  std::span<const std::uint32_t> image_tokens;
  std::span<const std::uint32_t> image_positions;
};

/// The packed-sequence layout of a batch (see the file comment for every field's meaning).
struct packed_layout {
  static constexpr index_type padding_item = std::numeric_limits<index_type>::max();
  static constexpr std::int32_t padding_document = -1;

  std::vector<std::size_t> sequence_offsets{0};    ///< sequences()+1 token offsets
  std::vector<std::size_t> cu_seqlens_offsets{0};  ///< sequences()+1 offsets into cu_seqlens
  std::vector<std::int32_t> cu_seqlens;            ///< per sequence: 0, segment ends ..., padded length
  std::vector<std::int32_t> max_seqlen;            ///< per sequence: longest segment
  std::int32_t max_seqlen_overall = 0;             ///< longest segment of the batch
  std::vector<std::int32_t> position_ids;          ///< per token
  std::vector<std::int32_t> document_ids;          ///< per token: document number in its sequence, -1 padding
  std::vector<index_type> source_item;             ///< per token: the item, padding_item for padding
  std::vector<std::uint32_t> source_offset;        ///< per token: offset in the item's text or image tokens
  std::vector<token_kind> kinds;                   ///< per token
  std::uint64_t content_tokens = 0;                ///< tokens from items
  std::uint64_t padding_tokens = 0;                ///< padding tokens

  /// Packed sequences (rows of the batch), padding sequences included.
  [[nodiscard]] std::size_t sequences() const noexcept { return sequence_offsets.size() - 1; }
  /// Tokens over the batch, padding included.
  [[nodiscard]] std::size_t tokens() const noexcept { return sequence_offsets.back(); }
  /// Padded length of sequence s.
  [[nodiscard]] std::size_t sequence_length(std::size_t s) const {
    return sequence_offsets[s + 1] - sequence_offsets[s];
  }
  /// The cu_seqlens of sequence s (starts at 0, ends at its padded length).
  [[nodiscard]] std::span<const std::int32_t> sequence_cu_seqlens(std::size_t s) const {
    return std::span<const std::int32_t>(cu_seqlens)
        .subspan(cu_seqlens_offsets[s], cu_seqlens_offsets[s + 1] - cu_seqlens_offsets[s]);
  }
  /// content / (content + padding); 1 without padding.
  [[nodiscard]] double efficiency() const noexcept {
    const auto all = content_tokens + padding_tokens;
    return all == 0 ? 1.0 : static_cast<double>(content_tokens) / static_cast<double>(all);
  }
  /// cu_seqlens of the whole batch flattened into one row (every sequence's segments, offset by
  /// the sequence's start). Throws invalid_input if the batch has more tokens than int32 addresses.
  [[nodiscard]] std::vector<std::int32_t> batch_cu_seqlens() const {
    if (tokens() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
      throw invalid_input(detail::describe("packed_layout::batch_cu_seqlens", "tokens", tokens(),
                                           "the batch has more tokens than int32 cu_seqlens address"));
    std::vector<std::int32_t> out;
    out.reserve(cu_seqlens.size() + 1);
    out.push_back(0);
    for (std::size_t s = 0; s < sequences(); ++s) {
      const auto base = static_cast<std::int32_t>(sequence_offsets[s]);
      const auto cu = sequence_cu_seqlens(s);
      for (std::size_t j = 1; j < cu.size(); ++j) out.push_back(base + cu[j]);
    }
    return out;
  }
};

}  // namespace fulcrum
