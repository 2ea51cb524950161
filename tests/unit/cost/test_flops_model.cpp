#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include <fulcrum/core/flops_model.hpp>

using namespace fulcrum;

// Every expected value below is computed by hand, term by term, in 64-bit integers, from the
// convention of docs/cost_models.md (2 FLOPs per multiply-add, matmuls only), independently of
// the implementation; all are below 2^53, so the model's double result must be exactly equal.
namespace {
using u64 = std::uint64_t;

transformer_config llama_7b() {
  transformer_config c;
  c.layers = 32;
  c.hidden = 4096;
  c.ffn = 11008;
  c.heads = 32;
  c.kv_heads = 32;
  c.vocab = 32000;
  c.gated = true;
  return c;
}

transformer_config mixtral_8x7b() {
  transformer_config c;
  c.layers = 32;
  c.hidden = 4096;
  c.ffn = 14336;
  c.heads = 32;
  c.kv_heads = 8;
  c.vocab = 32000;
  c.gated = true;
  c.experts = 8;
  c.top_k = 2;
  return c;
}

// LLaMA-7B, one causal document of L tokens, forward.
u64 llama_7b_forward(u64 L) {
  const u64 q = 2 * L * 4096 * 4096;        // Q: h x (32 heads x 128)
  const u64 k = 2 * L * 4096 * 4096;        // K: 32 KV heads x 128
  const u64 v = 2 * L * 4096 * 4096;        // V
  const u64 o = 2 * L * 4096 * 4096;        // O
  const u64 gate = 2 * L * 4096 * 11008;    // SwiGLU gate
  const u64 up = 2 * L * 4096 * 11008;      // up
  const u64 down = 2 * L * 11008 * 4096;    // down
  const u64 pairs = L * (L + 1) / 2;        // causal
  const u64 scores = 2 * pairs * 32 * 128;  // QK^T
  const u64 values = 2 * pairs * 32 * 128;  // AV
  const u64 per_layer = q + k + v + o + gate + up + down + scores + values;
  const u64 head = 2 * L * 4096 * 32000;  // LM head
  return 32 * per_layer + head;
}

// Mixtral-8x7B (GQA 32/8, 8 experts, top-2), one causal document, forward.
u64 mixtral_forward(u64 L) {
  const u64 q = 2 * L * 4096 * 4096;
  const u64 k = 2 * L * 4096 * (8 * 128);
  const u64 v = 2 * L * 4096 * (8 * 128);
  const u64 o = 2 * L * 4096 * 4096;
  const u64 router = 2 * L * 4096 * 8;
  const u64 one_expert = 2 * L * 4096 * 14336 * 3;  // gate + up + down
  const u64 experts = 2 * one_expert;               // top-2
  const u64 pairs = L * (L + 1) / 2;
  const u64 attention = 2 * pairs * 32 * 128 + 2 * pairs * 32 * 128;
  const u64 per_layer = q + k + v + o + router + experts + attention;
  const u64 head = 2 * L * 4096 * 32000;
  return 32 * per_layer + head;
}

double d(u64 v) {
  return static_cast<double>(v);
}
}  // namespace

