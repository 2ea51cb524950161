// SPDX-License-Identifier: Apache-2.0
/// @file layout/detail/layout_fill.hpp
/// The two passes of make_packed_layout (layout/packed_layout.hpp): lengths and checks, then one
/// write per token and array. Included by that header after its public types.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/layout/packed_layout_result.hpp"

namespace fulcrum::detail {

inline constexpr std::uint64_t layout_int32_max = static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());

/// Writes `count` tokens of one kind: positions p0.., source offsets o0...
struct layout_writer {
  std::int32_t* position;
  std::int32_t* document;
  index_type* item;
  std::uint32_t* offset;
  token_kind* kind;

  void run(std::size_t at, std::uint32_t count, std::int32_t p0, std::int32_t doc, index_type src, std::uint32_t o0,
           token_kind k) const noexcept {
    std::int32_t* pos = position + at;
    std::int32_t* did = document + at;
    index_type* it = item + at;
    std::uint32_t* off = offset + at;
    token_kind* kd = kind + at;
    for (std::uint32_t t = 0; t < count; ++t) {
      pos[t] = p0 + static_cast<std::int32_t>(t);
      did[t] = doc;
      it[t] = src;
      off[t] = o0 + t;
      kd[t] = k;
    }
  }
};

inline void layout_check_documents(const multimodal_documents& docs) {
  constexpr const char* where = "make_packed_layout";
  const std::size_t n = docs.text_tokens.size();
  if (docs.image_offsets.empty()) {
    if (!docs.image_tokens.empty())
      throw invalid_input(describe(where, "image_tokens.size()", docs.image_tokens.size(),
                                   "images given without image_offsets (documents + 1 entries)"));
    return;
  }
  if (docs.image_offsets.size() != n + 1)
    throw invalid_input(
        describe(where, "image_offsets.size()", docs.image_offsets.size(), "must be the number of documents + 1"));
  if (docs.image_offsets.front() != 0)
    throw invalid_input(describe(where, "image_offsets", 0, docs.image_offsets.front(), "must start at 0"));
  for (std::size_t i = 1; i <= n; ++i)
    if (docs.image_offsets[i] < docs.image_offsets[i - 1])
      throw invalid_input(describe(where, "image_offsets", i, docs.image_offsets[i], "is below the previous offset"));
  if (docs.image_offsets.back() != docs.image_tokens.size())
    throw invalid_input(
        describe(where, "image_offsets", n, docs.image_offsets.back(), "last offset must equal image_tokens.size()"));
}

/// Tokens of document i (text + images), checked against int32; image positions checked.
[[nodiscard]] inline std::uint64_t layout_document_tokens(const multimodal_documents& docs, std::size_t i,
                                                          image_placement placement) {
  constexpr const char* where = "make_packed_layout";
  std::uint64_t total = docs.text_tokens[i];
  if (!docs.image_offsets.empty()) {
    std::uint32_t previous = 0;
    for (std::size_t j = docs.image_offsets[i]; j < docs.image_offsets[i + 1]; ++j) {
      total += docs.image_tokens[j];
      if (placement == image_placement::at_offsets) {
        if (docs.image_positions.size() != docs.image_tokens.size())
          throw invalid_input(describe(where, "image_positions.size()", docs.image_positions.size(),
                                       "at_offsets needs one position per image"));
        const std::uint32_t p = docs.image_positions[j];
        if (p > docs.text_tokens[i])
          throw invalid_input(describe(where, "image_positions", j, p, "is beyond its document's text tokens"));
        if (p < previous)
          throw invalid_input(describe(where, "image_positions", j, p, "is below the previous image's position"));
        previous = p;
      }
    }
  }
  if (total > layout_int32_max)
    throw invalid_input(describe(where, "document", i, total, "has more tokens than int32 position ids address"));
  return total;
}

