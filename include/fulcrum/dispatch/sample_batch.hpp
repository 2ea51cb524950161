// SPDX-License-Identifier: Apache-2.0
/// @file dispatch/sample_batch.hpp
/// Containers the dispatcher moves between ranks:
///   - `byte_table`: n variable-length byte strings stored CSR-style (offsets + one buffer);
///   - `sample_batch<Meta>`: n samples, each a small transferable metadata record (sizes per
///     modality, e.g. multimodal_sample) plus its payload bytes (token ids, pixels, embeddings).
/// O(1) amortized push_back, O(1) access; payloads are contiguous so an exchange is one copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum {

/// n byte strings, CSR: string i is bytes()[offsets()[i] .. offsets()[i+1]).
class byte_table {
 public:
  byte_table() : offsets_{0} {}
  /// From CSR arrays; throws invalid_input if offsets are not a valid CSR index into bytes.
  byte_table(std::vector<std::size_t> offsets, std::vector<std::byte> bytes)
      : offsets_(std::move(offsets)), bytes_(std::move(bytes)) {
    if (offsets_.empty() || offsets_.front() != 0) throw invalid_input("byte_table: offsets must start with 0");
    for (std::size_t i = 1; i < offsets_.size(); ++i)
      if (offsets_[i] < offsets_[i - 1])
        throw invalid_input(
            detail::describe("byte_table", "offsets", i, offsets_[i], "is smaller than the previous offset"));
    if (offsets_.back() != bytes_.size())
      throw invalid_input(detail::describe("byte_table", "offsets", offsets_.size() - 1, offsets_.back(),
                                           "last offset must equal the number of bytes"));
  }

  void push_back(std::span<const std::byte> value) {
    bytes_.insert(bytes_.end(), value.begin(), value.end());
    offsets_.push_back(bytes_.size());
  }
  void reserve(std::size_t n, std::size_t bytes) {
    offsets_.reserve(n + 1);
    bytes_.reserve(bytes);
  }
  [[nodiscard]] std::size_t size() const noexcept { return offsets_.size() - 1; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] std::span<const std::byte> operator[](std::size_t i) const {
    return std::span<const std::byte>(bytes_).subspan(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  [[nodiscard]] std::size_t size_of(std::size_t i) const { return offsets_[i + 1] - offsets_[i]; }
  [[nodiscard]] std::span<const std::size_t> offsets() const noexcept { return offsets_; }
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return bytes_; }
  [[nodiscard]] std::size_t total_bytes() const noexcept { return bytes_.size(); }

  friend bool operator==(const byte_table&, const byte_table&) = default;

 private:
  std::vector<std::size_t> offsets_;
  std::vector<std::byte> bytes_;
};

/// A rank's samples: metadata record + payload bytes per sample.
template <transferable Meta>
class sample_batch {
 public:
  using meta_type = Meta;

  void push_back(const Meta& meta, std::span<const std::byte> payload) {
    meta_.push_back(meta);
    payload_.push_back(payload);
  }
  void reserve(std::size_t n, std::size_t bytes) {
    meta_.reserve(n);
    payload_.reserve(n, bytes);
  }
  [[nodiscard]] std::size_t size() const noexcept { return meta_.size(); }
  [[nodiscard]] bool empty() const noexcept { return meta_.empty(); }
  [[nodiscard]] const Meta& meta(std::size_t i) const { return meta_[i]; }
  [[nodiscard]] std::span<const std::byte> payload(std::size_t i) const { return payload_[i]; }
  [[nodiscard]] std::span<const Meta> metas() const noexcept { return meta_; }
  [[nodiscard]] const byte_table& payloads() const noexcept { return payload_; }

  friend bool operator==(const sample_batch&, const sample_batch&) = default;

 private:
  std::vector<Meta> meta_;
  byte_table payload_;
};

}  // namespace fulcrum
