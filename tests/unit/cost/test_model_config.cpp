#include <doctest/doctest.h>

#include <string>

#include <fulcrum/core/flops_model.hpp>
#include <fulcrum/io/model_config.hpp>

using namespace fulcrum;

namespace {
std::string data(const char* name) {
  return std::string(FULCRUM_SOURCE_DIR) + "/tests/data/model_configs/" + name;
}

const char* const tiny_llama = R"({"model_type": "llama", "hidden_size": 64, "intermediate_size": 176,
  "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100, "hidden_act": "silu"})";

std::string with(std::string_view field_and_value) {
  std::string s = tiny_llama;
  s.insert(s.size() - 1, ", " + std::string(field_and_value));  // the last of repeated keys counts
  return s;
}
}  // namespace

TEST_SUITE("cost") {
  TEST_CASE("model config reads a LLaMA config.json") {
    const auto m = io::read_model_config(data("llama_like.json"));
    CHECK(m.model_type == "llama");
    CHECK(m.hidden_act == "silu");
    CHECK(m.llm.layers == 32);
    CHECK(m.llm.hidden == 4096);
    CHECK(m.llm.ffn == 11008);
    CHECK(m.llm.heads == 32);
    CHECK(m.llm.kv() == 32);
    CHECK(m.llm.dim() == 128);
    CHECK(m.llm.vocab == 32000);
    CHECK(m.llm.gated);
    CHECK_FALSE(m.llm.moe());
    CHECK_FALSE(m.vision.has_value());
    CHECK(m.llm.non_embedding_params() == 6476005376.0);
  }

  TEST_CASE("model config reads a Mixtral config.json") {
    const auto m = io::read_model_config(data("mixtral_like.json"));
    CHECK(m.model_type == "mixtral");
    CHECK(m.llm.experts == 8);
    CHECK(m.llm.top_k == 2);
    CHECK(m.llm.kv() == 8);
    CHECK(m.llm.ffn == 14336);
    CHECK(m.llm.gated);
    // Same shape as the hand-counted Mixtral: 46,702,792,704 published parameters incl. 65 norms.
    CHECK(m.llm.non_embedding_params() + m.llm.embedding_params() + 65 * 4096 == 46702792704.0);
    const flops_model f(m.llm);
    CHECK(f(1) > 0);
  }

  TEST_CASE("model config optional fields and gating") {
    auto m = io::parse_model_config(tiny_llama);
    CHECK(m.llm.kv() == 4);
    CHECK(m.llm.dim() == 16);
    m = io::parse_model_config(with(R"("num_key_value_heads": 2, "head_dim": 32)"));
    CHECK(m.llm.kv() == 2);
    CHECK(m.llm.dim() == 32);
    m = io::parse_model_config(with(R"("head_dim": null)"));
    CHECK(m.llm.dim() == 16);
    std::string neox = tiny_llama;
    neox.replace(neox.find("llama"), 5, "gpt_neox");
    CHECK_FALSE(io::parse_model_config(neox).llm.gated);
    neox.replace(neox.find("silu"), 4, "geglu");
    CHECK(io::parse_model_config(neox).llm.gated);
  }

  TEST_CASE("model config reads a llava config with its vision tower") {
    const char* llava = R"({"model_type": "llava",
      "text_config": {"hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
                      "num_attention_heads": 32, "vocab_size": 32064},
      "vision_config": {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24,
                        "num_attention_heads": 16, "image_size": 336, "patch_size": 14}})";
    const auto m = io::parse_model_config(llava);
    CHECK(m.model_type == "llama");
    CHECK(m.llm.vocab == 32064);
    REQUIRE(m.vision.has_value());
    CHECK(m.vision->patches_per_tile == 577);
    CHECK(m.vision->projector_in == 1024);
    CHECK_FALSE(m.vision->model.gated);
    const multimodal_flops_model mm(flops_model(m.llm), *m.vision);
    CHECK(mm.tile_flops() > 0);
    CHECK_THROWS_WITH_AS(static_cast<void>(io::parse_model_config(R"({"model_type": "llava", "text_config": {}})")),
                         doctest::Contains("\"text_config.num_hidden_layers\": missing"), invalid_input);
  }

  TEST_CASE("model config errors name the file and field") {
    CHECK_THROWS_WITH_AS(static_cast<void>(io::read_model_config(data("bad_missing_hidden.json"))),
                         doctest::Contains("bad_missing_hidden.json: field \"hidden_size\": missing"), invalid_input);
    CHECK_THROWS_WITH_AS(static_cast<void>(io::read_model_config(data("bad_unknown_arch.json"))),
                         doctest::Contains("field \"model_type\" = \"mamba\": unknown architecture"), invalid_input);
    CHECK_THROWS_WITH_AS(static_cast<void>(io::read_model_config(data("bad_malformed.json"))),
                         doctest::Contains("bad_malformed.json"), invalid_input);
    CHECK_THROWS_AS(static_cast<void>(io::read_model_config(data("no_such_config.json"))), invalid_input);
    CHECK_THROWS_WITH_AS(static_cast<void>(io::parse_model_config("[1, 2]")), doctest::Contains("is not a JSON object"),
                         invalid_input);
    CHECK_THROWS_WITH_AS(static_cast<void>(io::parse_model_config(R"({"hidden_size": 4})")),
                         doctest::Contains("field \"model_type\": missing"), invalid_input);
    CHECK_THROWS_WITH_AS(static_cast<void>(io::parse_model_config(with(R"("hidden_size": -64)"))),
                         doctest::Contains("field \"hidden_size\" = -64: is negative"), invalid_input);
    CHECK_THROWS_WITH_AS(static_cast<void>(io::parse_model_config(with(R"("hidden_size": 64.5)"))),
                         doctest::Contains("\"hidden_size\" = 64.5"), invalid_input);
    CHECK_THROWS_WITH_AS(static_cast<void>(io::parse_model_config(with(R"("hidden_size": "64")"))),
                         doctest::Contains("\"hidden_size\": is a string, expected a number"), invalid_input);
    CHECK_THROWS_WITH_AS(static_cast<void>(io::parse_model_config(with(R"("num_attention_heads": 0)"))),
                         doctest::Contains("\"num_attention_heads\" = 0: must be positive"), invalid_input);
    CHECK_THROWS_WITH_AS(static_cast<void>(io::parse_model_config(with(R"("num_key_value_heads": 3)"))),
                         doctest::Contains("kv_heads"), invalid_input);
    std::string mixtral = tiny_llama;
    mixtral.replace(mixtral.find("llama"), 5, "mixtral");
    CHECK_THROWS_WITH_AS(static_cast<void>(io::parse_model_config(mixtral)),
                         doctest::Contains("\"num_local_experts\": missing"), invalid_input);
  }
}
