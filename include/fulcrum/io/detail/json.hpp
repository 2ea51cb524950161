// SPDX-License-Identifier: Apache-2.0
/// @file io/detail/json.hpp
/// A small, strict JSON parser (RFC 8259) and writer helpers for fulcrum's readers: no external
/// dependency, O(input) time, nesting limited to `max_depth` so hostile input cannot exhaust the
/// stack. Errors throw `fulcrum::invalid_input` with the 1-based column of the offending byte.
/// Numbers keep their source text, so 64-bit integers round-trip exactly.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/io/detail/number.hpp"

namespace fulcrum::io::detail {

/// A parsed JSON value. Objects keep their members in source order (keys[i] -> values[i]).
struct json_value {
  enum class kind { null, boolean, number, string, array, object };
  kind type = kind::null;
  bool boolean = false;
  std::string text;                 ///< string contents (decoded) or a number's source text
  std::vector<json_value> values;   ///< array elements or object member values
  std::vector<std::string> keys;    ///< object member names (same length as values)

  [[nodiscard]] bool is_null() const noexcept { return type == kind::null; }
  [[nodiscard]] bool is_number() const noexcept { return type == kind::number; }
  [[nodiscard]] bool is_string() const noexcept { return type == kind::string; }
  [[nodiscard]] bool is_array() const noexcept { return type == kind::array; }
  [[nodiscard]] bool is_object() const noexcept { return type == kind::object; }

  /// Member `key` of an object (the last one if repeated), or nullptr.
  [[nodiscard]] const json_value* find(std::string_view key) const noexcept {
    if (type != kind::object) return nullptr;
    for (std::size_t i = keys.size(); i-- > 0;)
      if (keys[i] == key) return &values[i];
    return nullptr;
  }
};

/// Name of a JSON kind, for messages.
[[nodiscard]] inline const char* kind_name(json_value::kind k) noexcept {
  switch (k) {
    case json_value::kind::null: return "null";
    case json_value::kind::boolean: return "a boolean";
    case json_value::kind::number: return "a number";
    case json_value::kind::string: return "a string";
    case json_value::kind::array: return "an array";
    case json_value::kind::object: return "an object";
  }
  return "?";
}

/// Recursive-descent parser over one text. Throws invalid_input("<where>: column N: reason").
class json_parser {
 public:
  static constexpr int max_depth = 128;

  /// `max_values` bounds the values (of any kind, nested ones included) the document may hold,
  /// and so the parser's memory; more is invalid_input naming the bound.
  json_parser(std::string_view text, std::string where, std::size_t max_values = SIZE_MAX)
      : text_(text), where_(std::move(where)), max_values_(max_values) {}

  /// Parses exactly one value followed only by whitespace.
  json_value parse_document() {
    skip_ws();
    json_value v = parse_value(0);
    skip_ws();
    if (pos_ != text_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(std::string_view reason) const {
    std::ostringstream os;
    os << where_ << ": column " << (pos_ + 1) << ": " << reason;
    throw invalid_input(os.str());
  }

  void skip_ws() noexcept {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  [[nodiscard]] bool consume(std::string_view word) noexcept {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  json_value parse_value(int depth) {
    if (depth > max_depth) fail("nesting deeper than 128 levels");
    if (++values_ > max_values_) {
      std::ostringstream os;
      os << "more than " << max_values_ << " JSON values (the reader's limit)";
      fail(os.str());
    }
    if (pos_ >= text_.size()) fail("unexpected end of input, expected a value");
    json_value v;
    const char c = text_[pos_];
    if (c == '{') {
      v.type = json_value::kind::object;
      ++pos_;
      skip_ws();
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return v;
      }
      for (;;) {
        skip_ws();
        if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a member name in double quotes");
        v.keys.push_back(parse_string());
        skip_ws();
        if (pos_ >= text_.size() || text_[pos_] != ':') fail("expected ':' after a member name");
        ++pos_;
        skip_ws();
        v.values.push_back(parse_value(depth + 1));
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < text_.size() && text_[pos_] == '}') {
          ++pos_;
          return v;
        }
        fail("expected ',' or '}' in an object");
      }
    }
    if (c == '[') {
      v.type = json_value::kind::array;
      ++pos_;
      skip_ws();
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return v;
      }
      for (;;) {
        skip_ws();
        v.values.push_back(parse_value(depth + 1));
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < text_.size() && text_[pos_] == ']') {
          ++pos_;
          return v;
        }
        fail("expected ',' or ']' in an array");
      }
    }
    if (c == '"') {
      v.type = json_value::kind::string;
      v.text = parse_string();
      return v;
    }
    if (consume("true")) {
      v.type = json_value::kind::boolean;
      v.boolean = true;
      return v;
    }
    if (consume("false")) {
      v.type = json_value::kind::boolean;
      return v;
    }
    if (consume("null")) return v;
    if (c == '-' || (c >= '0' && c <= '9')) {
      v.type = json_value::kind::number;
      v.text = parse_number();
      return v;
    }
    fail("unexpected character, expected a JSON value");
  }

