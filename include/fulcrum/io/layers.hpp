// SPDX-License-Identifier: Apache-2.0
/// @file io/layers.hpp
/// Reader for per-layer model profiles (pipeline partitioning and recompute input).
///
/// JSON: `{"name": "my-model", "layers": [{"cost": 10.5, "memory": 64}, ...]}` or just the array
/// of layer objects. CSV: a header row with `cost` and `memory` columns (an optional `name` column
/// is ignored), one layer per row. `cost` is a non-negative finite number (compute time of the
/// layer, any unit); `memory` the activation memory it keeps per micro-batch (non-negative integer,
/// any unit, e.g. MiB). Errors throw `invalid_input` naming source, line (or layer) and field.
/// O(bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/io/dataset.hpp"
#include "fulcrum/io/detail/json.hpp"
#include "fulcrum/io/detail/text.hpp"

namespace fulcrum::io {

/// A model's layers: compute cost and kept activation memory per layer.
struct layer_table {
  std::string name;
  std::vector<double> cost;
  std::vector<std::uint64_t> memory;
};

namespace detail {
inline double require_cost(std::string_view source, std::size_t line, std::string_view field, std::string_view text) {
  const auto d = to_double(text);
  if (!d) throw invalid_input(field_error(source, line, field, text, "is not a finite number"));
  if (*d < 0) throw invalid_input(field_error(source, line, field, text, "is negative"));
  return *d;
}
inline std::uint64_t require_u64(std::string_view source, std::size_t line, std::string_view field, std::string_view text) {
  std::uint64_t v = 0;
  switch (to_unsigned(text, std::numeric_limits<std::uint64_t>::max(), v)) {
    case integer_status::ok: return v;
    case integer_status::negative: throw invalid_input(field_error(source, line, field, text, "is negative"));
    case integer_status::too_large: throw invalid_input(field_error(source, line, field, text, "is too large"));
    case integer_status::not_integer: throw invalid_input(field_error(source, line, field, text, "is not a whole number"));
  }
  return 0;
}
}  // namespace detail

/// Reads a JSON layer profile. Errors name "source: layers[i]" and the field.
[[nodiscard]] inline layer_table read_layers_json(std::string_view text, std::string_view source = "<layers>") {
  const detail::json_value doc = detail::parse_json(text, std::string(source));
  layer_table out;
  const detail::json_value* layers = &doc;
  if (doc.is_object()) {
    if (const auto* n = doc.find("name"); n != nullptr && n->is_string()) out.name = n->text;
    layers = doc.find("layers");
    if (layers == nullptr) throw invalid_input(std::string(source) + ": field \"layers\": missing");
  }
  if (!layers->is_array()) throw invalid_input(std::string(source) + ": field \"layers\": is not an array");
  if (layers->values.empty()) throw invalid_input(std::string(source) + ": field \"layers\": is empty");
  for (std::size_t i = 0; i < layers->values.size(); ++i) {
    const auto& l = layers->values[i];
    std::ostringstream where;
    where << source << ": layers[" << i << ']';
    auto field = [&](std::string_view name) -> const std::string& {
      if (!l.is_object()) throw invalid_input(where.str() + ": is not an object");
      const auto* v = l.find(name);
      if (v == nullptr) throw invalid_input(where.str() + ": field \"" + std::string(name) + "\": missing");
      if (!v->is_number())
        throw invalid_input(where.str() + ": field \"" + std::string(name) + "\": is " + detail::kind_name(v->type) +
                            ", expected a number");
      return v->text;
    };
    auto fail = [&](std::string_view name, std::string_view value, std::string_view reason) {
      throw invalid_input(where.str() + ": field \"" + std::string(name) + "\" = " + std::string(value) + ": " +
                          std::string(reason));
    };
    const std::string& c = field("cost");
    const auto cost = detail::to_double(c);
    if (!cost) fail("cost", c, "is not a finite number");
    if (*cost < 0) fail("cost", c, "is negative");
    const std::string& m = field("memory");
    std::uint64_t mem = 0;
    switch (detail::to_unsigned(m, std::numeric_limits<std::uint64_t>::max(), mem)) {
      case detail::integer_status::ok: break;
      case detail::integer_status::negative: fail("memory", m, "is negative"); break;
      case detail::integer_status::too_large: fail("memory", m, "is too large"); break;
      case detail::integer_status::not_integer: fail("memory", m, "is not a whole number"); break;
    }
    out.cost.push_back(*cost);
    out.memory.push_back(mem);
  }
  return out;
}

/// Reads a CSV layer profile (columns `cost` and `memory`).
[[nodiscard]] inline layer_table read_layers_csv(std::string_view text, std::string_view source = "<layers>") {
  layer_table out;
  std::vector<std::string> header, cells;
  std::size_t line_no = 0, cost_col = 0, mem_col = 0;
  detail::for_each_line(text, [&](std::string_view line) {
    ++line_no;
    if (detail::is_blank(line)) return;
    if (header.empty()) {
      detail::split_csv(line, source, line_no, header);
      auto column = [&](std::string_view name) {
        for (std::size_t c = 0; c < header.size(); ++c)
          if (header[c] == name) return c;
        throw invalid_input(detail::field_error(source, line_no, name, "", "missing from the CSV header"));
      };
      cost_col = column("cost");
      mem_col = column("memory");
      return;
    }
    detail::split_csv(line, source, line_no, cells);
    auto cell = [&](std::size_t col, std::string_view name) -> std::string_view {
      if (col >= cells.size() || cells[col].empty())
        throw invalid_input(detail::field_error(source, line_no, name, "", "missing"));
      if (!detail::looks_numeric(cells[col]))
        throw invalid_input(detail::field_error(source, line_no, name, cells[col], "is not a number"));
      return cells[col];
    };
    out.cost.push_back(detail::require_cost(source, line_no, "cost", cell(cost_col, "cost")));
    out.memory.push_back(detail::require_u64(source, line_no, "memory", cell(mem_col, "memory")));
  });
  if (header.empty()) throw invalid_input(std::string(source) + ":1: missing CSV header row");
  if (out.cost.empty()) throw invalid_input(std::string(source) + ": no layers");
  return out;
}

/// Reads a layer profile file: ".csv" as CSV, anything else as JSON.
[[nodiscard]] inline layer_table read_layers(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw invalid_input(path.string() + ": cannot open for reading");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  layer_table t = format_of(path) == dataset_format::csv ? read_layers_csv(text, path.string())
                                                         : read_layers_json(text, path.string());
  if (t.name.empty()) t.name = path.stem().string();
  return t;
}

}  // namespace fulcrum::io
