// SPDX-License-Identifier: Apache-2.0
/// @file io/model_config.hpp
/// Reads a Hugging Face `config.json` into a transformer_config (core/flops_model.hpp), so the
/// FLOPs cost model comes from the model's own config (docs/cost_models.md).
///
/// Fields read (any other field is ignored):
/// - `model_type` (required): the architecture; one of llama, mistral, qwen2, qwen3 (dense, gated
///   SwiGLU MLP), mixtral (MoE, gated experts), gpt_neox (dense, plain GELU MLP), or llava (an LLM
///   in `text_config`, default model_type llama, plus a CLIP-like `vision_config`). Anything else
///   is invalid_input "model_type = \"...\": unknown architecture" listing the supported ones.
/// - `num_hidden_layers`, `hidden_size`, `intermediate_size`, `num_attention_heads`, `vocab_size`
///   (required, positive whole numbers).
/// - `num_key_value_heads` (optional: absent or null = num_attention_heads, i.e. no GQA);
///   `head_dim` (optional: absent or null = hidden_size / num_attention_heads).
/// - mixtral: `num_local_experts` and `num_experts_per_tok` (required: experts and top-k).
/// - `hidden_act` (optional, recorded): gating is a property of the architecture's MLP class in
///   transformers, not of the activation (LLaMA's MLP is gated with silu, GPT-NeoX's is not with
///   gelu), so it is taken from the architecture; an activation name ending in "glu" (swiglu,
///   geglu) also marks the MLP gated.
/// - llava `vision_config`: hidden_size, intermediate_size, num_hidden_layers,
///   num_attention_heads, image_size, patch_size (required); the encoder runs on
///   (image_size / patch_size)^2 + 1 patches per tile (CLIP's class token), with a plain MLP and a
///   2-layer projector from the vision width.
/// Errors: invalid_input "source: field \"name\": missing" or "source: field \"name\" = value:
/// reason" (not a number, not a whole number, negative, zero), then the config's own consistency
/// checks (transformer_config::validate). O(bytes); a config file is at most 16 MiB.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ios>
#include <optional>
#include <string>
#include <string_view>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/flops_model.hpp"
#include "fulcrum/io/dataset.hpp"
#include "fulcrum/io/detail/json.hpp"
#include "fulcrum/io/detail/text.hpp"

namespace fulcrum::io {

/// What a config.json describes.
struct model_config {
  std::string model_type;                ///< as written (the LLM's for llava)
  std::string hidden_act;                ///< as written ("" if absent)
  transformer_config llm{};              ///< the language model
  std::optional<encoder_config> vision;  ///< llava: the vision tower (forward + backward by default)
};

/// Architectures read_model_config accepts.
inline constexpr std::string_view supported_model_types = "llama, mistral, qwen2, qwen3, mixtral, gpt_neox, llava";

namespace detail {

struct config_reader {
  std::string_view source;
  const json_value& obj;
  std::string prefix;  ///< "text_config." for nested objects

  [[nodiscard]] std::string name(std::string_view field) const { return prefix + std::string(field); }
  [[noreturn]] void fail(std::string_view field, std::string_view value, std::string_view reason) const {
    std::string m(source);
    m.append(": field \"").append(name(field)).append("\"");
    if (!value.empty()) m.append(" = ").append(value);
    m.append(": ").append(reason);
    throw invalid_input(m);
  }
  [[nodiscard]] std::optional<std::uint64_t> optional_count(std::string_view field) const {
    const json_value* v = obj.find(field);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_number()) fail(field, "", std::string("is ") + kind_name(v->type) + ", expected a number");
    std::uint64_t out = 0;
    constexpr std::uint64_t max = std::uint64_t{1} << 40;
    if (const auto st = to_unsigned(v->text, max, out); st != integer_status::ok)
      fail(field, v->text, integer_problem(st, max));
    if (out == 0) fail(field, v->text, "must be positive");
    return out;
  }
  [[nodiscard]] std::uint64_t count(std::string_view field) const {
    const auto v = optional_count(field);
    if (!v) fail(field, "", "missing");
    return *v;
  }
  [[nodiscard]] std::string text(std::string_view field) const {
    const json_value* v = obj.find(field);
    if (v == nullptr || v->is_null()) return {};
    if (!v->is_string()) fail(field, "", std::string("is ") + kind_name(v->type) + ", expected a string");
    return v->text;
  }
};

inline bool ends_with_glu(std::string_view act) {
  return act.size() >= 3 && act.substr(act.size() - 3) == "glu";
}

inline transformer_config read_llm(const config_reader& r, const std::string& type, const std::string& act) {
  const bool dense_gated = type == "llama" || type == "mistral" || type == "qwen2" || type == "qwen3";
  const bool moe = type == "mixtral";
  const bool plain = type == "gpt_neox";
  if (!dense_gated && !moe && !plain)
    r.fail("model_type", "\"" + type + "\"",
           "unknown architecture (supported: " + std::string(supported_model_types) + ")");
  transformer_config c;
  c.layers = r.count("num_hidden_layers");
  c.hidden = r.count("hidden_size");
  c.ffn = r.count("intermediate_size");
  c.heads = r.count("num_attention_heads");
  c.kv_heads = r.optional_count("num_key_value_heads").value_or(0);
  c.head_dim = r.optional_count("head_dim").value_or(0);
  c.vocab = r.count("vocab_size");
  c.gated = !plain || ends_with_glu(act);
  if (moe) {
    c.experts = r.count("num_local_experts");
    c.top_k = r.count("num_experts_per_tok");
  }
  c.validate(std::string(r.source) + ": " +
             (r.prefix.empty() ? std::string("config") : r.prefix.substr(0, r.prefix.size() - 1)));
  return c;
}

}  // namespace detail

