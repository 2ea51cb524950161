// SPDX-License-Identifier: Apache-2.0
/// @file io/detail/text.hpp
/// Line splitting (of a text in memory, or of a stream with a bound on the line length, so a
/// reader's memory does not grow with a hostile line), the UTF-8 byte order mark, and CSV field
/// splitting for the dataset readers. O(bytes), no allocation per line beyond the output cells.
#pragma once

#include <cstddef>
#include <ios>
#include <istream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/core/error.hpp"

namespace fulcrum::io::detail {

/// The UTF-8 byte order mark some editors put at the start of a file.
inline constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

/// `text` without a leading UTF-8 byte order mark (accepted and skipped at the start of a file).
[[nodiscard]] inline std::string_view skip_bom(std::string_view text) noexcept {
  if (text.substr(0, utf8_bom.size()) == utf8_bom) text.remove_prefix(utf8_bom.size());
  return text;
}

/// invalid_input "source:line: line longer than N bytes (the reader's limit per line)".
[[noreturn]] inline void line_too_long(std::string_view source, std::size_t line_no, std::size_t max_line_bytes) {
  std::ostringstream os;
  os << source << ':' << line_no << ": line longer than " << max_line_bytes << " bytes (the reader's limit per line)";
  throw invalid_input(os.str());
}

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

/// Calls f(line, line_no) for every line of the stream `in` ('\n' separated; a trailing '\r' is
/// dropped; a final line without '\n' counts; a UTF-8 byte order mark at the start is skipped),
/// holding at most `max_line_bytes` of it at once: a longer line is invalid_input naming the
/// source, the line and the bound. A read error is invalid_input too (never std::ios_base::failure).
template <class F>
void for_each_stream_line(std::istream& in, std::string_view source, std::size_t max_line_bytes, F&& f) {
  std::string line;
  std::size_t line_no = 1;
  bool first = true;
  auto emit = [&] {
    std::string_view v = line;
    if (first) v = skip_bom(v);
    first = false;
    if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
    f(v, line_no);
    line.clear();
    ++line_no;
  };
  char buf[1 << 16];
  try {
    while (in) {
      in.read(buf, sizeof buf);
      const auto got = static_cast<std::size_t>(in.gcount());
      std::string_view chunk(buf, got);
      while (!chunk.empty()) {
        const std::size_t nl = chunk.find('\n');
        const std::size_t take = nl == std::string_view::npos ? chunk.size() : nl;
        // The bound counts the line's bytes without its '\r\n' (and a first line's BOM).
        const std::size_t allowance = max_line_bytes + 1 + (first ? utf8_bom.size() : 0);
        if (line.size() + take > allowance) line_too_long(source, line_no, max_line_bytes);
        line.append(chunk.substr(0, take));
        if (nl == std::string_view::npos) break;
        {
          std::string_view v = line;
          if (first) v = skip_bom(v);
          if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
          if (v.size() > max_line_bytes) line_too_long(source, line_no, max_line_bytes);
        }
        emit();
        chunk.remove_prefix(nl + 1);
      }
    }
  } catch (const std::ios_base::failure& e) {
    std::ostringstream os;
    os << source << ':' << line_no << ": read error: " << e.what();
    throw invalid_input(os.str());
  }
  if (in.bad()) {
    std::ostringstream os;
    os << source << ':' << line_no << ": read error";
    throw invalid_input(os.str());
  }
  if (!line.empty()) {
    std::string_view v = line;
    if (first) v = skip_bom(v);
    if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
    if (v.size() > max_line_bytes) line_too_long(source, line_no, max_line_bytes);
    emit();
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
