// SPDX-License-Identifier: Apache-2.0
/// @file core/wide_int.hpp
/// Portable 128-bit integers and overflow-detecting 64-bit arithmetic: the one place fulcrum
/// names a compiler's 128-bit type.
///
/// - `uint128` / `int128`: the compiler's `unsigned __int128` / `__int128` where it has one (g++,
///   clang), else `detail::portable_uint128` / `detail::portable_int128` (two 64-bit limbs, the same
///   operators: + - * / % << >>, comparisons, explicit conversions to integers and double). Define
///   FULCRUM_PORTABLE_INT128 to force the portable types (the unit tests check both agree).
/// - `add_overflow(a, b, r)` / `mul_overflow(a, b, r)`: 64-bit unsigned a+b / a*b into r, returning
///   true on overflow (`__builtin_*_overflow` where available, else portable code).
/// - `mul_wide(a, b)`: the full 128-bit product of two 64-bit values as {high, low} limbs.
/// Every operation is O(1) except the portable division (O(128)). Results are identical on every
/// platform (plain integer arithmetic, no floating point except the explicit double conversion).
#pragma once

#include <compare>
#include <concepts>
#include <cstdint>
#include <type_traits>

#if defined(__SIZEOF_INT128__) && !defined(FULCRUM_PORTABLE_INT128)
#define FULCRUM_BUILTIN_INT128 1
#endif

namespace fulcrum {

/// {high, low} 64-bit limbs of a 128-bit value.
struct wide_parts {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
};

/// The full product a * b as {high, low} limbs. O(1).
[[nodiscard]] constexpr wide_parts mul_wide(std::uint64_t a, std::uint64_t b) noexcept {
#if defined(FULCRUM_BUILTIN_INT128)
  __extension__ const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  return {static_cast<std::uint64_t>(p >> 64), static_cast<std::uint64_t>(p)};
#else
  const std::uint64_t a_lo = a & 0xffffffffULL, a_hi = a >> 32, b_lo = b & 0xffffffffULL, b_hi = b >> 32;
  const std::uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
  const std::uint64_t mid = (ll >> 32) + (lh & 0xffffffffULL) + (hl & 0xffffffffULL);
  return {hh + (lh >> 32) + (hl >> 32) + (mid >> 32), (mid << 32) | (ll & 0xffffffffULL)};
#endif
}

/// r = a + b; true when the sum does not fit in 64 bits (r then holds the wrapped sum).
[[nodiscard]] constexpr bool add_overflow(std::uint64_t a, std::uint64_t b, std::uint64_t& r) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_add_overflow(a, b, &r);
#else
  r = a + b;
  return r < a;
#endif
}

/// r = a * b; true when the product does not fit in 64 bits (r then holds the wrapped product).
[[nodiscard]] constexpr bool mul_overflow(std::uint64_t a, std::uint64_t b, std::uint64_t& r) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_mul_overflow(a, b, &r);
#else
  const wide_parts p = mul_wide(a, b);
  r = p.low;
  return p.high != 0;
#endif
}

namespace detail {

/// Unsigned 128-bit integer from two 64-bit limbs, with the arithmetic of `unsigned __int128`
/// (wrap-around modulo 2^128). Division by zero is undefined, as for the builtin.
class portable_uint128 {
 public:
  constexpr portable_uint128() noexcept = default;
  /// From any integer, as the builtin converts it (negative values sign-extend).
  template <std::integral T>
  constexpr portable_uint128(T v) noexcept  // NOLINT(google-explicit-constructor): behaves like a builtin
      : hi_(sign_fill(v)), lo_(static_cast<std::uint64_t>(v)) {}
  constexpr portable_uint128(wide_parts p) noexcept : hi_(p.high), lo_(p.low) {}

  [[nodiscard]] constexpr std::uint64_t high() const noexcept { return hi_; }
  [[nodiscard]] constexpr std::uint64_t low() const noexcept { return lo_; }

  template <std::integral T>
  constexpr explicit operator T() const noexcept {
    return static_cast<T>(lo_);
  }
  constexpr explicit operator bool() const noexcept { return (hi_ | lo_) != 0; }
  /// Correctly rounded, as the builtin: the top 64 bits with a sticky bit for the rest, scaled.
  constexpr explicit operator double() const noexcept {
    if (hi_ == 0) return static_cast<double>(lo_);
    int shift = 0;
    while (shift < 64 && (hi_ >> shift) != 0) ++shift;
    const std::uint64_t rest = shift == 64 ? lo_ : lo_ & ((std::uint64_t{1} << shift) - 1);
    const std::uint64_t top = (shift == 64 ? hi_ : (hi_ << (64 - shift)) | (lo_ >> shift)) | (rest != 0 ? 1U : 0U);
    double scale = 1;
    for (int i = 0; i < shift; ++i) scale *= 2;
    return static_cast<double>(top) * scale;
  }

