// SPDX-License-Identifier: Apache-2.0
/// @file core/error.hpp
/// The exceptions fulcrum throws. Every message names the offending field, item index and value,
/// and no partial result is ever returned together with an exception.
///
/// - `invalid_input` (std::invalid_argument): the input itself is malformed: negative or NaN cost,
///   zero capacity, k == 0, mismatched dimensions, overflow of a sum.
/// - `infeasible` (std::runtime_error): the input is well formed but no solution exists under the
///   constraints: item larger than the capacity (oversize::error), memory budget too small.
/// - `comm_error` (std::runtime_error): a collective failed: peer failure, timeout, plans differ.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <iosfwd>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace fulcrum {

/// Malformed input (see file docs). Derives from std::invalid_argument.
struct invalid_input : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// Well-formed input with no feasible solution. Derives from std::runtime_error.
struct infeasible : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A collective operation failed on this or another rank. Derives from std::runtime_error.
struct comm_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {

template <class T, class...>
struct dependent_type {
  using type = T;
};

/// Appends `value` as `std::ostream <<` prints it in the classic locale (floating point with
/// max_digits10 significant digits, the "%g" form streams use; character types as numbers),
/// without <sstream> in the headers. Other streamable types go through a std::ostringstream and
/// need <sstream> in the calling TU.
template <class T>
void append_value(std::string& out, const T& value) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[64];
    const int len = std::is_same_v<T, long double>
                        ? std::snprintf(buf, sizeof buf, "%.*Lg", std::numeric_limits<T>::max_digits10,
                                        static_cast<long double>(value))
                        : std::snprintf(buf, sizeof buf, "%.*g", std::numeric_limits<T>::max_digits10,
                                        static_cast<double>(value));
    out.append(buf, static_cast<std::size_t>(len > 0 ? len : 0));
  } else if constexpr (std::is_same_v<T, bool>) {
    out += value ? '1' : '0';
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    out += std::to_string(static_cast<long long>(value));
  } else if constexpr (std::is_integral_v<T>) {
    out += std::to_string(static_cast<unsigned long long>(value));
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    out += std::string_view(value);
  } else if constexpr (std::is_enum_v<T> && std::is_convertible_v<T, long long>) {
    out += std::to_string(static_cast<long long>(value));
  } else {
    typename dependent_type<std::ostringstream, T>::type os;
    os << value;
    out += os.str();
  }
}

/// "fn: field[index] = value: reason" — the shape of every fulcrum error message.
template <class T>
std::string describe(std::string_view where, std::string_view field, std::size_t index, const T& value,
                     std::string_view reason) {
  std::string out;
  out.append(where).append(": ").append(field).append("[").append(std::to_string(index)).append("] = ");
  append_value(out, value);
  out.append(": ").append(reason);
  return out;
}

/// "fn: field = value: reason" for scalar parameters.
template <class T>
std::string describe(std::string_view where, std::string_view field, const T& value, std::string_view reason) {
  std::string out;
  out.append(where).append(": ").append(field).append(" = ");
  append_value(out, value);
  out.append(": ").append(reason);
  return out;
}

/// Throws invalid_input naming `field[index] = value` unless `value` is a finite, non-negative number.
template <class T>
void require_non_negative(std::string_view where, std::string_view field, std::size_t index, T value) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(value)) throw invalid_input(describe(where, field, index, value, "is NaN"));
    if (std::isinf(value)) throw invalid_input(describe(where, field, index, value, "is infinite"));
  }
  if constexpr (std::is_signed_v<T>) {
    if (value < T{0}) throw invalid_input(describe(where, field, index, value, "is negative"));
  }
}

}  // namespace detail
}  // namespace fulcrum
