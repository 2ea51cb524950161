// SPDX-License-Identifier: Apache-2.0
/// @file testing/multimodal_step.hpp
/// The three-phase multimodal step of the orchestrator's tests, example and benchmark: W1 samples
/// (text + images) with W1 audio (generate_w1_audio), as orchestrator phases:
///   0 "vision": one item per image; cost 657 = 577 + 577^2/4096 rounded (ViT-L/14 at 336 px, 577
///     tokens); input 336*336*3 bf16 pixels = 677376 bytes; output 576 tokens * hidden * 2 bytes.
///   1 "audio": one item per clip of a audio tokens (2a encoder frames, pooled 2x); cost f + f^2/4096
///     for f = 2a; input a/25 s of 16 kHz float32 = 2560 a bytes; output a * hidden * 2 bytes.
///   2 "llm": one item per sample, consumes 0 and 1; t = text + 576 images + audio tokens; cost
///     t + t^2/4096; input text * 4 bytes (token ids); memory t (tokens of activations).
/// Every byte count is divided by `bytes_divisor` (rounded up, at least 1 for a non-empty part) so
/// that an in-process run moves real but smaller buffers. O(n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fulcrum/core/sample.hpp"
#include "fulcrum/dispatch/orchestrator.hpp"

namespace fulcrum::testing {

struct multimodal_step_options {
  std::uint64_t hidden = 4096;       ///< LLM hidden size (embedding bytes = tokens * hidden * 2)
  std::uint64_t bytes_divisor = 1;   ///< scale every byte count down (in-process runs)
  std::uint64_t llm_memory_cap = 0;  ///< per-rank cap on the LLM phase's tokens (0: none)
};

/// Phases vision, audio, llm for `samples` (with `audio[i]` audio tokens) as described above.
/// sample_of holds indices into `samples`, so a rank can pass its local slice.
[[nodiscard]] inline std::vector<orchestrator_phase> multimodal_phases(std::span<const multimodal_sample> samples,
                                                                       std::span<const std::uint32_t> audio,
                                                                       const multimodal_step_options& o = {}) {
  const auto scale = [&](std::uint64_t b) -> std::uint64_t {
    return b == 0 ? 0 : (b + o.bytes_divisor - 1) / o.bytes_divisor;
  };
  std::vector<orchestrator_phase> ph(3);
  ph[0].name = "vision";
  ph[1].name = "audio";
  ph[2].name = "llm";
  ph[0].per_item = ph[1].per_item = true;
  ph[2].consumes = {0, 1};
  ph[2].memory_cap = o.llm_memory_cap;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    for (std::uint32_t m = 0; m < s.images; ++m) {
      ph[0].sample_of.push_back(static_cast<index_type>(i));
      ph[0].costs.push_back(657.0);
      ph[0].input_bytes.push_back(scale(336ull * 336 * 3 * 2));
      ph[0].output_bytes.push_back(scale(std::uint64_t{s.tokens_per_image} * o.hidden * 2));
    }
    const std::uint64_t a = i < audio.size() ? audio[i] : 0;
    if (a > 0) {
      const double f = 2.0 * static_cast<double>(a);
      ph[1].sample_of.push_back(static_cast<index_type>(i));
      ph[1].costs.push_back(f + f * f / 4096.0);
      ph[1].input_bytes.push_back(scale(2560 * a));
      ph[1].output_bytes.push_back(scale(a * o.hidden * 2));
    }
    const double t = static_cast<double>(s.tokens() + a);
    ph[2].costs.push_back(t + t * t / 4096.0);
    ph[2].input_bytes.push_back(scale(std::uint64_t{s.text_tokens} * 4));
    ph[2].memory.push_back(s.tokens() + a);
  }
  return ph;
}

}  // namespace fulcrum::testing
