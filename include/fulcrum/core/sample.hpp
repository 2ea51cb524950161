// SPDX-License-Identifier: Apache-2.0
/// @file core/sample.hpp
/// `multimodal_sample`: a training sample with a text part and an image part (LLaVA-style: each
/// image becomes a fixed number of tokens). The item type of workload W1 and of the CLI's data.
#pragma once

#include <cstdint>

namespace fulcrum {

struct multimodal_sample {
  /// Tokens each image expands to in the LLM (LLaVA-1.5 at 336 px: 576).
  static constexpr std::uint64_t tokens_per_image = 576;

  std::uint32_t text_tokens = 0;  ///< text tokens
  std::uint32_t images = 0;       ///< images (vision tiles)

  /// All LLM tokens: text + tokens_per_image * images.
  [[nodiscard]] constexpr std::uint64_t tokens() const noexcept { return text_tokens + tokens_per_image * images; }

  friend constexpr bool operator==(const multimodal_sample&, const multimodal_sample&) = default;
};

/// Projection: a sample's total tokens (use as `proj` in pack/balance).
struct tokens_of {
  [[nodiscard]] constexpr std::uint64_t operator()(const multimodal_sample& s) const noexcept { return s.tokens(); }
};
/// Projection: a sample's images.
struct images_of {
  [[nodiscard]] constexpr std::uint64_t operator()(const multimodal_sample& s) const noexcept { return s.images; }
};

}  // namespace fulcrum
