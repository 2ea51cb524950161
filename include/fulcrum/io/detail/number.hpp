// SPDX-License-Identifier: Apache-2.0
/// @file io/detail/number.hpp
/// Exact reading of decimal number text (JSON number grammar: `-? digits (. digits)? ([eE] [+-]?
/// digits)?`) for the readers and the command line. Integers are decided on the decimal digits
/// themselves, never through a double: "1.0000000000000001" is not a whole number, "1e-400" is
/// not a whole number (rather than "too large"), "12.0" and "1.2e3" are. Reals go through
/// std::from_chars (correctly rounded) and report overflow and underflow separately.
/// O(length of the text); no allocation.
#pragma once

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace fulcrum::io::detail {

/// The parts of a decimal number's text.
struct decimal_parts {
  bool negative = false;
  std::string_view integer;   ///< digits before the point
  std::string_view fraction;  ///< digits after the point (may be empty)
  std::int64_t exponent = 0;  ///< saturated at +-10^15 (far beyond any meaningful value)
};

/// Splits `text` by the JSON number grammar; false if it is not a number of that form.
[[nodiscard]] constexpr bool split_decimal(std::string_view text, decimal_parts& out) noexcept {
  std::size_t i = 0;
  out = decimal_parts{};
  auto digits = [&] {
    const std::size_t from = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return text.substr(from, i - from);
  };
  if (i < text.size() && text[i] == '-') {
    out.negative = true;
    ++i;
  }
  out.integer = digits();
  if (out.integer.empty()) return false;
  if (i < text.size() && text[i] == '.') {
    ++i;
    out.fraction = digits();
    if (out.fraction.empty()) return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool minus = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) minus = text[i++] == '-';
    const std::string_view e = digits();
    if (e.empty()) return false;
    constexpr std::int64_t cap = 1'000'000'000'000'000;
    std::int64_t v = 0;
    for (char c : e) v = v >= cap ? cap : v * 10 + (c - '0');
    out.exponent = minus ? -v : v;
  }
  return i == text.size();
}

/// Result of reading a number's text as an integer.
enum class integer_status {
  ok,
  not_integer,  ///< has a non-zero fractional part (however small, e.g. 1e-400)
  negative,     ///< below zero (and a whole number or not)
  too_large,    ///< a whole number above the limit
  not_number    ///< not a number at all
};

/// Reads `text` as a non-negative integer <= `max`, exactly: "12", "12.0", "1.2e3" and "-0" are
/// whole numbers; "1.0000000000000001", "4294967295.0000001" and "1e-400" are not.
[[nodiscard]] constexpr integer_status to_unsigned(std::string_view text, std::uint64_t max,
                                                   std::uint64_t& out) noexcept {
  decimal_parts d;
  if (!split_decimal(text, d)) return integer_status::not_number;
  // Significant digits: integer then fraction digits, as one digit string D; value = D * 10^e.
  const std::size_t total = d.integer.size() + d.fraction.size();
  auto digit_at = [&](std::size_t k) { return k < d.integer.size() ? d.integer[k] : d.fraction[k - d.integer.size()]; };
  std::size_t first = 0, last = total;  // [first, last): D without leading and trailing zeros
  while (first < total && digit_at(first) == '0') ++first;
  if (first == total) {  // zero, whatever its sign or exponent
    out = 0;
    return integer_status::ok;
  }
  while (digit_at(last - 1) == '0') --last;
  if (d.negative) return integer_status::negative;
  // Exponent of the last significant digit: value = D[first, last) * 10^e (digit counts are far
  // below 10^15, so this cannot overflow).
  const std::int64_t e =
      d.exponent - static_cast<std::int64_t>(d.fraction.size()) + static_cast<std::int64_t>(total - last);
  if (e < 0) return integer_status::not_integer;
  const std::int64_t length = static_cast<std::int64_t>(last - first) + e;  // decimal digits of the value
  if (length > 20) return integer_status::too_large;
  std::uint64_t v = 0;
  for (std::int64_t k = 0; k < length; ++k) {
    const auto pos = first + static_cast<std::size_t>(k);
    const unsigned digit = pos < last ? static_cast<unsigned>(digit_at(pos) - '0') : 0u;
    if (v > (UINT64_MAX - digit) / 10) return integer_status::too_large;
    v = v * 10 + digit;
  }
  if (v > max) return integer_status::too_large;
  out = v;
  return integer_status::ok;
}

