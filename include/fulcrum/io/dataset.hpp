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
/// Blank lines are skipped; a UTF-8 byte order mark at the start of the text is skipped. Numbers
/// are read exactly (io/detail/number.hpp): "1.0000000000000001" is not a whole number.
///
/// Memory is bounded (`reader_limits`, errors name the bound): the stream and file readers hold
/// one line at a time, at most `max_line_bytes` (1 MiB) of it, a JSONL line holds at most
/// `max_values_per_line` (65,536) JSON values, and a dataset at most `max_samples` (100,000,000)
/// samples. Complexity: O(bytes). The functions taking `std::string_view` are the ones to fuzz;
/// the stream and file overloads read line by line and share their per-line code.
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
#include <system_error>
#include <utility>
#include <vector>

#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/sample.hpp"
#include "fulcrum/io/detail/json.hpp"
#include "fulcrum/io/detail/number.hpp"
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
/// Names of dataset_format in declaration order (core/enum_names.hpp: to_string, parse_enum).
[[nodiscard]] constexpr enum_names_table<dataset_format, 3> enum_table(dataset_format) noexcept {
  return {"dataset_format", {"automatic", "jsonl", "csv"}};
}

/// Bounds on what a dataset reader holds in memory (exceeding one is invalid_input naming it).
struct reader_limits {
  std::size_t max_line_bytes = std::size_t{1} << 20;  ///< longest line: 1,048,576 bytes
  std::size_t max_values_per_line = 65536;            ///< JSON values in one JSONL line (nested ones count)
  std::size_t max_samples = 100'000'000;              ///< samples in one dataset
};

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
  constexpr std::uint64_t max = std::numeric_limits<std::uint32_t>::max();
  const integer_status st = to_unsigned(text, max, v);
  if (st != integer_status::ok) throw invalid_input(field_error(source, line, field, text, integer_problem(st, max)));
  return static_cast<std::uint32_t>(v);
}

inline std::uint32_t json_size_field(const json_value& obj, std::string_view source, std::size_t line,
                                     std::string_view field, bool count_lists) {
  const json_value* v = obj.find(field);
  if (v == nullptr) throw invalid_input(field_error(source, line, field, "", "missing"));
  if (v->is_number()) return require_u32(source, line, field, v->text);
  if (count_lists && v->is_array()) return static_cast<std::uint32_t>(v->values.size());  // <= max_values_per_line
  if (count_lists && v->is_string()) return 1;
  if (count_lists && v->is_null()) return 0;
  throw invalid_input(field_error(source, line, field, "", std::string("is ") + kind_name(v->type) + ", expected a number"));
}

/// Per-line parser of JSON Lines, shared by the text and the stream readers.
class jsonl_lines {
 public:
  jsonl_lines(const dataset_fields& fields, std::string_view source, const reader_limits& limits)
      : fields_(fields), source_(source), limits_(limits) {}

  void operator()(std::string_view line, std::size_t line_no) {
    if (is_blank(line)) return;
    if (line.size() > limits_.max_line_bytes) line_too_long(source_, line_no, limits_.max_line_bytes);
    std::ostringstream where;
    where << source_ << ':' << line_no;
    const json_value obj = parse_json(line, where.str(), limits_.max_values_per_line);
    if (!obj.is_object()) throw invalid_input(where.str() + ": expected a JSON object, got " + kind_name(obj.type));
    multimodal_sample s;
    s.tokens_per_image = fields_.tokens_per_image;
    if (!fields_.tokens.empty()) {
      s.text_tokens = json_size_field(obj, source_, line_no, fields_.tokens, false);
    } else {
      s.text_tokens = json_size_field(obj, source_, line_no, fields_.text, false);
      if (!fields_.images.empty()) s.images = json_size_field(obj, source_, line_no, fields_.images, true);
    }
    if (count_ >= limits_.max_samples) {
      std::ostringstream os;
      os << where.str() << ": more than " << limits_.max_samples << " samples (the reader's limit)";
      throw invalid_input(os.str());
    }
    out_.push_back(s);
    ++count_;
  }
  /// Samples parsed and not yet taken (for_each_sample drains it after every line).
  [[nodiscard]] std::vector<multimodal_sample>& pending() noexcept { return out_; }
  [[nodiscard]] std::vector<multimodal_sample> finish() { return std::move(out_); }

