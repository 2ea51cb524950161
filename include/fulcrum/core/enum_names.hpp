// SPDX-License-Identifier: Apache-2.0
/// @file core/enum_names.hpp
/// One name per enumerator, for every public enum of the library: `to_string(e)`,
/// `try_parse_enum<E>(text)` (std::optional), `parse_enum<E>(text)` (throws invalid_input naming
/// the value and listing the choices) and `enum_choices<E>()` (every name, in declaration order).
///
/// Mechanism: next to each enum, a constexpr `enum_table(E)` found by argument-dependent lookup
/// returns an `enum_names_table<E, N>`: the enum's name and the names of its enumerators 0..N-1
/// in declaration order (the public enums are dense from 0). Any enum with such a table,
/// including a user's own, gets the functions below. Lookups are linear in N (tables are small).
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "fulcrum/core/error.hpp"

namespace fulcrum {

/// The names of an enum: `type` names the enum in messages; names[i] names static_cast<E>(i).
template <class E, std::size_t N>
struct enum_names_table {
  std::string_view type;
  std::array<std::string_view, N> names;
};

/// An enum with a name table (`enum_table(E{})` found by argument-dependent lookup).
template <class E>
concept named_enum = std::is_enum_v<E> && requires(E e) {
  { enum_table(e).type } -> std::convertible_to<std::string_view>;
  enum_table(e).names.size();
};

/// The name of `value` ("unknown" for a value outside the enumerators).
template <named_enum E>
[[nodiscard]] constexpr std::string_view to_string(E value) noexcept {
  const auto table = enum_table(E{});
  const auto i = static_cast<std::size_t>(static_cast<std::underlying_type_t<E>>(value));
  return i < table.names.size() ? table.names[i] : std::string_view("unknown");
}

/// The enumerator named `text` (exact, case-sensitive match), or std::nullopt.
template <named_enum E>
[[nodiscard]] constexpr std::optional<E> try_parse_enum(std::string_view text) noexcept {
  const auto table = enum_table(E{});
  for (std::size_t i = 0; i < table.names.size(); ++i)
    if (table.names[i] == text) return static_cast<E>(i);
  return std::nullopt;
}

/// Every name of E, in declaration order (e.g. the choices of a command-line option).
template <named_enum E>
[[nodiscard]] std::vector<std::string> enum_choices() {
  std::vector<std::string> names;
  for (std::string_view name : enum_table(E{}).names) names.emplace_back(name);
  return names;
}

/// The enumerator named `text`. Throws invalid_input "<field> = <text>: not a <enum>; choices: a, b, c".
/// `field` names what was parsed (an option, a JSON key); the enum's own name by default.
template <named_enum E>
[[nodiscard]] E parse_enum(std::string_view text, std::string_view field = {}) {
  if (const auto value = try_parse_enum<E>(text)) return *value;
  const auto table = enum_table(E{});
  std::string message(field.empty() ? table.type : field);
  message += " = ";
  message += text;
  message += ": not a ";
  message += table.type;
  message += "; choices: ";
  bool first = true;
  for (std::string_view name : table.names) {
    if (!first) message += ", ";
    message += name;
    first = false;
  }
  throw invalid_input(message);
}

}  // namespace fulcrum
