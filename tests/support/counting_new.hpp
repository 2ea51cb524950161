// SPDX-License-Identifier: Apache-2.0
// Counts heap allocations for the allocation-free tests (the workspace overloads): replaces the
// global operator new / delete (malloc / free underneath) for the whole test executable. Include
// it from exactly one translation unit of a test executable; read `test_support::allocations`
// before and after a region.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace test_support {
inline std::atomic<std::size_t> allocations{0};  ///< calls of a (non-aligned) operator new so far
}  // namespace test_support

// GCC flags free() in a replacement operator delete as mismatched after inlining (false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  test_support::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
// Every other non-aligned form too, so that no allocation and its release take different paths
// (libc++'s temporary buffers use the nothrow form; ASan reports a mismatch otherwise).
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  test_support::allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void* operator new[](std::size_t n, const std::nothrow_t& tag) noexcept {
  return operator new(n, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
