// SPDX-License-Identifier: Apache-2.0
/// @file testing/workloads.hpp
/// Seeded, platform-independent generators for the reference workloads (docs/workloads.md), used
/// by tests, benchmarks, examples and the CLI's embedded default dataset.
///
/// - W1 (LLaVA-like multimodal SFT): images in {0,1,2,3,4} with probabilities {.20,.60,.10,.05,.05},
///   text = round(lognormal(median 300, sigma 1.0)) clipped to [8, 8192]; tokens = 576*images + text.
///   Per sample, one draw for images then one for text, so prefixes of a larger W1 equal a smaller W1.
/// - W1 audio (generate_w1_audio): 30% of samples carry a clip of round(lognormal(8 s, 0.8)) clipped
///   to [1, 30] s, 25 tokens per second; its own stream, so W1 is unchanged.
/// - W2 (long-tail text SFT): round(lognormal(median 500, sigma 1.2)) clipped to [16, 32768].
/// - W3 (OmniBal-shaped InternVL instruction data): four sources (`w3_sources`), each with its own
///   mix of dynamic-resolution images of 1, 3, 4 or 5 tiles (256 LLM tokens per tile, counted in the
///   sample's tokens) and its own text length, round(lognormal) clipped to [8, 1220]. Per sample one
///   draw for the source, one for the tiles, one for the text (prefixes equal smaller W3s).
/// - Pipeline profiles vlm130, vlm130j, vlm520, vlm1040 (see `pipeline_profile`).
/// O(n) time; default seed 20240601.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/core/sample.hpp"

