// SPDX-License-Identifier: Apache-2.0
/// @file core/flops_model.hpp
/// Analytic FLOPs of a transformer from its shape: a cost model derived from the model config
/// (docs/cost_models.md), usable wherever attention_cost is, and as a group model for packs.
///
/// - transformer_config: layers, hidden, FFN size (gated SwiGLU or not), heads, KV heads (GQA),
///   head_dim, vocab (the LM head), MoE experts + top-k + capacity factor. io/model_config.hpp
///   reads one from a Hugging Face config.json.
/// - flops_model{config, mask, pass}: FLOPs of one document of L tokens, or of a pack (a range of
///   document lengths: the sum over its documents, like per_document_cost: a block-diagonal
///   document mask never attends across documents).
/// - encoder_config + multimodal_flops_model: a ViT/encoder phase priced per image tile (full
///   attention within each tile of `patches_per_tile` patches, plus an optional 2-layer MLP
///   projector per LLM token) and the LLM phase on all tokens; phases() gives each phase's FLOPs.
///
/// Convention (the Megatron-LM / Chinchilla one): only matrix multiplications count, 2 FLOPs per
/// multiply-add; norms, softmax, activations, residuals, rotary and the embedding lookup count 0.
/// Per token and layer, forward: Q 2*h*(n*d), K and V 2*2*h*(g*d) (g = KV heads), O 2*(n*d)*h;
/// FFN 2*m*h*f with m = 3 if gated (gate, up, down) else 2; MoE: router 2*h*E plus
/// capacity_factor * top_k expert FFNs (capacity_factor = 1: dropless; > 1: padded expert
/// buffers computed in full; < 1: dropped tokens not computed). LM head 2*h*V per token.
/// Attention scores QK^T and the value product AV: 2*d FLOPs each per head and attended
/// (query, key) pair, so 4*n*d per pair and layer; pairs = L*(L+1)/2 causal (the attended pairs,
/// diagonal included: what a block-skipping kernel like FlashAttention computes, up to tile
/// rounding) or L^2 full. Backward = 2 x forward (the gradients w.r.t. inputs and weights of every
/// matmul); forward+backward = 3 x forward, with full recompute 4 x forward.
/// FLOPs(L) = pass * (per_token * L + per_pair * pairs(L)), per_token = layers * (attention
/// projections + FFN or MoE) + LM head, per_pair = layers * 4 * n * d.
/// Exactness: every coefficient is an integer (times capacity_factor); evaluated in double through
/// detail::mul (never contracted into an FMA), so the result is exact whenever every intermediate
/// is an integer below 2^53 (e.g. a 7B model at L <= 10^5) and bit-identical on every platform.
/// Complexity: O(1) per document, O(documents) per pack. Throws invalid_input naming the field for
/// an inconsistent config (zero sizes, heads not a multiple of KV heads, top_k > experts, ...).
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <ranges>
#include <string_view>
#include <type_traits>

#include "fulcrum/concepts/cost_model.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/sample.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

/// Which (query, key) pairs a document's attention computes.
enum class attention_mask : unsigned char {
  causal,  ///< L*(L+1)/2 pairs (decoder LLMs)
  full,    ///< L^2 pairs (encoders, ViTs)
};

/// Which passes a step runs (multiplier on the forward FLOPs).
enum class training_pass : unsigned char {
  forward = 1,                     ///< 1 x forward (inference, a frozen encoder)
  backward = 2,                    ///< 2 x forward
  forward_backward = 3,            ///< 3 x forward (training)
  forward_backward_recompute = 4,  ///< 4 x forward (training with full activation recompute)
};