 private:
  const dataset_fields& fields_;
  std::string_view source_;
  reader_limits limits_;
  std::vector<multimodal_sample> out_;
  std::size_t count_ = 0;
};

/// Per-line parser of CSV, shared by the text and the stream readers.
class csv_lines {
 public:
  csv_lines(const dataset_fields& fields, std::string_view source, const reader_limits& limits)
      : fields_(fields), source_(source), limits_(limits) {}

  void operator()(std::string_view line, std::size_t line_no) {
    if (is_blank(line)) return;
    if (line.size() > limits_.max_line_bytes) line_too_long(source_, line_no, limits_.max_line_bytes);
    if (header_.empty()) {
      split_csv(line, source_, line_no, header_);
      auto column = [&](std::string_view name) {
        for (std::size_t c = 0; c < header_.size(); ++c)
          if (header_[c] == name) return c;
        throw invalid_input(field_error(source_, line_no, name, "", "missing from the CSV header"));
      };
      if (!fields_.tokens.empty()) {
        tokens_col_ = column(fields_.tokens);
      } else {
        text_col_ = column(fields_.text);
        if (!fields_.images.empty()) {
          images_col_ = column(fields_.images);
          have_images_ = true;
        }
      }
      return;
    }
    split_csv(line, source_, line_no, cells_);
    auto cell = [&](std::size_t col, std::string_view name) -> std::string_view {
      if (col >= cells_.size()) throw invalid_input(field_error(source_, line_no, name, "", "missing (row too short)"));
      if (cells_[col].empty()) throw invalid_input(field_error(source_, line_no, name, "", "is empty"));
      return cells_[col];
    };
    auto number = [&](std::size_t col, std::string_view name) {
      const std::string_view v = cell(col, name);
      if (!looks_numeric(v)) throw invalid_input(field_error(source_, line_no, name, v, "is not a number"));
      return require_u32(source_, line_no, name, v);
    };
    multimodal_sample s;
    s.tokens_per_image = fields_.tokens_per_image;
    if (!fields_.tokens.empty()) {
      s.text_tokens = number(tokens_col_, fields_.tokens);
    } else {
      s.text_tokens = number(text_col_, fields_.text);
      if (have_images_) s.images = number(images_col_, fields_.images);
    }
    if (count_ >= limits_.max_samples) {
      std::ostringstream os;
      os << source_ << ':' << line_no << ": more than " << limits_.max_samples << " samples (the reader's limit)";
      throw invalid_input(os.str());
    }
    out_.push_back(s);
    ++count_;
  }
  /// Samples parsed and not yet taken (for_each_sample drains it after every line).
  [[nodiscard]] std::vector<multimodal_sample>& pending() noexcept { return out_; }
  [[nodiscard]] std::vector<multimodal_sample> finish() {
    if (header_.empty()) throw invalid_input(std::string(source_) + ":1: missing CSV header row");
    return std::move(out_);
  }

 private:
  const dataset_fields& fields_;
  std::string_view source_;
  reader_limits limits_;
  std::vector<std::string> header_, cells_;
  std::size_t text_col_ = 0, images_col_ = 0, tokens_col_ = 0;
  bool have_images_ = false;
  std::vector<multimodal_sample> out_;
  std::size_t count_ = 0;
};

/// Feeds every line of `text` (BOM skipped) to `lines` and returns its samples.
template <class Lines>
[[nodiscard]] std::vector<multimodal_sample> read_text(std::string_view text, Lines lines) {
  std::size_t line_no = 0;
  for_each_line(skip_bom(text), [&](std::string_view line) { lines(line, ++line_no); });
  return lines.finish();
}

}  // namespace detail