namespace fulcrum::testing {

namespace detail {
inline std::uint32_t round_clip(double v, double lo, double hi) {
  return static_cast<std::uint32_t>(std::clamp(std::nearbyint(v), lo, hi));
}
}  // namespace detail

/// LLM tokens per image of LLaVA-1.5 at 336 px (a 24 x 24 patch grid): the W1 samples' value of
/// multimodal_sample::tokens_per_image.
inline constexpr std::uint32_t llava_tokens_per_image = 576;

/// W1 samples: text and image parts kept separately, tokens_per_image = llava_tokens_per_image.
[[nodiscard]] inline std::vector<multimodal_sample> generate_w1(std::size_t n, std::uint64_t seed = default_seed) {
  rng gen(seed);
  std::vector<multimodal_sample> out(n);
  for (auto& s : out) {
    s.tokens_per_image = llava_tokens_per_image;
    const double u = gen.uniform();
    s.images = u < 0.20 ? 0u : u < 0.80 ? 1u : u < 0.90 ? 2u : u < 0.95 ? 3u : 4u;
    s.text_tokens = detail::round_clip(gen.lognormal(300.0, 1.0), 8.0, 8192.0);
  }
  return out;
}

/// W1 total tokens per sample (576 * images + text).
[[nodiscard]] inline std::vector<std::uint32_t> generate_w1_tokens(std::size_t n, std::uint64_t seed = default_seed) {
  const auto samples = generate_w1(n, seed);
  std::vector<std::uint32_t> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint32_t>(samples[i].tokens());
  return out;
}

/// W1's audio extension (the multimodal orchestrator's third modality): per sample, audio tokens
/// at 25 tokens per second (a Whisper-style encoder pooled 2x). A sample has a clip with
/// probability 0.30; its length is round(lognormal(median 8 s, sigma 0.8)) seconds clipped to
/// [1, 30], so 25 to 750 tokens. A separate stream (seed ^ w1_audio_stream), one draw for the
/// presence, then one for the length only if present: W1 itself is unchanged, and a prefix of a
/// larger W1 audio draw equals a smaller one.
inline constexpr std::uint64_t w1_audio_stream = 0xa0d10a0d10a0d1ULL;
inline constexpr std::uint32_t w1_audio_tokens_per_second = 25;
[[nodiscard]] inline std::vector<std::uint32_t> generate_w1_audio(std::size_t n, std::uint64_t seed = default_seed) {
  rng gen(seed ^ w1_audio_stream);
  std::vector<std::uint32_t> out(n, 0);
  for (auto& a : out)
    if (gen.uniform() < 0.30) a = detail::round_clip(gen.lognormal(8.0, 0.8), 1.0, 30.0) * w1_audio_tokens_per_second;
  return out;
}

/// W2 text lengths.
[[nodiscard]] inline std::vector<std::uint32_t> generate_w2(std::size_t n, std::uint64_t seed = default_seed) {
  rng gen(seed);
  std::vector<std::uint32_t> out(n);
  for (auto& v : out) v = detail::round_clip(gen.lognormal(500.0, 1.2), 16.0, 32768.0);
  return out;
}

/// LLM tokens per dynamic-resolution tile of InternVL (448 px tile, pixel shuffle): W3's
/// multimodal_sample::tokens_per_image.
inline constexpr std::uint32_t internvl_tokens_per_tile = 256;

/// One source of W3: its share of the samples, its tile mix and its text length.
struct w3_source {
  std::string_view name;
  double share;                 ///< probability that a sample comes from this source
  std::array<double, 4> tiles;  ///< probabilities of 1, 3, 4 and 5 tiles
  double text_median;           ///< text tokens: round(lognormal(text_median, text_sigma)), clipped to [8, 1220]
  double text_sigma;
};

/// W3's sources (ai2d-, chartqa-, docvqa- and synthdog-like); overall about 9 % / 32 % / 1 % / 58 %
/// of samples with 1 / 3 / 4 / 5 tiles.
inline constexpr std::array<w3_source, 4> w3_sources = {{
    {"ai2d", 0.20, {0.30, 0.60, 0.05, 0.05}, 60.0, 0.8},
    {"chartqa", 0.25, {0.10, 0.70, 0.00, 0.20}, 40.0, 0.7},
    {"docvqa", 0.30, {0.02, 0.08, 0.01, 0.89}, 50.0, 0.9},
    {"synthdog", 0.25, {0.00, 0.00, 0.00, 1.00}, 140.0, 0.85},
}};

/// A W3 sample and the index of its source in w3_sources.
struct w3_sample {
  multimodal_sample sample;  ///< images = tiles, tokens_per_image = internvl_tokens_per_tile
  std::uint32_t source = 0;  ///< index into w3_sources
};

/// W3 samples with their sources (see file docs). O(n).
[[nodiscard]] inline std::vector<w3_sample> generate_w3_with_sources(std::size_t n, std::uint64_t seed = default_seed) {
  static constexpr std::array<std::uint32_t, 4> tile_counts = {1, 3, 4, 5};
  rng gen(seed);
  std::vector<w3_sample> out(n);
  for (auto& s : out) {
    const double u = gen.uniform();
    std::size_t src = 0;
    for (double acc = w3_sources[0].share; src + 1 < w3_sources.size() && u >= acc;) acc += w3_sources[++src].share;
    const double v = gen.uniform();
    std::size_t t = 0;
    for (double acc = w3_sources[src].tiles[0]; t + 1 < tile_counts.size() && v >= acc;)
      acc += w3_sources[src].tiles[++t];
    s.source = static_cast<std::uint32_t>(src);
    s.sample.tokens_per_image = internvl_tokens_per_tile;
    s.sample.images = tile_counts[t];
    s.sample.text_tokens =
        detail::round_clip(gen.lognormal(w3_sources[src].text_median, w3_sources[src].text_sigma), 8.0, 1220.0);
  }
  return out;
}

/// W3 samples (images = tiles; tokens() = 256 * tiles + text). O(n).
[[nodiscard]] inline std::vector<multimodal_sample> generate_w3(std::size_t n, std::uint64_t seed = default_seed) {
  const auto with = generate_w3_with_sources(n, seed);
  std::vector<multimodal_sample> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = with[i].sample;
  return out;
}

/// A per-layer profile of a model for pipeline partitioning.
struct layer_profile {
  std::string name;
  std::vector<double> cost;                      ///< compute time per layer (forward + backward units)
  std::vector<std::uint64_t> activation_memory;  ///< activation bytes per micro-batch, MiB units
};

/// Reference pipeline profiles (docs/workloads.md):
/// - "vlm130": [embed 20] + 48 ViT layers x 10 + 80 LLM layers x 32 + [head 48] (x10 integers);
/// - "vlm130j": vlm130 x10 (i.e. x100 of the base) with a seeded +-10% jitter per layer, rounded;
/// - "vlm520" / "vlm1040": every vlm130j layer split into 4 / 8 equal sub-blocks.
/// Activation memory per layer (MiB per micro-batch, proportional to activation size): embed 32,
/// ViT 64, LLM 160, head 256; split layers divide it evenly.
[[nodiscard]] inline layer_profile pipeline_profile(std::string_view name, std::uint64_t seed = default_seed) {
  layer_profile base{"vlm130", {}, {}};
  base.cost.push_back(20);
  base.activation_memory.push_back(32);
  for (int i = 0; i < 48; ++i) base.cost.push_back(10), base.activation_memory.push_back(64);
  for (int i = 0; i < 80; ++i) base.cost.push_back(32), base.activation_memory.push_back(160);
  base.cost.push_back(48);
  base.activation_memory.push_back(256);
  if (name == "vlm130") return base;

  layer_profile jittered{"vlm130j", {}, base.activation_memory};
  rng gen(seed);
  for (double c : base.cost) jittered.cost.push_back(std::nearbyint(c * 10.0 * (0.9 + 0.2 * gen.uniform())));
  if (name == "vlm130j") return jittered;

  const int split = name == "vlm520" ? 4 : name == "vlm1040" ? 8 : 0;
  if (split == 0)
    throw invalid_input(std::string("pipeline_profile: name = ") + std::string(name) +
                        ": unknown (vlm130, vlm130j, vlm520, vlm1040)");
  layer_profile out{std::string(name), {}, {}};
  for (std::size_t l = 0; l < jittered.cost.size(); ++l)
    for (int s = 0; s < split; ++s) {
      out.cost.push_back(jittered.cost[l] / split);
      out.activation_memory.push_back(jittered.activation_memory[l] / static_cast<std::uint64_t>(split));
    }
  return out;
}

}  // namespace fulcrum::testing