/// Parses the text of a config.json (see file docs). `source` prefixes error messages.
[[nodiscard]] inline model_config parse_model_config(std::string_view text, std::string_view source = "config.json") {
  const detail::json_value doc = detail::parse_json(detail::skip_bom(text), std::string(source), std::size_t{1} << 20);
  if (!doc.is_object()) throw invalid_input(std::string(source) + ": is not a JSON object");
  const detail::config_reader top{source, doc, ""};
  model_config out;
  const std::string type = top.text("model_type");
  if (type.empty()) top.fail("model_type", "", "missing");
  if (type != "llava") {
    out.model_type = type;
    out.hidden_act = top.text("hidden_act");
    out.llm = detail::read_llm(top, type, out.hidden_act);
    return out;
  }
  const detail::json_value* text_cfg = doc.find("text_config");
  if (text_cfg == nullptr || !text_cfg->is_object()) top.fail("text_config", "", "missing (llava needs an object)");
  const detail::config_reader llm{source, *text_cfg, "text_config."};
  out.model_type = llm.text("model_type");
  if (out.model_type.empty()) out.model_type = "llama";
  out.hidden_act = llm.text("hidden_act");
  out.llm = detail::read_llm(llm, out.model_type, out.hidden_act);
  const detail::json_value* vision_cfg = doc.find("vision_config");
  if (vision_cfg == nullptr || !vision_cfg->is_object())
    top.fail("vision_config", "", "missing (llava needs an object)");
  const detail::config_reader v{source, *vision_cfg, "vision_config."};
  encoder_config e;
  e.model.layers = v.count("num_hidden_layers");
  e.model.hidden = v.count("hidden_size");
  e.model.ffn = v.count("intermediate_size");
  e.model.heads = v.count("num_attention_heads");
  e.model.gated = false;
  const std::uint64_t image = v.count("image_size");
  const std::uint64_t patch = v.count("patch_size");
  if (image % patch != 0)
    v.fail("image_size", std::to_string(image), "is not a multiple of patch_size = " + std::to_string(patch));
  e.patches_per_tile = (image / patch) * (image / patch) + 1;
  e.projector_in = e.model.hidden;
  e.model.validate(std::string(source) + ": vision_config");
  out.vision = e;
  return out;
}

/// Reads a config.json file (at most 16 MiB). Errors name the path.
[[nodiscard]] inline model_config read_model_config(const std::filesystem::path& path) {
  std::ifstream in;
  detail::open_input(in, path);
  std::string text;
  constexpr std::size_t max_bytes = std::size_t{1} << 24;
  try {
    char buf[1 << 14];
    while (in) {
      in.read(buf, sizeof buf);
      text.append(buf, static_cast<std::size_t>(in.gcount()));
      if (text.size() > max_bytes) throw invalid_input(path.string() + ": larger than 16777216 bytes");
    }
  } catch (const std::ios_base::failure& e) {
    throw invalid_input(path.string() + ": read error: " + e.what());
  }
  if (in.bad()) throw invalid_input(path.string() + ": read error");
  return parse_model_config(text, path.string());
}

}  // namespace fulcrum::io