/// A transformer's shape (decoder LLM or encoder). Sizes are counts; 0 means "derived" where noted.
struct transformer_config {
  std::uint64_t layers = 0;      ///< transformer blocks
  std::uint64_t hidden = 0;      ///< model width h
  std::uint64_t ffn = 0;         ///< FFN intermediate size f (per expert for MoE)
  std::uint64_t heads = 0;       ///< query heads n
  std::uint64_t kv_heads = 0;    ///< key/value heads g (GQA; 0: = heads); heads % kv_heads == 0
  std::uint64_t head_dim = 0;    ///< d (0: hidden / heads, which must then divide exactly)
  std::uint64_t vocab = 0;       ///< LM head size V (0: no head, e.g. an encoder)
  bool gated = true;             ///< gated FFN (SwiGLU/GeGLU: 3 matrices) or plain (2 matrices)
  std::uint64_t experts = 0;     ///< MoE experts E (0: dense FFN)
  std::uint64_t top_k = 0;       ///< experts per token (MoE only; 1..experts)
  double capacity_factor = 1.0;  ///< MoE: expert slots computed per routed token (see file docs)

  [[nodiscard]] constexpr std::uint64_t kv() const noexcept { return kv_heads == 0 ? heads : kv_heads; }
  [[nodiscard]] constexpr std::uint64_t dim() const noexcept {
    return head_dim != 0 ? head_dim : (heads == 0 ? 0 : hidden / heads);
  }
  [[nodiscard]] constexpr bool moe() const noexcept { return experts != 0; }

  /// Throws invalid_input "where: field = value: reason" for the first inconsistent field.
  void validate(std::string_view where = "transformer_config") const {
    auto positive = [&](std::string_view field, std::uint64_t v) {
      if (v == 0) throw invalid_input(detail::describe(where, field, v, "must be positive"));
    };
    positive("layers", layers);
    positive("hidden", hidden);
    positive("ffn", ffn);
    positive("heads", heads);
    if (kv_heads > heads) throw invalid_input(detail::describe(where, "kv_heads", kv_heads, "exceeds heads"));
    if (heads % kv() != 0) throw invalid_input(detail::describe(where, "kv_heads", kv_heads, "does not divide heads"));
    if (head_dim == 0 && hidden % heads != 0)
      throw invalid_input(detail::describe(where, "heads", heads, "does not divide hidden (set head_dim)"));
    if (experts == 0 && top_k != 0)
      throw invalid_input(detail::describe(where, "top_k", top_k, "is set but experts = 0"));
    if (experts != 0 && (top_k == 0 || top_k > experts))
      throw invalid_input(detail::describe(where, "top_k", top_k, "must be 1..experts"));
    if (!(capacity_factor > 0) || !std::isfinite(capacity_factor))
      throw invalid_input(detail::describe(where, "capacity_factor", capacity_factor, "must be positive and finite"));
  }

  /// Forward FLOPs per token of one layer's linear parts (attention projections + FFN or MoE).
  [[nodiscard]] double layer_token_flops() const noexcept {
    const double h = static_cast<double>(hidden);
    const double q = static_cast<double>(heads * dim());
    const double kv_width = static_cast<double>(kv() * dim());
    const double projections = (detail::mul(2 * h, q) + detail::mul(4 * h, kv_width)) + detail::mul(2 * q, h);
    const double one_ffn = detail::mul(detail::mul(gated ? 6.0 : 4.0, h), static_cast<double>(ffn));
    if (!moe()) return projections + one_ffn;
    const double router = detail::mul(2 * h, static_cast<double>(experts));
    const double slots = detail::mul(capacity_factor, static_cast<double>(top_k));
    return (projections + router) + detail::mul(slots, one_ffn);
  }

