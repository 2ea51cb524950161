// SPDX-License-Identifier: Apache-2.0
/// @file python/src/bind_layout.cpp
/// `fulcrum._core`: the packed-sequence layout of text items and of multimodal (text + image)
/// items (layout/packed_layout.hpp). The GIL is released while the layout is built.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"
#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/layout/packed_layout.hpp"

namespace fulcrum_py {

using namespace nb::literals;

namespace {

// ---- packed layout ---------------------------------------------------------------------------

/// A packed_layout's arrays as a dict (kinds as uint8: 0 text, 1 image, 2 padding).
nb::dict layout_dict(fulcrum::packed_layout&& out) {
  nb::dict d;
  d["batch_cu_seqlens"] = to_numpy(out.batch_cu_seqlens());
  d["max_seqlen_overall"] = out.max_seqlen_overall;
  d["content_tokens"] = out.content_tokens;
  d["padding_tokens"] = out.padding_tokens;
  d["sequence_offsets"] = to_numpy_as<std::uint64_t>(std::span<const std::size_t>(out.sequence_offsets));
  d["cu_seqlens_offsets"] = to_numpy_as<std::uint64_t>(std::span<const std::size_t>(out.cu_seqlens_offsets));
  d["cu_seqlens"] = to_numpy(std::move(out.cu_seqlens));
  d["max_seqlen"] = to_numpy(std::move(out.max_seqlen));
  d["position_ids"] = to_numpy(std::move(out.position_ids));
  d["document_ids"] = to_numpy(std::move(out.document_ids));
  d["source_item"] = to_numpy(std::move(out.source_item));
  d["source_offset"] = to_numpy(std::move(out.source_offset));
  std::vector<std::uint8_t> kinds(out.kinds.size());
  for (std::size_t i = 0; i < kinds.size(); ++i) kinds[i] = static_cast<std::uint8_t>(out.kinds[i]);
  d["kinds"] = to_numpy(std::move(kinds));
  return d;
}

/// The packed-sequence layout (layout/packed_layout.hpp) of text-only items: groups as CSR
/// (offsets, indices), each item's token count.
nb::dict packed_layout_csr(const in_array<std::uint64_t>& offsets, const in_array<std::uint32_t>& indices,
                           const in_array<std::uint64_t>& sizes, std::uint32_t pad_multiple, std::uint32_t fixed_length,
                           std::size_t fixed_sequences) {
  fulcrum::packed_layout out;
  {
    nb::gil_scoped_release release;
    std::vector<std::uint32_t> tokens(sizes.shape(0));
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (sizes.data()[i] > std::numeric_limits<std::uint32_t>::max())
        throw fulcrum::invalid_input(
            fulcrum::detail::describe("packed_layout", "sizes", i, sizes.data()[i], "exceeds 4294967295 tokens"));
      tokens[i] = static_cast<std::uint32_t>(sizes.data()[i]);
    }
    const fulcrum::grouping packs(std::vector<std::size_t>(offsets.data(), offsets.data() + offsets.shape(0)),
                                  std::vector<fulcrum::index_type>(indices.data(), indices.data() + indices.shape(0)));
    fulcrum::layout_options opts;
    opts.pad_multiple = pad_multiple;
    opts.fixed_length = fixed_length;
    opts.fixed_sequences = fixed_sequences;
    fulcrum::make_packed_layout_into(packs, std::span<const std::uint32_t>(tokens), opts, out);
  }
  return layout_dict(std::move(out));
}

/// The multimodal packed layout: per item its text tokens and its images (CSR image_offsets over
/// image_tokens), image_positions for placement at_offsets.
nb::dict packed_layout_multimodal(const in_array<std::uint64_t>& offsets, const in_array<std::uint32_t>& indices,
                                  const in_array<std::uint32_t>& text_tokens,
                                  const in_array<std::uint64_t>& image_offsets,
                                  const in_array<std::uint32_t>& image_tokens,
                                  const in_array<std::uint32_t>& image_positions, const std::string& placement,
                                  std::uint32_t pad_multiple, std::uint32_t fixed_length, std::size_t fixed_sequences) {
  fulcrum::layout_options opts;
  opts.pad_multiple = pad_multiple;
  opts.fixed_length = fixed_length;
  opts.fixed_sequences = fixed_sequences;
  opts.placement = fulcrum::parse_enum<fulcrum::image_placement>(placement, "placement");
  fulcrum::packed_layout out;
  {
    nb::gil_scoped_release release;
    const fulcrum::grouping packs(std::vector<std::size_t>(offsets.data(), offsets.data() + offsets.shape(0)),
                                  std::vector<fulcrum::index_type>(indices.data(), indices.data() + indices.shape(0)));
    const std::vector<std::size_t> img_off(image_offsets.data(), image_offsets.data() + image_offsets.shape(0));
    fulcrum::multimodal_documents docs;
    docs.text_tokens = span_of(text_tokens);
    docs.image_offsets = std::span<const std::size_t>(img_off);
    docs.image_tokens = span_of(image_tokens);
    docs.image_positions = span_of(image_positions);
    fulcrum::make_packed_layout_into(packs, docs, opts, out);
  }
  return layout_dict(std::move(out));
}

}  // namespace

void bind_layout(nb::module_& m) {
  m.def("packed_layout", &packed_layout_csr, "offsets"_a, "indices"_a, "sizes"_a, "pad_multiple"_a, "fixed_length"_a,
        "fixed_sequences"_a);
  m.def("packed_layout_multimodal", &packed_layout_multimodal, "offsets"_a, "indices"_a, "text_tokens"_a,
        "image_offsets"_a, "image_tokens"_a, "image_positions"_a, "placement"_a, "pad_multiple"_a, "fixed_length"_a,
        "fixed_sequences"_a);
}

}  // namespace fulcrum_py