TEST_SUITE("cost") {
  TEST_CASE("flops model equals the hand count for a LLaMA-7B shape") {
    const flops_model fwd(llama_7b(), attention_mask::causal, training_pass::forward);
    const flops_model train(llama_7b());  // forward + backward
    for (u64 L : {1ULL, 2ULL, 7ULL, 512ULL, 4096ULL, 32768ULL}) {
      CAPTURE(L);
      CHECK(fwd(L) == d(llama_7b_forward(L)));
      CHECK(train(L) == d(3 * llama_7b_forward(L)));
      CHECK(flops_model(llama_7b(), attention_mask::causal, training_pass::backward)(L) == d(2 * llama_7b_forward(L)));
    }
    // Full attention: L^2 pairs instead of L(L+1)/2.
    const flops_model full(llama_7b(), attention_mask::full, training_pass::forward);
    const u64 L = 1000;
    const u64 causal_attention = 32 * 4 * (L * (L + 1) / 2) * 32 * 128;
    const u64 full_attention = 32 * 4 * (L * L) * 32 * 128;
    CHECK(full(L) == d(llama_7b_forward(L) - causal_attention + full_attention));
    // Parameters: published LLaMA-7B 6,738,415,616 = ours + 65 RMSNorm weight vectors of 4096.
    CHECK(llama_7b().non_embedding_params() + llama_7b().embedding_params() + 65 * 4096 == 6738415616.0);
  }

  TEST_CASE("flops model equals the hand count for a Mixtral-8x7B shape") {
    const flops_model fwd(mixtral_8x7b(), attention_mask::causal, training_pass::forward);
    for (u64 L : {1ULL, 100ULL, 4096ULL, 32768ULL}) {
      CAPTURE(L);
      CHECK(fwd(L) == d(mixtral_forward(L)));
      CHECK(flops_model(mixtral_8x7b())(L) == d(3 * mixtral_forward(L)));
      CHECK(flops_model(mixtral_8x7b(), attention_mask::causal, training_pass::forward_backward_recompute)(L) ==
            d(4 * mixtral_forward(L)));
    }
    // Published Mixtral-8x7B: 46,702,792,704 parameters = ours + 65 norm vectors of 4096.
    const auto c = mixtral_8x7b();
    CHECK(c.non_embedding_params() + c.embedding_params() + 65 * 4096 == 46702792704.0);
    // Capacity factor 1.25: expert slots 1.25 x 2 per token (padded buffers computed in full).
    auto padded = c;
    padded.capacity_factor = 1.25;
    const u64 L = 4096;
    const u64 extra = 32 * (2 * L * 4096 * 14336 * 3) * 2 / 4;  // a quarter more of the two experts
    CHECK(flops_model(padded, attention_mask::causal, training_pass::forward)(L) == d(mixtral_forward(L) + extra));
  }

  TEST_CASE("flops model agrees with 6 N tokens at short sequences") {
    // Kaplan's rule: training FLOPs ~ 6 * N * tokens, N the non-embedding parameters a token uses,
    // no LM head, attention scores neglected. At L <= 256 the neglected attention term is below 1%
    // for both shapes (it is 4*layers*n*d*(L+1)/2 per token against 2N); we check 1%, and that
    // the whole difference is exactly that attention term.
    for (const auto& base : {llama_7b(), mixtral_8x7b()}) {
      auto c = base;
      c.vocab = 0;
      const flops_model train(c);
      for (u64 L : {16ULL, 128ULL, 256ULL}) {
        CAPTURE(L);
        const double rule = 6.0 * c.active_params() * d(L);
        CHECK(std::fabs(train(L) / rule - 1) < 0.01);
        CHECK(train(L) - rule == d(3 * 32 * 4 * (L * (L + 1) / 2) * 32 * 128));
      }
    }
    CHECK(llama_7b().active_params() == 6476005376.0);
  }

  TEST_CASE("flops model prices a pack as the sum of its documents") {
    const flops_model m(llama_7b());
    const std::vector<int> pack{100, 2000, 37};
    CHECK(m(pack) == m(100) + m(2000) + m(37));
    CHECK(m(pack) < m(2137));  // one long document attends to more pairs
    static_assert(cost_model_for<flops_model, int>);
    static_assert(cost_model_for<flops_model, std::vector<int>>);
    // As an attention_cost: the same function (equal here, every value an exact integer).
    const attention_cost a = m.as_attention_cost();
    CHECK(a(4096) == m(4096));
    CHECK(a.c == 0.0);
  }

  TEST_CASE("multimodal flops model adds the encoder phase per tile") {
    encoder_config vit;  // CLIP ViT-L/14 at 336 px: 24 layers, 1024 wide, 16 heads, MLP 4096, 577 patches
    vit.model.layers = 24;
    vit.model.hidden = 1024;
    vit.model.ffn = 4096;
    vit.model.heads = 16;
    vit.model.gated = false;
    vit.patches_per_tile = 577;
    vit.projector_in = 1024;
    vit.pass = training_pass::forward;  // frozen
    const multimodal_flops_model m(flops_model(llama_7b()), vit);
    const u64 P = 577;
    const u64 tile = 24 * (4 * 2 * P * 1024 * 1024    // Q K V O
                           + 2 * 2 * P * 1024 * 4096  // fc1 fc2
                           + 4 * (P * P) * 16 * 64);  // full attention
    CHECK(m.tile_flops() == d(tile));
    const multimodal_sample s{300, 2, 576};
    const u64 projector = u64{2} * 576 * (u64{2} * 1024 * 4096 + u64{2} * 4096 * 4096);
    const auto ph = m.phases(s);
    CHECK(ph.encoder == d(2 * tile + projector));
    CHECK(ph.llm == d(3 * llama_7b_forward(300 + 2 * 576)));
    CHECK(m(s) == ph.encoder + ph.llm);
    const std::vector<multimodal_sample> pack{s, {50, 0, 576}};
    CHECK(m(pack) == m(s) + m(pack[1]));
  }

  TEST_CASE("flops model rejects inconsistent configs naming the field") {
    auto bad = [](auto edit, const char* field) {
      auto c = llama_7b();
      edit(c);
      CAPTURE(field);
      CHECK_THROWS_WITH_AS(flops_model{c}, doctest::Contains(field), invalid_input);
    };
    bad([](transformer_config& c) { c.layers = 0; }, "layers");
    bad([](transformer_config& c) { c.hidden = 0; }, "hidden");
    bad([](transformer_config& c) { c.ffn = 0; }, "ffn");
    bad([](transformer_config& c) { c.kv_heads = 5; }, "kv_heads");
    bad([](transformer_config& c) { c.kv_heads = 64; }, "kv_heads");
    bad([](transformer_config& c) { c.heads = 3, c.kv_heads = 3; }, "heads");
    bad([](transformer_config& c) { c.top_k = 2; }, "top_k");
    bad([](transformer_config& c) { c.experts = 4, c.top_k = 5; }, "top_k");
    bad([](transformer_config& c) { c.experts = 4, c.top_k = 1, c.capacity_factor = 0; }, "capacity_factor");
  }
}
