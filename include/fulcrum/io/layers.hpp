// SPDX-License-Identifier: Apache-2.0
/// @file io/layers.hpp
/// Reader for per-layer model profiles (pipeline partitioning and recompute input).
///
/// JSON: `{"name": "my-model", "layers": [{"cost": 10.5, "memory": 64}, ...]}` or just the array
/// of layer objects. CSV: a header row with `cost` and `memory` columns (an optional `name` column
/// is ignored), one layer per row. `cost` is a non-negative finite number (compute time of the
/// layer, any unit); `memory` the activation memory it keeps per micro-batch (non-negative integer,
/// any unit, e.g. MiB). Errors throw `invalid_input` naming source, line (or layer) and field.
/// A UTF-8 byte order mark at the start is skipped. Memory is bounded: a profile file is at most
/// `max_layer_file_bytes` (16 MiB) and a JSON profile at most `max_layer_json_values` (1,048,576)
/// values; more is invalid_input naming the bound. O(bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ios>
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

/// Largest layer profile file `read_layers` reads (16,777,216 bytes).
inline constexpr std::size_t max_layer_file_bytes = std::size_t{1} << 24;
/// Most JSON values a JSON layer profile may hold (1,048,576; every layer takes at least three).
inline constexpr std::size_t max_layer_json_values = std::size_t{1} << 20;

namespace detail {
inline double require_cost(std::string_view source, std::size_t line, std::string_view field, std::string_view text) {
  double d = 0;
  const real_status st = to_real(text, d);
  if (st != real_status::ok) throw invalid_input(field_error(source, line, field, text, real_problem(st)));
  if (d < 0) throw invalid_input(field_error(source, line, field, text, "is negative"));
  return d;
}
inline std::uint64_t require_u64(std::string_view source, std::size_t line, std::string_view field, std::string_view text) {
  std::uint64_t v = 0;
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  const integer_status st = to_unsigned(text, max, v);
  if (st != integer_status::ok) throw invalid_input(field_error(source, line, field, text, integer_problem(st, max)));
  return v;
}
}  // namespace detail

/// Reads a JSON layer profile. Errors name "source: layers[i]" and the field.
[[nodiscard]] inline layer_table read_layers_json(std::string_view text, std::string_view source = "<layers>") {
  const detail::json_value doc = detail::parse_json(detail::skip_bom(text), std::string(source), max_layer_json_values);
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
    double cost = 0;
    if (const auto st = detail::to_real(c, cost); st != detail::real_status::ok) fail("cost", c, detail::real_problem(st));
    if (cost < 0) fail("cost", c, "is negative");
    const std::string& m = field("memory");
    std::uint64_t mem = 0;
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    if (const auto st = detail::to_unsigned(m, max, mem); st != detail::integer_status::ok)
      fail("memory", m, detail::integer_problem(st, max));
    out.cost.push_back(cost);
    out.memory.push_back(mem);
  }
  return out;
}

/// Reads a CSV layer profile (columns `cost` and `memory`).
[[nodiscard]] inline layer_table read_layers_csv(std::string_view text, std::string_view source = "<layers>") {
  layer_table out;
  std::vector<std::string> header, cells;
  std::size_t line_no = 0, cost_col = 0, mem_col = 0;
  detail::for_each_line(detail::skip_bom(text), [&](std::string_view line) {
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
  std::ifstream in;
  detail::open_input(in, path);
  std::string text;
  try {
    char buf[1 << 16];
    while (in) {
      in.read(buf, sizeof buf);
      text.append(buf, static_cast<std::size_t>(in.gcount()));
      if (text.size() > max_layer_file_bytes)
        throw invalid_input(path.string() + ": larger than " + std::to_string(max_layer_file_bytes) +
                            " bytes (the layer reader's limit)");
    }
  } catch (const std::ios_base::failure& e) {
    throw invalid_input(path.string() + ": read error: " + e.what());
  }
  if (in.bad()) throw invalid_input(path.string() + ": read error");
  layer_table t = format_of(path) == dataset_format::csv ? read_layers_csv(text, path.string())
                                                         : read_layers_json(text, path.string());
  if (t.name.empty()) t.name = path.stem().string();
  return t;
}

}  // namespace fulcrum::io
