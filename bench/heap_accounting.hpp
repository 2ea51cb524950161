// Heap accounting for single-threaded benchmarks: replaces the global operator new/delete and
// tracks live and peak heap bytes (glibc malloc_usable_size). Include it from exactly one
// translation unit of a benchmark binary (each bench/bench_*.cpp is its own binary).
#pragma once

#include <malloc.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace heap_accounting {
inline std::size_t live_bytes = 0;   ///< bytes currently allocated
inline std::size_t peak_bytes = 0;   ///< high-water mark; reset it to live_bytes before a measurement
inline std::size_t allocations = 0;  ///< calls of operator new so far (difference two reads to count a region)
}  // namespace heap_accounting

// GCC flags free() in a replacement operator delete as mismatched after inlining (false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  ++heap_accounting::allocations;
  heap_accounting::live_bytes += malloc_usable_size(p);
  heap_accounting::peak_bytes = std::max(heap_accounting::peak_bytes, heap_accounting::live_bytes);
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  heap_accounting::live_bytes -= malloc_usable_size(p);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  operator delete(p);
}
