// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/room_stacks.hpp
/// One last-in-first-out stack of bins per remaining room r in [0, rooms), stored in 64-byte chunks
/// of 15 bins taken from one pool (no allocation per room), plus a successor bitmap over the
/// non-empty rooms. push/pop are O(1) and touch the stack's top chunk only (cache resident), so a
/// walk down one room's stack is sequential, unlike an intrusive list threaded through the bins.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/detail/successor_bitmap.hpp"

namespace fulcrum::detail {

template <class = void>
class basic_room_stacks {
 public:
  basic_room_stacks(std::size_t rooms, std::size_t expected_bins) : heads_(rooms, head{no_chunk, 0}), nonempty_(rooms) {
    chunks_.reserve(expected_bins / 4 + 16);
  }

  /// Smallest non-empty room >= r, or successor_bitmap::none.
  [[nodiscard]] std::size_t next(std::size_t r) const noexcept { return nonempty_.next(r); }
  [[nodiscard]] bool empty(std::size_t r) const noexcept { return heads_[r].chunk == no_chunk; }

  /// Removes the top bin of room r's stack (which must be non-empty).
  index_type pop(std::size_t r) noexcept {
    head& h = heads_[r];
    chunk& c = chunks_[h.chunk];
    const index_type b = c.bins[--h.fill];
    if (h.fill == 0) {
      const std::uint32_t freed = h.chunk;
      h.chunk = c.next;
      h.fill = per_chunk;
      c.next = free_;
      free_ = freed;
      if (h.chunk == no_chunk) nonempty_.erase(r);
    }
    return b;
  }

  void push(std::size_t r, index_type b) {
    head& h = heads_[r];
    if (h.chunk == no_chunk || h.fill == per_chunk) {
      if (h.chunk == no_chunk) nonempty_.insert(r);
      std::uint32_t c = free_;
      if (c != no_chunk) {
        free_ = chunks_[c].next;
      } else {
        c = static_cast<std::uint32_t>(chunks_.size());
        chunks_.emplace_back();
      }
      chunks_[c].next = h.chunk;
      h.chunk = c;
      h.fill = 0;
    }
    chunks_[h.chunk].bins[h.fill++] = b;
  }

  /// Calls f(room, bin) for every stored bin.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t r = 0; r < heads_.size(); ++r)
      for (std::uint32_t c = heads_[r].chunk, fill = heads_[r].fill; c != no_chunk;
           c = chunks_[c].next, fill = per_chunk)
        for (std::uint32_t k = 0; k < fill; ++k) f(r, chunks_[c].bins[k]);
  }

 private:
  static constexpr std::uint32_t per_chunk = 15;
  static constexpr std::uint32_t no_chunk = 0xffffffffU;
  struct chunk {
    index_type bins[per_chunk];
    std::uint32_t next;
  };
  struct head {
    std::uint32_t chunk;
    std::uint32_t fill;
  };
  std::vector<head> heads_;
  std::vector<chunk> chunks_;
  std::uint32_t free_ = no_chunk;
  successor_bitmap nonempty_;
};
using room_stacks = basic_room_stacks<>;

}  // namespace fulcrum::detail