/// Result of reading a number's text as a finite double.
enum class real_status {
  ok,
  not_number,  ///< not a number of the JSON grammar
  overflow,    ///< magnitude beyond the largest double
  underflow    ///< non-zero but too small for a double (it would round to 0)
};

/// std::from_chars for a double. libc++ before 17 has only the integer overloads: there the text
/// (already checked against the JSON number grammar by the caller) goes through strtod, also
/// correctly rounded.
inline std::from_chars_result chars_to_double(const char* first, const char* last, double& d) noexcept {
#if defined(_LIBCPP_VERSION) && _LIBCPP_VERSION < 170000
  const std::string copy(first, last);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(copy.c_str(), &end);
  if (end == copy.c_str()) return {first, std::errc::invalid_argument};
  const char* ptr = first + (end - copy.c_str());
  // strtod reports ERANGE for subnormal results too; from_chars accepts them: only 0 and inf are out of range.
  if (errno == ERANGE && (v == 0 || !std::isfinite(v))) return {ptr, std::errc::result_out_of_range};
  d = v;
  return {ptr, std::errc()};
#else
  return std::from_chars(first, last, d);
#endif
}

/// Reads `text` as a finite double, correctly rounded (std::from_chars).
[[nodiscard]] inline real_status to_real(std::string_view text, double& out) noexcept {
  decimal_parts d;
  if (!split_decimal(text, d)) return real_status::not_number;
  double v = 0;
  const auto [ptr, ec] = chars_to_double(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && !std::isfinite(v))) {
    // Which side: the decimal position of the leading significant digit.
    const std::size_t total = d.integer.size() + d.fraction.size();
    std::size_t first = 0;
    auto digit_at = [&](std::size_t k) {
      return k < d.integer.size() ? d.integer[k] : d.fraction[k - d.integer.size()];
    };
    while (first < total && digit_at(first) == '0') ++first;
    const std::int64_t lead =
        d.exponent + static_cast<std::int64_t>(d.integer.size()) - static_cast<std::int64_t>(first);
    return lead > 0 ? real_status::overflow : real_status::underflow;
  }
  if (ec != std::errc() || ptr != text.data() + text.size()) return real_status::not_number;
  out = v == 0 ? 0.0 : v;  // "-0" reads as 0
  return real_status::ok;
}

/// What is wrong with a number that is not an integer in 0..max, in words ("is negative",
/// "is not a whole number", "exceeds 4294967295", "is not a number"); empty for ok.
[[nodiscard]] inline std::string integer_problem(integer_status s, std::uint64_t max) {
  switch (s) {
    case integer_status::ok:
      return {};
    case integer_status::not_integer:
      return "is not a whole number";
    case integer_status::negative:
      return "is negative";
    case integer_status::too_large:
      return "exceeds " + std::to_string(max);
    case integer_status::not_number:
      return "is not a number";
  }
  return "is not a number";
}

/// What is wrong with a number that is not a finite double, in words; empty for ok.
[[nodiscard]] inline std::string real_problem(real_status s) {
  switch (s) {
    case real_status::ok:
      return {};
    case real_status::not_number:
      return "is not a number";
    case real_status::overflow:
      return "is too large for a double (above 1.8e308)";
    case real_status::underflow:
      return "is too small for a double: it is not 0 but would round to 0 (below 4.9e-324)";
  }
  return "is not a number";
}

}  // namespace fulcrum::io::detail
