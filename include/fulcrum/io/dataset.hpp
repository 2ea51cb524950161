// SPDX-License-Identifier: Apache-2.0
/// @file io/dataset.hpp
/// Readers for per-sample size datasets: JSON Lines (one object per line) and CSV (a header row,
/// then one row per sample). Each sample becomes a `multimodal_sample` {text_tokens, images}.
///
/// Field names are configurable (`dataset_fields`): by default `text_tokens` and `images`; or a
/// single total-token field (`tokens`), for text-only data. In JSONL an image field may also hold
/// an array (its length is the image count) or a string (one image), as LLaVA-style manifests do.
///
/// Errors: every problem throws `fulcrum::invalid_input` naming the source, the 1-based line and
/// the field: `data.jsonl:7: field "images" = -1: is negative`. Nothing partial is returned.
/// Blank lines are skipped. Complexity: O(bytes). The functions taking `std::string_view` are the
/// ones to fuzz; the stream and file overloads read everything and call them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/sample.hpp"
#include "fulcrum/io/detail/json.hpp"
#include "fulcrum/io/detail/text.hpp"

namespace fulcrum::io {

/// Which columns/members hold a sample's sizes.
struct dataset_fields {
  std::string text = "text_tokens";  ///< text tokens of a sample
  std::string images = "images";     ///< image count (each image = tokens_per_image tokens); empty: none
  std::string tokens;                ///< if set: total tokens of a sample (text and images are then ignored)
  std::uint32_t tokens_per_image = 576;  ///< LLM tokens per image (LLaVA-1.5 at 336 px), stored in every sample
};

/// File format of a dataset.
enum class dataset_format { automatic, jsonl, csv };

namespace detail {

/// "src:line: field "name"" + optional " = value" + ": reason".
[[nodiscard]] inline std::string field_error(std::string_view source, std::size_t line, std::string_view field,
                                             std::string_view value, std::string_view reason) {
  std::ostringstream os;
  os << source << ':' << line << ": field \"" << field << '"';
  if (!value.empty()) os << " = " << value;
  os << ": " << reason;
  return os.str();
}

/// Checks a parsed unsigned value against the sample's 32-bit fields.
[[nodiscard]] inline std::uint32_t require_u32(std::string_view source, std::size_t line, std::string_view field,
                                               std::string_view text) {
  std::uint64_t v = 0;
  switch (to_unsigned(text, std::numeric_limits<std::uint32_t>::max(), v)) {
    case integer_status::ok: return static_cast<std::uint32_t>(v);
    case integer_status::negative: throw invalid_input(field_error(source, line, field, text, "is negative"));
    case integer_status::too_large:
      throw invalid_input(field_error(source, line, field, text, "exceeds 4294967295"));
    case integer_status::not_integer:
      throw invalid_input(field_error(source, line, field, text, "is not a whole number"));
  }
  return 0;
}

inline std::uint32_t json_size_field(const json_value& obj, std::string_view source, std::size_t line,
                                     std::string_view field, bool count_lists) {
  const json_value* v = obj.find(field);
  if (v == nullptr) throw invalid_input(field_error(source, line, field, "", "missing"));
  if (v->is_number()) return require_u32(source, line, field, v->text);
  if (count_lists && v->is_array()) return static_cast<std::uint32_t>(v->values.size());
  if (count_lists && v->is_string()) return 1;
  if (count_lists && v->is_null()) return 0;
  throw invalid_input(field_error(source, line, field, "", std::string("is ") + kind_name(v->type) + ", expected a number"));
}

}  // namespace detail

/// Reads JSON Lines text: one JSON object per non-blank line. `source` names the input in errors.
[[nodiscard]] inline std::vector<multimodal_sample> read_jsonl(std::string_view text, const dataset_fields& fields = {},
                                                               std::string_view source = "<input>") {
  std::vector<multimodal_sample> out;
  std::size_t line_no = 0;
  detail::for_each_line(text, [&](std::string_view line) {
    ++line_no;
    if (detail::is_blank(line)) return;
    std::ostringstream where;
    where << source << ':' << line_no;
    const detail::json_value obj = detail::parse_json(line, where.str());
    if (!obj.is_object())
      throw invalid_input(where.str() + ": expected a JSON object, got " + detail::kind_name(obj.type));
    multimodal_sample s;
    s.tokens_per_image = fields.tokens_per_image;
    if (!fields.tokens.empty()) {
      s.text_tokens = detail::json_size_field(obj, source, line_no, fields.tokens, false);
    } else {
      s.text_tokens = detail::json_size_field(obj, source, line_no, fields.text, false);
      if (!fields.images.empty()) s.images = detail::json_size_field(obj, source, line_no, fields.images, true);
    }
    out.push_back(s);
  });
  return out;
}

/// Reads CSV text: a header row naming the columns, then one sample per non-blank row. Fields are
/// comma-separated, optionally double-quoted ("" inside quotes is a quote); surrounding spaces are trimmed.
[[nodiscard]] inline std::vector<multimodal_sample> read_csv(std::string_view text, const dataset_fields& fields = {},
                                                             std::string_view source = "<input>") {
  std::vector<multimodal_sample> out;
  std::vector<std::string> header;
  std::vector<std::string> cells;
  std::size_t line_no = 0;
  std::size_t text_col = 0, images_col = 0, tokens_col = 0;
  bool have_images = false;
  auto column = [&](std::string_view name) {
    for (std::size_t c = 0; c < header.size(); ++c)
      if (header[c] == name) return c;
    throw invalid_input(detail::field_error(source, line_no, name, "", "missing from the CSV header"));
  };
  detail::for_each_line(text, [&](std::string_view line) {
    ++line_no;
    if (detail::is_blank(line)) return;
    if (header.empty()) {
      detail::split_csv(line, source, line_no, header);
      if (!fields.tokens.empty()) {
        tokens_col = column(fields.tokens);
      } else {
        text_col = column(fields.text);
        if (!fields.images.empty()) {
          images_col = column(fields.images);
          have_images = true;
        }
      }
      return;
    }
    detail::split_csv(line, source, line_no, cells);
    auto cell = [&](std::size_t col, std::string_view name) -> std::string_view {
      if (col >= cells.size()) throw invalid_input(detail::field_error(source, line_no, name, "", "missing (row too short)"));
      if (cells[col].empty()) throw invalid_input(detail::field_error(source, line_no, name, "", "is empty"));
      return cells[col];
    };
    auto number = [&](std::size_t col, std::string_view name) {
      const std::string_view v = cell(col, name);
      if (!detail::looks_numeric(v))
        throw invalid_input(detail::field_error(source, line_no, name, v, "is not a number"));
      return detail::require_u32(source, line_no, name, v);
    };
    multimodal_sample s;
    s.tokens_per_image = fields.tokens_per_image;
    if (!fields.tokens.empty()) {
      s.text_tokens = number(tokens_col, fields.tokens);
    } else {
      s.text_tokens = number(text_col, fields.text);
      if (have_images) s.images = number(images_col, fields.images);
    }
    out.push_back(s);
  });
  if (header.empty()) throw invalid_input(std::string(source) + ":1: missing CSV header row");
  return out;
}

/// Format from a file name: ".csv" -> csv, otherwise JSON Lines.
[[nodiscard]] inline dataset_format format_of(const std::filesystem::path& path) {
  const auto ext = path.extension().string();
  return ext == ".csv" || ext == ".CSV" ? dataset_format::csv : dataset_format::jsonl;
}

/// Reads a whole stream and parses it as `format` (automatic means JSONL).
[[nodiscard]] inline std::vector<multimodal_sample> read_dataset(std::istream& in, dataset_format format,
                                                                 const dataset_fields& fields = {},
                                                                 std::string_view source = "<input>") {
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw invalid_input(std::string(source) + ": read error");
  return format == dataset_format::csv ? read_csv(text, fields, source) : read_jsonl(text, fields, source);
}

/// Reads a dataset file; `automatic` picks the format from the extension (see `format_of`).
[[nodiscard]] inline std::vector<multimodal_sample> read_dataset(const std::filesystem::path& path,
                                                                 dataset_format format = dataset_format::automatic,
                                                                 const dataset_fields& fields = {}) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw invalid_input(path.string() + ": cannot open for reading");
  if (format == dataset_format::automatic) format = format_of(path);
  return read_dataset(in, format, fields, path.string());
}

}  // namespace fulcrum::io