  friend constexpr portable_uint128 operator+(portable_uint128 a, portable_uint128 b) noexcept {
    const std::uint64_t lo = a.lo_ + b.lo_;
    return wide_parts{a.hi_ + b.hi_ + (lo < a.lo_ ? 1U : 0U), lo};
  }
  friend constexpr portable_uint128 operator-(portable_uint128 a, portable_uint128 b) noexcept {
    return wide_parts{a.hi_ - b.hi_ - (a.lo_ < b.lo_ ? 1U : 0U), a.lo_ - b.lo_};
  }
  friend constexpr portable_uint128 operator*(portable_uint128 a, portable_uint128 b) noexcept {
    wide_parts p = mul_wide(a.lo_, b.lo_);
    p.high += a.hi_ * b.lo_ + a.lo_ * b.hi_;
    return p;
  }
  friend constexpr portable_uint128 operator<<(portable_uint128 a, int s) noexcept {
    if (s <= 0) return a;
    if (s >= 128) return {};
    if (s >= 64) return wide_parts{a.lo_ << (s - 64), 0};
    return wide_parts{(a.hi_ << s) | (a.lo_ >> (64 - s)), a.lo_ << s};
  }
  friend constexpr portable_uint128 operator>>(portable_uint128 a, int s) noexcept {
    if (s <= 0) return a;
    if (s >= 128) return {};
    if (s >= 64) return wide_parts{0, a.hi_ >> (s - 64)};
    return wide_parts{a.hi_ >> s, (a.lo_ >> s) | (a.hi_ << (64 - s))};
  }
  /// Quotient and remainder by shift-and-subtract. O(128).
  friend constexpr void divide(portable_uint128 a, portable_uint128 b, portable_uint128& q,
                               portable_uint128& r) noexcept {
    q = {};
    r = {};
    for (int bit = 127; bit >= 0; --bit) {
      r = r << 1;
      if (((a >> bit).lo_ & 1U) != 0) r.lo_ |= 1U;
      if (r >= b) {
        r = r - b;
        if (bit >= 64) {
          q.hi_ |= std::uint64_t{1} << (bit - 64);
        } else {
          q.lo_ |= std::uint64_t{1} << bit;
        }
      }
    }
  }
  friend constexpr portable_uint128 operator/(portable_uint128 a, portable_uint128 b) noexcept {
    portable_uint128 q, r;
    divide(a, b, q, r);
    return q;
  }
  friend constexpr portable_uint128 operator%(portable_uint128 a, portable_uint128 b) noexcept {
    portable_uint128 q, r;
    divide(a, b, q, r);
    return r;
  }
  friend constexpr bool operator==(portable_uint128 a, portable_uint128 b) noexcept = default;
  friend constexpr std::strong_ordering operator<=>(portable_uint128 a, portable_uint128 b) noexcept {
    if (a.hi_ != b.hi_) return a.hi_ <=> b.hi_;
    return a.lo_ <=> b.lo_;
  }

  constexpr portable_uint128& operator+=(portable_uint128 b) noexcept { return *this = *this + b; }
  constexpr portable_uint128& operator-=(portable_uint128 b) noexcept { return *this = *this - b; }
  constexpr portable_uint128& operator*=(portable_uint128 b) noexcept { return *this = *this * b; }
  constexpr portable_uint128& operator/=(portable_uint128 b) noexcept { return *this = *this / b; }
  constexpr portable_uint128& operator%=(portable_uint128 b) noexcept { return *this = *this % b; }

 private:
  template <std::integral T>
  static constexpr std::uint64_t sign_fill(T v) noexcept {
    if constexpr (std::is_signed_v<T>) {
      return v < T{0} ? ~std::uint64_t{0} : 0;
    } else {
      return 0;
    }
  }
  std::uint64_t hi_ = 0;
  std::uint64_t lo_ = 0;
};

/// Signed 128-bit integer (two's complement over portable_uint128): + - * and signed comparisons.
class portable_int128 {
 public:
  constexpr portable_int128() noexcept = default;
  template <std::integral T>
  constexpr portable_int128(T v) noexcept : bits_(v) {}  // NOLINT(google-explicit-constructor)

  template <std::integral T>
  constexpr explicit operator T() const noexcept {
    return static_cast<T>(bits_.low());
  }
  constexpr explicit operator double() const noexcept {
    return negative() ? -static_cast<double>(portable_uint128{} - bits_) : static_cast<double>(bits_);
  }

  friend constexpr portable_int128 operator+(portable_int128 a, portable_int128 b) noexcept {
    return from(a.bits_ + b.bits_);
  }
  friend constexpr portable_int128 operator-(portable_int128 a, portable_int128 b) noexcept {
    return from(a.bits_ - b.bits_);
  }
  friend constexpr portable_int128 operator*(portable_int128 a, portable_int128 b) noexcept {
    return from(a.bits_ * b.bits_);
  }
  friend constexpr portable_int128 operator-(portable_int128 a) noexcept { return from(portable_uint128{} - a.bits_); }
  friend constexpr bool operator==(portable_int128 a, portable_int128 b) noexcept = default;
  friend constexpr std::strong_ordering operator<=>(portable_int128 a, portable_int128 b) noexcept {
    if (a.negative() != b.negative()) return a.negative() ? std::strong_ordering::less : std::strong_ordering::greater;
    return a.bits_ <=> b.bits_;
  }
  constexpr portable_int128& operator+=(portable_int128 b) noexcept { return *this = *this + b; }
  constexpr portable_int128& operator-=(portable_int128 b) noexcept { return *this = *this - b; }

 private:
  [[nodiscard]] constexpr bool negative() const noexcept { return (bits_.high() >> 63) != 0; }
  static constexpr portable_int128 from(portable_uint128 bits) noexcept {
    portable_int128 r;
    r.bits_ = bits;
    return r;
  }
  portable_uint128 bits_;
};

}  // namespace detail

#if defined(FULCRUM_BUILTIN_INT128)
__extension__ typedef unsigned __int128 uint128;  ///< the builtin (g++, clang)
__extension__ typedef __int128 int128;            ///< the builtin (g++, clang)
#else
using uint128 = detail::portable_uint128;
using int128 = detail::portable_int128;
#endif

}  // namespace fulcrum
