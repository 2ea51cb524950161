// SPDX-License-Identifier: Apache-2.0
/// @file io/detail/text.hpp
/// Line splitting and CSV field splitting for the dataset readers. O(bytes), no allocation per
/// line beyond the output cells.
#pragma once

#include <cstddef>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/core/error.hpp"

namespace fulcrum::io::detail {

/// Calls f(line) for every line of `text` ('\n' separated; a trailing '\r' is dropped; a final
/// line without '\n' counts).
template <class F>
void for_each_line(std::string_view text, F&& f) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line);
    start = end + 1;
  }
}

[[nodiscard]] inline bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r'; }

[[nodiscard]] inline bool is_blank(std::string_view line) noexcept {
  for (char c : line)
    if (!is_space(c)) return false;
  return true;
}

[[nodiscard]] inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

/// True if `s` has the shape of a JSON number (optional '-', digits, optional fraction/exponent).
[[nodiscard]] inline bool looks_numeric(std::string_view s) noexcept {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digits()) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

/// Splits one CSV record into trimmed cells (RFC 4180 quoting within one line).
inline void split_csv(std::string_view line, std::string_view source, std::size_t line_no, std::vector<std::string>& cells) {
  cells.clear();
  std::size_t i = 0;
  for (;;) {
    while (i < line.size() && is_space(line[i])) ++i;
    std::string cell;
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) {
          std::ostringstream os;
          os << source << ':' << line_no << ": column " << (cells.size() + 1) << ": unterminated quoted field";
          throw invalid_input(os.str());
        }
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cell += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cell += line[i++];
      }
      while (i < line.size() && is_space(line[i])) ++i;
      if (i < line.size() && line[i] != ',') {
        std::ostringstream os;
        os << source << ':' << line_no << ": column " << (cells.size() + 1) << ": text after a closing quote";
        throw invalid_input(os.str());
      }
    } else {
      const std::size_t end = line.find(',', i);
      cell = std::string(trim(line.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i)));
      i = end == std::string_view::npos ? line.size() : end;
    }
    cells.push_back(std::move(cell));
    if (i >= line.size()) return;
    ++i;  // the comma
  }
}

}  // namespace fulcrum::io::detail
