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
#include <limits>
#include <sstream>
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

template <class T>
void append_value(std::ostringstream& os, const T& value) {
  if constexpr (std::is_floating_point_v<T>) {
    os.precision(std::numeric_limits<T>::max_digits10);
    os << value;
  } else if constexpr (std::is_same_v<T, unsigned char> || std::is_same_v<T, signed char> ||
                       std::is_same_v<T, char>) {
    os << static_cast<int>(value);
  } else {
    os << value;
  }
}

/// "fn: field[index] = value: reason" — the shape of every fulcrum error message.
template <class T>
std::string describe(std::string_view where, std::string_view field, std::size_t index, const T& value,
                     std::string_view reason) {
  std::ostringstream os;
  os << where << ": " << field << '[' << index << "] = ";
  append_value(os, value);
  os << ": " << reason;
  return os.str();
}

/// "fn: field = value: reason" for scalar parameters.
template <class T>
std::string describe(std::string_view where, std::string_view field, const T& value, std::string_view reason) {
  std::ostringstream os;
  os << where << ": " << field << " = ";
  append_value(os, value);
  os << ": " << reason;
  return os.str();
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
