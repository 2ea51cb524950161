// SPDX-License-Identifier: Apache-2.0
/// @file core/sample.hpp
/// `multimodal_sample`: a training sample with a text part and an image part, each image
/// expanding to a fixed number of LLM tokens that the sample states (`tokens_per_image`: a
/// property of the vision encoder and its resolution, so it is data, not a library constant; the
/// LLaVA-1.5 value of the reference workloads is fulcrum::testing::llava_tokens_per_image).
/// The item type of workload W1 and of the CLI's data.
#pragma once

#include <cstdint>

namespace fulcrum {

struct multimodal_sample {
  std::uint32_t text_tokens = 0;       ///< text tokens
  std::uint32_t images = 0;            ///< images (vision tiles)
  std::uint32_t tokens_per_image = 0;  ///< LLM tokens each image expands to (set it: 0 counts images as no tokens)

  /// All LLM tokens: text + tokens_per_image * images.
  [[nodiscard]] constexpr std::uint64_t tokens() const noexcept {
    return text_tokens + std::uint64_t{tokens_per_image} * images;
  }

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