inline void layout_fill(const grouping& packs, const multimodal_documents& docs, const layout_options& opts,
                        packed_layout& out) {
  constexpr const char* where = "make_packed_layout";
  if (opts.pad_multiple == 0) throw invalid_input(describe(where, "pad_multiple", 0, "must be at least 1"));
  if (opts.fixed_length % opts.pad_multiple != 0)
    throw invalid_input(describe(where, "fixed_length", opts.fixed_length, "is not a multiple of pad_multiple"));
  if (opts.fixed_sequences != 0 && packs.size() > opts.fixed_sequences)
    throw infeasible(describe(where, "packs", packs.size(), "more packed sequences than fixed_sequences"));
  layout_check_documents(docs);
  const std::size_t n = docs.text_tokens.size();
  const bool has_images = !docs.image_offsets.empty();

  // Pass 1: lengths, duplicates, limits. Nothing of `out` is touched until it passes.
  const std::size_t rows = opts.fixed_sequences != 0 ? opts.fixed_sequences : packs.size();
  std::vector<std::size_t> seq_offsets(rows + 1, 0);
  std::vector<std::size_t> cu_offsets(rows + 1, 0);
  std::vector<std::uint8_t> seen(n, 0);
  std::uint64_t content = 0;
  std::uint64_t padding = 0;
  for (std::size_t s = 0; s < rows; ++s) {
    std::uint64_t length = 0;
    std::size_t segments = 0;
    if (s < packs.size()) {
      for (const index_type i : packs[s]) {
        if (i >= n) throw invalid_input(describe(where, "packs index", s, i, "is not below the number of items"));
        if (seen[i] != 0) throw invalid_input(describe(where, "packs index", s, i, "item appears twice in the packs"));
        seen[i] = 1;
        length += has_images ? layout_document_tokens(docs, i, opts.placement) : docs.text_tokens[i];
        if (!has_images && docs.text_tokens[i] > layout_int32_max)
          throw invalid_input(
              describe(where, "sizes", i, docs.text_tokens[i], "is longer than int32 position ids address"));
        ++segments;
        if (length > layout_int32_max)
          throw invalid_input(describe(where, "sequence", s, length, "is longer than int32 cu_seqlens address"));
      }
    }
    std::uint64_t padded = (length + opts.pad_multiple - 1) / opts.pad_multiple * opts.pad_multiple;
    if (opts.fixed_length != 0) {
      if (length > opts.fixed_length)
        throw infeasible(describe(where, "sequence", s, length, "is longer than fixed_length"));
      padded = opts.fixed_length;
    }
    if (padded > layout_int32_max)
      throw invalid_input(describe(where, "sequence", s, padded, "padded length exceeds int32 cu_seqlens"));
    if (padded > length) ++segments;
    content += length;
    padding += padded - length;
    seq_offsets[s + 1] = seq_offsets[s] + static_cast<std::size_t>(padded);
    cu_offsets[s + 1] = cu_offsets[s] + segments + 1;
  }

  // Pass 2: write.
  const std::size_t tokens = seq_offsets.back();
  out.sequence_offsets = std::move(seq_offsets);
  out.cu_seqlens_offsets = std::move(cu_offsets);
  out.cu_seqlens.resize(out.cu_seqlens_offsets.back());
  out.max_seqlen.resize(rows);
  out.position_ids.resize(tokens);
  out.document_ids.resize(tokens);
  out.source_item.resize(tokens);
  out.source_offset.resize(tokens);
  out.kinds.resize(tokens);
  out.content_tokens = content;
  out.padding_tokens = padding;
  out.max_seqlen_overall = 0;
  const layout_writer w{out.position_ids.data(), out.document_ids.data(), out.source_item.data(),
                        out.source_offset.data(), out.kinds.data()};
  std::int32_t* cu = out.cu_seqlens.data();
  for (std::size_t s = 0; s < rows; ++s) {
    const std::size_t base = out.sequence_offsets[s];
    std::size_t at = base;
    std::size_t c = out.cu_seqlens_offsets[s];
    cu[c++] = 0;
    std::int32_t longest = 0;
    std::int32_t doc = 0;
    if (s < packs.size()) {
      for (const index_type i : packs[s]) {
        const std::uint32_t text = docs.text_tokens[i];
        std::uint32_t length = text;
        if (!has_images || docs.image_offsets[i] == docs.image_offsets[i + 1]) {
          w.run(at, text, 0, doc, i, 0, token_kind::text);
        } else {
          const std::size_t first = docs.image_offsets[i];
          const std::size_t last = docs.image_offsets[i + 1];
          std::int32_t p = 0;
          std::size_t local = at;
          std::uint32_t image_offset = 0;
          std::uint32_t text_done = 0;
          auto text_run = [&](std::uint32_t upto) {
            const std::uint32_t count = upto - text_done;
            w.run(local, count, p, doc, i, text_done, token_kind::text);
            local += count;
            p += static_cast<std::int32_t>(count);
            text_done = upto;
          };
          if (opts.placement == image_placement::after_text) text_run(text);
          for (std::size_t j = first; j < last; ++j) {
            if (opts.placement == image_placement::at_offsets) text_run(docs.image_positions[j]);
            const std::uint32_t count = docs.image_tokens[j];
            w.run(local, count, p, doc, i, image_offset, token_kind::image);
            local += count;
            p += static_cast<std::int32_t>(count);
            image_offset += count;
          }
          text_run(text);
          length = static_cast<std::uint32_t>(local - at);
        }
        at += length;
        longest = std::max(longest, static_cast<std::int32_t>(length));
        cu[c++] = static_cast<std::int32_t>(at - base);
        ++doc;
      }
    }
    const std::size_t end = out.sequence_offsets[s + 1];
    if (end > at) {
      const auto pad = static_cast<std::uint32_t>(end - at);
      w.run(at, pad, 0, packed_layout::padding_document, packed_layout::padding_item, 0, token_kind::padding);
      cu[c++] = static_cast<std::int32_t>(end - base);
      longest = std::max(longest, static_cast<std::int32_t>(pad));
    }
    out.max_seqlen[s] = longest;
    out.max_seqlen_overall = std::max(out.max_seqlen_overall, longest);
  }
}

}  // namespace fulcrum::detail
