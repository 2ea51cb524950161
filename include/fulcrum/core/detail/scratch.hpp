// SPDX-License-Identifier: Apache-2.0
/// @file core/detail/scratch.hpp
/// The algorithms' temporary buffers: `scratch_vector<T>` (a std::vector whose allocator draws from
/// the workspace active on this thread, core/workspace.hpp, or from the heap when none is) and
/// `workspace_scope` (a front door activates the caller's workspace for the length of a call).
///
/// Every scratch allocation carries a 16-byte header naming its owner (the workspace, or none for
/// the heap), so a buffer is released correctly whichever thread frees it and whether or not a
/// workspace is active then. A scratch buffer must die before the call that made it returns (they
/// are the locals and members of the algorithms, never part of a result).
#pragma once

#include <cstddef>
#include <cstring>
#include <limits>
#include <new>
#include <type_traits>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/workspace.hpp"

#if defined(__GNUC__) || defined(__clang__)
#define FULCRUM_SCRATCH_NOINLINE __attribute__((noinline))
#else
#define FULCRUM_SCRATCH_NOINLINE
#endif

namespace fulcrum::detail {

/// The workspace active on this thread (null: allocate from the heap).
inline workspace*& active_workspace() noexcept {
  thread_local workspace* active = nullptr;
  return active;
}

struct scratch_memory {
  struct header {
    workspace* owner;  // null: from the heap
    std::size_t bytes;
  };
  static constexpr std::size_t header_bytes = 16;
  static_assert(sizeof(header) <= header_bytes);

  // Heap blocks are 16-byte aligned like the arena's (operator new already is on 64-bit targets).
  static constexpr bool plain_new_aligned = __STDCPP_DEFAULT_NEW_ALIGNMENT__ >= header_bytes;
  [[nodiscard]] static std::byte* heap_allocate(std::size_t bytes) {
    if constexpr (plain_new_aligned)
      return static_cast<std::byte*>(::operator new(bytes));
    else
      return static_cast<std::byte*>(::operator new (bytes, std::align_val_t{header_bytes}));
  }
  static void heap_deallocate(std::byte* p) noexcept {
    if constexpr (plain_new_aligned)
      ::operator delete(p);
    else
      ::operator delete (p, std::align_val_t{header_bytes});
  }

  // Kept out of line (GCC/Clang): every scratch vector's growth path calls them, and inlining them
  // there costs compile time in each translation unit for no measurable speed.
  [[nodiscard]] FULCRUM_SCRATCH_NOINLINE static void* allocate(std::size_t bytes) {
    if (bytes > std::numeric_limits<std::size_t>::max() / 2) throw std::bad_array_new_length();
    const std::size_t total = (bytes + header_bytes + workspace::granule - 1) / workspace::granule * workspace::granule;
    workspace* owner = active_workspace();
    auto* base = owner != nullptr ? owner->allocate(total) : heap_allocate(total);
    const header h{owner, total};
    std::memcpy(base, &h, sizeof h);
    return base + header_bytes;
  }
  FULCRUM_SCRATCH_NOINLINE static void deallocate(void* p) noexcept {
    auto* base = static_cast<std::byte*>(p) - header_bytes;
    header h{};
    std::memcpy(&h, base, sizeof h);
    if (h.owner == nullptr)
      heap_deallocate(base);
    else if (h.owner == active_workspace())  // the owner's thread: the last allocation can be given back
      h.owner->deallocate(base, h.bytes);
  }
};

/// Allocator of the algorithms' temporary buffers (see the file docs). Stateless: all compare equal.
template <class T>
struct scratch_allocator {
  static_assert(alignof(T) <= scratch_memory::header_bytes, "scratch buffers are 16-byte aligned");
  using value_type = T;
  scratch_allocator() noexcept = default;
  template <class U>
  scratch_allocator(const scratch_allocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor): rebinding
  [[nodiscard]] T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(scratch_memory::allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t) noexcept { scratch_memory::deallocate(p); }
  friend bool operator==(const scratch_allocator&, const scratch_allocator&) noexcept { return true; }
};

template <class T>
using scratch_vector = std::vector<T, scratch_allocator<T>>;

/// Activates `ws` on this thread for its lifetime (a front door's call). Null, or a workspace
/// already active here (a front door called by another), changes nothing. Throws invalid_input if
/// another thread is using `ws`.
class workspace_scope {
 public:
  explicit workspace_scope(workspace* ws) {
    if (ws == nullptr || active_workspace() != nullptr) return;
    if (!ws->try_acquire())
      throw invalid_input("workspace: already in use by another thread (one workspace per thread)");
    ws_ = ws;
    active_workspace() = ws;
  }
  workspace_scope(const workspace_scope&) = delete;
  workspace_scope& operator=(const workspace_scope&) = delete;
  ~workspace_scope() {
    if (ws_ == nullptr) return;
    active_workspace() = nullptr;
    ws_->reset();
    ws_->unlock();
  }

 private:
  workspace* ws_ = nullptr;
};

}  // namespace fulcrum::detail
