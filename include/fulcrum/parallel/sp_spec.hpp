// SPDX-License-Identifier: Apache-2.0
/// @file parallel/sp_spec.hpp
/// `sp_spec`: a Ulysses sequence-parallel layout (degree GPUs per SP group, a per-GPU token
/// budget), the vocabulary that pack_for_sp_groups, balance_sp_groups
/// (parallel/sequence_parallel.hpp) and the streaming batcher (runtime/streaming_batcher.hpp,
/// sp_stream_options) take. Light on purpose: no algorithm behind it.
/// capacity() = degree x per_gpu_tokens (checked for overflow); padded(T) rounds T up to a
/// multiple of degree. O(1) each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum {

/// A sequence-parallel layout: `degree` GPUs per SP group, each holding up to `per_gpu_tokens`.
struct sp_spec {
  std::size_t degree = 1;            ///< GPUs per SP group (the Ulysses degree)
  std::uint64_t per_gpu_tokens = 0;  ///< token budget of one GPU

  /// Throws invalid_input naming the field unless degree >= 1, per_gpu_tokens >= 1 and the
  /// capacity fits 64 bits.
  void validate(std::string_view where = "sp_spec") const {
    if (degree == 0) throw invalid_input(detail::describe(where, "sp.degree", degree, "must be at least 1"));
    if (per_gpu_tokens == 0)
      throw invalid_input(detail::describe(where, "sp.per_gpu_tokens", per_gpu_tokens, "must be at least 1"));
    (void)checked_mul(static_cast<std::uint64_t>(degree), per_gpu_tokens, "sp capacity");
  }
  /// Tokens one SP group holds: degree x per_gpu_tokens.
  [[nodiscard]] std::uint64_t capacity() const {
    return checked_mul(static_cast<std::uint64_t>(degree), per_gpu_tokens, "sp capacity");
  }
  /// `tokens` rounded up to a multiple of degree (the layout's pad_multiple).
  [[nodiscard]] constexpr std::uint64_t padded(std::uint64_t tokens) const noexcept {
    const std::uint64_t d = degree == 0 ? 1 : degree;
    return (tokens + d - 1) / d * d;
  }
};

/// The first global rank of SP group `group` (its GPUs are that rank and the degree - 1 after it).
[[nodiscard]] constexpr std::size_t sp_group_first_rank(const sp_spec& sp, std::size_t group) noexcept {
  return group * sp.degree;
}

}  // namespace fulcrum