  std::string parse_number() {
    const std::size_t start = pos_;
    auto digit = [&] { return pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9'; };
    if (text_[pos_] == '-') ++pos_;
    if (!digit()) fail("malformed number");
    if (text_[pos_] == '0') {
      ++pos_;
    } else {
      while (digit()) ++pos_;
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digit()) fail("malformed number: digits expected after '.'");
      while (digit()) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digit()) fail("malformed number: digits expected in the exponent");
      while (digit()) ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  unsigned parse_hex4() {
    if (pos_ + 4 > text_.size()) fail("truncated \\u escape");
    unsigned cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      cp <<= 4;
      if (h >= '0' && h <= '9') cp |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') cp |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') cp |= static_cast<unsigned>(h - 'A' + 10);
      else fail("bad hex digit in \\u escape");
    }
    return cp;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) fail("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character inside a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) fail("unterminated escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = parse_hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {
            if (!consume("\\u")) fail("lone high surrogate in \\u escape");
            const unsigned lo = parse_hex4();
            if (lo < 0xDC00 || lo >= 0xE000) fail("bad low surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            fail("lone low surrogate in \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default: fail("unknown escape in a string");
      }
    }
  }

  std::string_view text_;
  std::string where_;
  std::size_t max_values_;
  std::size_t values_ = 0;
  std::size_t pos_ = 0;
};

/// Parses one JSON document; `where` prefixes error messages (e.g. "plan.json" or "data.jsonl:7").
/// `max_values` bounds the values the document may hold (see json_parser).
[[nodiscard]] inline json_value parse_json(std::string_view text, std::string where = "json",
                                           std::size_t max_values = SIZE_MAX) {
  return json_parser(text, std::move(where), max_values).parse_document();
}

/// Reads a number's source text as a finite double.
[[nodiscard]] inline std::optional<double> to_double(std::string_view text) noexcept {
  double d = 0;
  if (to_real(text, d) != real_status::ok) return std::nullopt;
  return d;
}

/// Writes `s` as a JSON string literal (quotes and escapes).
inline void write_json_string(std::ostream& os, std::string_view s) {
  os << '"';
  for (char c : s) {
    switch (c) {
      case '"': os << "\\\""; break;
      case '\\': os << "\\\\"; break;
      case '\n': os << "\\n"; break;
      case '\r': os << "\\r"; break;
      case '\t': os << "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          const char* hex = "0123456789abcdef";
          os << "\\u00" << hex[(c >> 4) & 0xF] << hex[c & 0xF];
        } else {
          os << c;
        }
    }
  }
  os << '"';
}

/// Writes a double so it reads back bit-identical (shortest round-trip form); non-finite as null.
inline void write_json_number(std::ostream& os, double v) {
  if (!std::isfinite(v)) {
    os << "null";
    return;
  }
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) {
    os << "null";
    return;
  }
  os.write(buf, ptr - buf);
}

}  // namespace fulcrum::io::detail
