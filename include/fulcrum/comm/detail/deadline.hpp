// SPDX-License-Identifier: Apache-2.0
/// @file comm/detail/deadline.hpp
/// `deadline_after(timeout)`: the steady-clock time point `timeout` from now, saturating at
/// `time_point::max()` instead of overflowing. Every communicator (thread_world, MPI, NCCL)
/// computes its deadlines with it, so a timeout too large to represent (for example
/// `std::chrono::milliseconds::max()`) means "no timeout" rather than a deadline in the past.
/// A zero or negative timeout is a deadline of now. O(1), never throws.
#pragma once

#include <chrono>

namespace fulcrum::comm::detail {

/// The time point reached `timeout` after `now`, or `steady_clock::time_point::max()` when that
/// does not fit in the clock's representation (then `is_unbounded(deadline)` is true).
[[nodiscard]] constexpr std::chrono::steady_clock::time_point deadline_after(
    std::chrono::milliseconds timeout, std::chrono::steady_clock::time_point now) noexcept {
  using clock = std::chrono::steady_clock;
  if (timeout <= std::chrono::milliseconds::zero()) return now;
  if (now >= clock::time_point::max()) return clock::time_point::max();
  // Compare in milliseconds, rounding the room left down: timeout < room means the conversion
  // to the clock's finer unit and the addition both stay in range.
  const auto room = std::chrono::floor<std::chrono::milliseconds>(
      now.time_since_epoch() < clock::duration::zero() ? clock::duration::max() : clock::time_point::max() - now);
  if (timeout >= room) return clock::time_point::max();
  return now + std::chrono::duration_cast<clock::duration>(timeout);
}

/// `deadline_after(timeout, steady_clock::now())`.
[[nodiscard]] inline std::chrono::steady_clock::time_point deadline_after(std::chrono::milliseconds timeout) noexcept {
  return deadline_after(timeout, std::chrono::steady_clock::now());
}

/// True for the deadline that means "wait without a time limit".
[[nodiscard]] constexpr bool is_unbounded(std::chrono::steady_clock::time_point deadline) noexcept {
  return deadline == std::chrono::steady_clock::time_point::max();
}

}  // namespace fulcrum::comm::detail