  /// Parameters outside the embedding and the LM head (norm weights not counted): attention
  /// projections + every expert's FFN + router, over all layers.
  [[nodiscard]] double non_embedding_params() const noexcept {
    const double h = static_cast<double>(hidden);
    const double q = static_cast<double>(heads * dim());
    const double kv_width = static_cast<double>(kv() * dim());
    const double attention = (detail::mul(h, q) + detail::mul(2 * h, kv_width)) + detail::mul(q, h);
    const double one_ffn = detail::mul(detail::mul(gated ? 3.0 : 2.0, h), static_cast<double>(ffn));
    const double ffns =
        moe() ? detail::mul(static_cast<double>(experts), one_ffn) + detail::mul(h, static_cast<double>(experts))
              : one_ffn;
    return detail::mul(static_cast<double>(layers), attention + ffns);
  }
  /// Non-embedding parameters one token uses: attention + router + top_k experts (dense: all).
  [[nodiscard]] double active_params() const noexcept {
    if (!moe()) return non_embedding_params();
    const double h = static_cast<double>(hidden);
    const double q = static_cast<double>(heads * dim());
    const double kv_width = static_cast<double>(kv() * dim());
    const double attention = (detail::mul(h, q) + detail::mul(2 * h, kv_width)) + detail::mul(q, h);
    const double one_ffn = detail::mul(detail::mul(gated ? 3.0 : 2.0, h), static_cast<double>(ffn));
    return detail::mul(static_cast<double>(layers), (attention + detail::mul(h, static_cast<double>(experts))) +
                                                        detail::mul(static_cast<double>(top_k), one_ffn));
  }
  /// Embedding + LM head parameters (untied: 2*V*h).
  [[nodiscard]] double embedding_params() const noexcept {
    return detail::mul(2.0 * static_cast<double>(vocab), static_cast<double>(hidden));
  }
};

/// FLOPs of documents under one transformer (see file docs). A cost model (one length) and a
/// group model (a range of document lengths: a pack costs the sum over its documents).
class flops_model {
 public:
  flops_model() = default;
  explicit flops_model(const transformer_config& config, attention_mask mask = attention_mask::causal,
                       training_pass pass = training_pass::forward_backward)
      : config_(config), mask_(mask), pass_(pass) {
    config_.validate("flops_model");
    const double head = detail::mul(2.0 * static_cast<double>(config_.hidden), static_cast<double>(config_.vocab));
    per_token_ = detail::mul(static_cast<double>(config_.layers), config_.layer_token_flops()) + head;
    per_pair_ = detail::mul(static_cast<double>(config_.layers),
                            detail::mul(4.0 * static_cast<double>(config_.heads), static_cast<double>(config_.dim())));
    multiplier_ = static_cast<double>(static_cast<unsigned>(pass_));
  }

  [[nodiscard]] const transformer_config& config() const noexcept { return config_; }
  [[nodiscard]] attention_mask mask() const noexcept { return mask_; }
  [[nodiscard]] training_pass pass() const noexcept { return pass_; }
  /// Forward FLOPs per token outside attention scores (all layers + LM head).
  [[nodiscard]] double per_token_forward() const noexcept { return per_token_; }
  /// Forward FLOPs per attended (query, key) pair (all layers).
  [[nodiscard]] double per_pair_forward() const noexcept { return per_pair_; }

  /// Attended pairs of one document of `length` tokens.
  [[nodiscard]] double pairs(double length) const noexcept {
    return mask_ == attention_mask::causal ? detail::mul(length, length + 1) / 2 : detail::mul(length, length);
  }
  /// Forward FLOPs of one document.
  [[nodiscard]] double forward(double length) const noexcept {
    return detail::mul(per_token_, length) + detail::mul(per_pair_, pairs(length));
  }

  /// FLOPs of one document of `length` tokens under the pass.
  template <arithmetic T>
  [[nodiscard]] cost_t operator()(T length) const noexcept {
    return detail::mul(multiplier_, forward(static_cast<double>(length)));
  }
  /// FLOPs of a pack: the sum over its documents, in order.
  template <std::ranges::input_range R>
  requires arithmetic<std::ranges::range_value_t<R>>
  [[nodiscard]] cost_t operator()(R&& lengths) const {
    cost_t total = 0;
    for (auto l : lengths) total += (*this)(l);
    return total;
  }

