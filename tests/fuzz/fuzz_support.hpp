// Shared by the fuzz targets: a byte reader that decodes fuzz input into instance parameters,
// and a check that turns a failed independent check into a crash libFuzzer reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fulcrum/testing/checkers.hpp>

namespace fuzz {

class byte_reader {
 public:
  byte_reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  [[nodiscard]] bool empty() const { return pos_ >= size_; }
  [[nodiscard]] std::size_t remaining() const { return size_ - pos_; }
  template <class T>
  T take() {
    T value{};
    const std::size_t n = std::min(sizeof(T), remaining());
    std::memcpy(&value, data_ + pos_, n);
    pos_ += n;
    return value;
  }
  /// An integer in [lo, hi].
  std::uint64_t in_range(std::uint64_t lo, std::uint64_t hi) { return lo + take<std::uint64_t>() % (hi - lo + 1); }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

inline void require(const fulcrum::testing::check_result& r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "fuzz check failed: %s: %s\n", what, r.message.c_str());
    std::abort();
  }
}
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz check failed: %s\n", what);
    std::abort();
  }
}

}  // namespace fuzz
