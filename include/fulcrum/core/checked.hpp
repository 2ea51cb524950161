// SPDX-License-Identifier: Apache-2.0
/// @file core/checked.hpp
/// Overflow-checked integer arithmetic for sums of sizes. Overflow throws `invalid_input` naming
/// the field, instead of wrapping around silently.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/wide_int.hpp"

namespace fulcrum {

/// a + b for unsigned 64-bit sizes; throws invalid_input("<field>: sum overflows 64 bits") on overflow.
[[nodiscard]] inline std::uint64_t checked_add(std::uint64_t a, std::uint64_t b, std::string_view field = "sum") {
  std::uint64_t r = 0;
  if (add_overflow(a, b, r))
    throw invalid_input(detail::describe("checked_add", field, a, "adding it overflows 64 bits"));
  return r;
}

/// a * b for unsigned 64-bit sizes; throws invalid_input on overflow.
[[nodiscard]] inline std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, std::string_view field = "product") {
  std::uint64_t r = 0;
  if (mul_overflow(a, b, r))
    throw invalid_input(detail::describe("checked_mul", field, a, "multiplying it overflows 64 bits"));
  return r;
}

}  // namespace fulcrum