/// Reads JSON Lines text: one JSON object per non-blank line. `source` names the input in errors.
[[nodiscard]] inline std::vector<multimodal_sample> read_jsonl(std::string_view text, const dataset_fields& fields = {},
                                                               std::string_view source = "<input>",
                                                               const reader_limits& limits = {}) {
  return detail::read_text(text, detail::jsonl_lines(fields, source, limits));
}

/// Reads CSV text: a header row naming the columns, then one sample per non-blank row. Fields are
/// comma-separated, optionally double-quoted ("" inside quotes is a quote); surrounding spaces are trimmed.
[[nodiscard]] inline std::vector<multimodal_sample> read_csv(std::string_view text, const dataset_fields& fields = {},
                                                             std::string_view source = "<input>",
                                                             const reader_limits& limits = {}) {
  return detail::read_text(text, detail::csv_lines(fields, source, limits));
}

/// Format from a file name: ".csv" -> csv, otherwise JSON Lines.
[[nodiscard]] inline dataset_format format_of(const std::filesystem::path& path) {
  const auto ext = path.extension().string();
  return ext == ".csv" || ext == ".CSV" ? dataset_format::csv : dataset_format::jsonl;
}

/// Reads a stream line by line (at most `limits.max_line_bytes` held at once) and parses it as
/// `format` (automatic means JSONL).
[[nodiscard]] inline std::vector<multimodal_sample> read_dataset(std::istream& in, dataset_format format,
                                                                 const dataset_fields& fields = {},
                                                                 std::string_view source = "<input>",
                                                                 const reader_limits& limits = {}) {
  if (format == dataset_format::csv) {
    detail::csv_lines lines(fields, source, limits);
    detail::for_each_stream_line(in, source, limits.max_line_bytes, [&](std::string_view l, std::size_t n) { lines(l, n); });
    return lines.finish();
  }
  detail::jsonl_lines lines(fields, source, limits);
  detail::for_each_stream_line(in, source, limits.max_line_bytes, [&](std::string_view l, std::size_t n) { lines(l, n); });
  return lines.finish();
}

/// Reads a stream lazily and calls `f(sample)` for every sample as soon as its line is parsed (at
/// most one line, `limits.max_line_bytes`, held at once: for datasets larger than memory, e.g. the
/// streaming batcher, runtime/streaming_batcher.hpp). Same formats, errors and limits as
/// read_dataset; samples before an error have already been passed to `f`.
template <class F>
void for_each_sample(std::istream& in, dataset_format format, F&& f, const dataset_fields& fields = {},
                     std::string_view source = "<input>", const reader_limits& limits = {}) {
  auto run = [&](auto lines) {
    detail::for_each_stream_line(in, source, limits.max_line_bytes, [&](std::string_view l, std::size_t n) {
      lines(l, n);
      for (const multimodal_sample& s : lines.pending()) f(s);
      lines.pending().clear();
    });
    (void)lines.finish();
  };
  if (format == dataset_format::csv) {
    run(detail::csv_lines(fields, source, limits));
  } else {
    run(detail::jsonl_lines(fields, source, limits));
  }
}

namespace detail {
/// Opens `path` for reading, or invalid_input saying why not (missing, a directory, unreadable).
inline void open_input(std::ifstream& in, const std::filesystem::path& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) throw invalid_input(path.string() + ": cannot open for reading: no such file");
  if (std::filesystem::is_directory(st)) throw invalid_input(path.string() + ": is a directory, expected a file");
  in.open(path, std::ios::binary);
  if (!in) throw invalid_input(path.string() + ": cannot open for reading");
}
}  // namespace detail

/// Reads a dataset file; `automatic` picks the format from the extension (see `format_of`).
[[nodiscard]] inline std::vector<multimodal_sample> read_dataset(const std::filesystem::path& path,
                                                                 dataset_format format = dataset_format::automatic,
                                                                 const dataset_fields& fields = {},
                                                                 const reader_limits& limits = {}) {
  std::ifstream in;
  detail::open_input(in, path);
  if (format == dataset_format::automatic) format = format_of(path);
  return read_dataset(in, format, fields, path.string(), limits);
}

}  // namespace fulcrum::io