  /// The same function as an attention_cost{a, b, 0} (a*L + b*L^2): causal a = pass*(per_token +
  /// per_pair/2), b = pass*per_pair/2; full a = pass*per_token, b = pass*per_pair. Equal in exact
  /// arithmetic; in double it may differ from operator() in the last bits.
  [[nodiscard]] attention_cost as_attention_cost() const noexcept {
    const double half = mask_ == attention_mask::causal ? per_pair_ / 2 : 0.0;
    const double b = mask_ == attention_mask::causal ? half : per_pair_;
    return attention_cost{detail::mul(multiplier_, per_token_ + half), detail::mul(multiplier_, b), 0.0};
  }

 private:
  transformer_config config_{};
  attention_mask mask_ = attention_mask::causal;
  training_pass pass_ = training_pass::forward_backward;
  double per_token_ = 0;
  double per_pair_ = 0;
  double multiplier_ = 3;
};

/// A vision encoder (ViT) phase: `model` (vocab 0, usually gated = false) runs on every image tile
/// of `patches_per_tile` patches with full attention within the tile; then an optional 2-layer MLP
/// projector (LLaVA's mlp2x) maps each of the tile's LLM tokens: 2*projector_in*H + 2*H*H forward
/// FLOPs per LLM token (H = the LLM's hidden; projector_in = 0: no projector).
struct encoder_config {
  transformer_config model{};
  std::uint64_t patches_per_tile = 0;  ///< encoder tokens per tile (e.g. 577 for CLIP ViT-L/14 at 336 px)
  std::uint64_t projector_in = 0;      ///< projector input width per LLM token (e.g. 1024; 0: none)
  training_pass pass = training_pass::forward_backward;  ///< forward: a frozen encoder
};

/// FLOPs of each phase of one sample (or of a pack's samples).
struct phase_flops {
  double encoder = 0;
  double llm = 0;
  [[nodiscard]] double total() const noexcept { return encoder + llm; }
};

/// Encoder phase per image tile + LLM phase on all tokens (text + tokens_per_image * images) of a
/// multimodal_sample; a range of samples (a pack) costs the sum over its samples.
class multimodal_flops_model {
 public:
  multimodal_flops_model() = default;
  multimodal_flops_model(const flops_model& llm, const encoder_config& encoder) : llm_(llm), encoder_(encoder) {
    if (encoder_.patches_per_tile == 0)
      throw invalid_input(detail::describe("multimodal_flops_model", "patches_per_tile", 0, "must be positive"));
    vit_ = flops_model(encoder_.model, attention_mask::full, encoder_.pass);
    tile_ = vit_(encoder_.patches_per_tile);
    const double h = static_cast<double>(llm_.config().hidden);
    const double projector =
        encoder_.projector_in == 0
            ? 0.0
            : detail::mul(2.0 * static_cast<double>(encoder_.projector_in), h) + detail::mul(2.0 * h, h);
    projector_per_token_ = detail::mul(static_cast<double>(static_cast<unsigned>(encoder_.pass)), projector);
  }

  [[nodiscard]] const flops_model& llm() const noexcept { return llm_; }
  [[nodiscard]] const flops_model& encoder() const noexcept { return vit_; }
  /// Encoder FLOPs of one tile (projector excluded).
  [[nodiscard]] double tile_flops() const noexcept { return tile_; }

  [[nodiscard]] phase_flops phases(const multimodal_sample& s) const noexcept {
    const double tiles = static_cast<double>(s.images);
    const double image_tokens = detail::mul(tiles, static_cast<double>(s.tokens_per_image));
    return {detail::mul(tiles, tile_) + detail::mul(image_tokens, projector_per_token_), llm_(s.tokens())};
  }
  [[nodiscard]] cost_t operator()(const multimodal_sample& s) const noexcept { return phases(s).total(); }
  template <std::ranges::input_range R>
  requires std::same_as<std::remove_cvref_t<std::ranges::range_value_t<R>>, multimodal_sample>
  [[nodiscard]] cost_t operator()(R&& samples) const {
    cost_t total = 0;
    for (const auto& s : samples) total += (*this)(s);
    return total;
  }

 private:
  flops_model llm_{};
  encoder_config encoder_{};
  flops_model vit_{};
  double tile_ = 0;
  double projector_per_token_ = 0;
};

}  // namespace fulcrum
