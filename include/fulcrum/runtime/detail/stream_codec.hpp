// SPDX-License-Identifier: Apache-2.0
/// @file runtime/detail/stream_codec.hpp
/// Little-endian byte writer and bounds-checked reader for the streaming batcher's state
/// (runtime/streaming_batcher.hpp). Integers are written as fixed-width little-endian bytes and
/// doubles as their IEEE-754 bit patterns, so a state is the same byte string on every platform.
/// The reader throws invalid_input naming the field when the bytes run out (a truncated state).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fulcrum/core/error.hpp"

namespace fulcrum::detail {

class stream_writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<std::byte>(v)); }
  void u32(std::uint32_t v) {
    for (int b = 0; b < 4; ++b) out_.push_back(static_cast<std::byte>((v >> (8 * b)) & 0xffU));
  }
  void u64(std::uint64_t v) {
    for (int b = 0; b < 8; ++b) out_.push_back(static_cast<std::byte>((v >> (8 * b)) & 0xffU));
  }
  void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
  [[nodiscard]] std::vector<std::byte>& bytes() noexcept { return out_; }

 private:
  std::vector<std::byte> out_;
};

class stream_reader {
 public:
  stream_reader(std::span<const std::byte> in, const char* where) : in_(in), where_(where) {}
  std::uint8_t u8(const char* field) {
    need(1, field);
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::uint32_t u32(const char* field) {
    need(4, field);
    std::uint32_t v = 0;
    for (unsigned b = 0; b < 4; ++b)
      v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(in_[pos_ + b])) << (8 * b);
    pos_ += 4;
    return v;
  }
  std::uint64_t u64(const char* field) {
    need(8, field);
    std::uint64_t v = 0;
    for (unsigned b = 0; b < 8; ++b)
      v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in_[pos_ + b])) << (8 * b);
    pos_ += 8;
    return v;
  }
  double f64(const char* field) { return std::bit_cast<double>(u64(field)); }
  /// A count of elements of `each` bytes that must still fit in the input (guards allocations).
  std::size_t count(const char* field, std::size_t each) {
    const std::uint64_t n = u64(field);
    if (each > 0 && n > (in_.size() - pos_) / each)
      throw invalid_input(describe(where_, field, n, "exceeds the bytes left in the state (truncated or corrupt)"));
    return static_cast<std::size_t>(n);
  }
  [[nodiscard]] std::size_t position() const noexcept { return pos_; }
  [[nodiscard]] std::size_t size() const noexcept { return in_.size(); }

 private:
  void need(std::size_t n, const char* field) const {
    if (in_.size() - pos_ < n)
      throw invalid_input(describe(where_, field, pos_, "state is truncated: the bytes end inside this field"));
  }
  std::span<const std::byte> in_;
  const char* where_;
  std::size_t pos_ = 0;
};

}  // namespace fulcrum::detail
