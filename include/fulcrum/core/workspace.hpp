// SPDX-License-Identifier: Apache-2.0
/// @file core/workspace.hpp
/// `workspace`: caller-owned scratch memory that a front door reuses across calls, so that a trainer
/// planning one batch per step stops paying the allocator (and, for large batches, the page faults
/// of memory the allocator handed back to the kernel) on every call.
///
/// What it is: a bump arena. While a call runs with a workspace (balance(items, k, ws, out, ...),
/// balance/balance.hpp), every temporary buffer of the algorithm comes from it; when the call
/// returns, everything is released at once and the memory stays with the workspace. Blocks grow
/// as needed; after a call that needed more than one block they are merged into one block of the
/// total size, so from the second call of a similar shape on, the call allocates nothing for its
/// scratch. Memory held: about the largest scratch of one call (a few times the input size).
/// Plans never depend on it: with or without a workspace the same input gives the same plan.
///
/// Rules: one workspace per thread at a time (a second thread activating a workspace in use gets
/// invalid_input); the workspace must outlive the calls that use it; it is movable while no call
/// uses it. Tasks that an algorithm hands to an executor on other threads allocate from the heap.
/// `release()` frees the memory (the next call starts again with none).
#pragma once

#include <algorithm>
#include <cstddef>
#include <new>
#include <utility>
#include <vector>

#include "fulcrum/core/error.hpp"

#if !defined(__GNUC__) && !defined(__clang__)
#include <atomic>
#endif

namespace fulcrum {

namespace detail {
class workspace_scope;
struct scratch_memory;
}  // namespace detail

/// Caller-owned scratch memory reused across calls (see the file docs). Not thread-safe: one per thread.
class workspace {
 public:
  workspace() = default;
  workspace(const workspace&) = delete;
  workspace& operator=(const workspace&) = delete;
  workspace(workspace&& other) noexcept { swap(other); }
  workspace& operator=(workspace&& other) noexcept {
    if (this != &other) {
      release();
      swap(other);
    }
    return *this;
  }
  ~workspace() { release(); }

  /// Bytes held (the sum of the blocks' sizes).
  [[nodiscard]] std::size_t capacity() const noexcept {
    std::size_t total = 0;
    for (const block& b : blocks_) total += b.size;
    return total;
  }
  /// The most bytes one call had in use at once, over every call since construction or release().
  [[nodiscard]] std::size_t peak() const noexcept { return peak_; }
  /// Blocks allocated from the heap since construction or release() (steady state: no new ones).
  [[nodiscard]] std::size_t blocks_allocated() const noexcept { return blocks_allocated_; }
  /// Frees every block. Must not be called while a call uses the workspace.
  void release() noexcept {
    for (const block& b : blocks_) ::operator delete (b.data, std::align_val_t{alignment});
    blocks_.clear();
    blocks_.shrink_to_fit();
    used_ = 0;
    in_call_ = 0;
    peak_ = 0;
    blocks_allocated_ = 0;
  }

 private:
  friend class detail::workspace_scope;
  friend struct detail::scratch_memory;

  static constexpr std::size_t alignment = 64;  // blocks start on a cache line
  static constexpr std::size_t granule = 16;    // every allocation is a multiple of it (and aligned to it)
  static constexpr std::size_t min_block = 1 << 16;

  struct block {
    std::byte* data;
    std::size_t size;
  };

  void swap(workspace& other) noexcept {
    blocks_.swap(other.blocks_);
    std::swap(used_, other.used_);
    std::swap(in_call_, other.in_call_);
    std::swap(peak_, other.peak_);
    std::swap(blocks_allocated_, other.blocks_allocated_);
  }

  // `bytes` is a multiple of granule. From the last block, or from a new one.
  std::byte* allocate(std::size_t bytes) {
    if (blocks_.empty() || blocks_.back().size - used_ < bytes) {
      const std::size_t last = blocks_.empty() ? 0 : blocks_.back().size;
      const std::size_t size = std::max({bytes, min_block, 2 * last});
      blocks_.reserve(blocks_.size() + 1);  // before the block: nothing leaks if it throws
      auto* data = static_cast<std::byte*>(::operator new (size, std::align_val_t{alignment}));
      blocks_.push_back(block{data, size});
      ++blocks_allocated_;
      used_ = 0;
    }
    std::byte* p = blocks_.back().data + used_;
    used_ += bytes;
    in_call_ += bytes;
    peak_ = std::max(peak_, in_call_);
    return p;
  }
  // Gives back the last allocation of the current block (a vector that grows, a temporary that
  // dies first); anything else is reclaimed when the call ends.
  void deallocate(std::byte* p, std::size_t bytes) noexcept {
    if (!blocks_.empty() && p + bytes == blocks_.back().data + used_ && used_ >= bytes) {
      used_ -= bytes;
      in_call_ -= bytes;
    }
  }
  // The end of a call: everything is free again; several blocks become one of their total size.
  void reset() noexcept {
    used_ = 0;
    in_call_ = 0;
    if (blocks_.size() <= 1) return;
    const std::size_t total = capacity();
    for (const block& b : blocks_) ::operator delete (b.data, std::align_val_t{alignment});
    blocks_.clear();
    // Without memory for the merged block the workspace just starts empty again.
    auto* data = static_cast<std::byte*>(::operator new (total, std::align_val_t{alignment}, std::nothrow));
    if (data != nullptr) {
      blocks_.push_back(block{data, total});  // capacity for one is left from before: no allocation
      ++blocks_allocated_;
    }
  }

  std::vector<block> blocks_;
  std::size_t used_ = 0;     // bytes used in the last block
  std::size_t in_call_ = 0;  // bytes in use in this call, over all blocks
  std::size_t peak_ = 0;
  std::size_t blocks_allocated_ = 0;
  // Whether a call on some thread is using the workspace (set and cleared by workspace_scope).
  // The GCC/Clang atomic builtins on a plain flag spare every includer the <atomic> header.
  [[nodiscard]] bool try_acquire() noexcept {
#if defined(__GNUC__) || defined(__clang__)
    return !__atomic_exchange_n(&busy_, true, __ATOMIC_ACQUIRE);
#else
    return !std::atomic_ref<bool>(busy_).exchange(true, std::memory_order_acquire);
#endif
  }
  void unlock() noexcept {
#if defined(__GNUC__) || defined(__clang__)
    __atomic_store_n(&busy_, false, __ATOMIC_RELEASE);
#else
    std::atomic_ref<bool>(busy_).store(false, std::memory_order_release);
#endif
  }
  bool busy_ = false;
};

}  // namespace fulcrum
