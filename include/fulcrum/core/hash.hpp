// SPDX-License-Identifier: Apache-2.0
/// @file core/hash.hpp
/// `fnv1a64`: the one 64-bit FNV-1a hasher of the library (plan fingerprints, payload checksums).
/// Streaming: feed bytes or integers, read `value()`. Integers are fed as their 8 little-endian
/// bytes, so equal inputs give equal hashes on every platform. O(1) per byte; constexpr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

namespace fulcrum {

class fnv1a64 {
 public:
  static constexpr std::uint64_t offset_basis = 0xcbf29ce484222325ULL;
  static constexpr std::uint64_t prime = 0x100000001b3ULL;

  constexpr fnv1a64() noexcept = default;
  /// Starts from another basis (a seed) instead of the standard offset basis.
  constexpr explicit fnv1a64(std::uint64_t basis) noexcept : h_(basis) {}

  /// Mixes one byte.
  constexpr fnv1a64& byte(std::uint8_t b) noexcept {
    h_ ^= b;
    h_ *= prime;
    return *this;
  }
  /// Mixes a byte string in order.
  constexpr fnv1a64& bytes(std::span<const std::byte> data) noexcept {
    for (std::byte b : data) byte(static_cast<std::uint8_t>(b));
    return *this;
  }
  /// Mixes an integer as 8 little-endian bytes (whatever its own width and the platform's order).
  template <class T>
  requires std::is_integral_v<T>
  constexpr fnv1a64& integer(T value) noexcept {
    const auto v = static_cast<std::uint64_t>(value);
    for (int b = 0; b < 8; ++b) byte(static_cast<std::uint8_t>((v >> (8 * b)) & 0xffU));
    return *this;
  }
  /// Mixes every integer of a span, in order (each as 8 little-endian bytes).
  template <class T>
  requires std::is_integral_v<T>
  constexpr fnv1a64& integers(std::span<const T> values) noexcept {
    for (T v : values) integer(v);
    return *this;
  }
  /// The hash of everything mixed so far (offset_basis when nothing was).
  [[nodiscard]] constexpr std::uint64_t value() const noexcept { return h_; }

 private:
  std::uint64_t h_ = offset_basis;
};

/// FNV-1a of a byte string.
[[nodiscard]] constexpr std::uint64_t fnv1a64_bytes(std::span<const std::byte> data) noexcept {
  return fnv1a64{}.bytes(data).value();
}

}  // namespace fulcrum
