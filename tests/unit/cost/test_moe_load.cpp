#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include <fulcrum/core/flops_model.hpp>
#include <fulcrum/core/moe_load.hpp>

using namespace fulcrum;

namespace {
transformer_config mixtral() {
  transformer_config c;
  c.layers = 32;
  c.hidden = 4096;
  c.ffn = 14336;
  c.heads = 32;
  c.kv_heads = 8;
  c.vocab = 32000;
  c.experts = 8;
  c.top_k = 2;
  return c;
}
}  // namespace

TEST_SUITE("cost") {
  TEST_CASE("moe expert load from router statistics") {
    const auto c = mixtral();
    // A balanced router: factor 1, the plain FLOPs.
    const router_stats uniform{std::vector<double>(8, 1.0), 0};
    CHECK(hot_spot_factor(c, uniform) == 1.0);
    CHECK(flops_model(with_expert_load(c, uniform))(4096) == flops_model(c)(4096));
    // Token counts as logged (any scale): expert 0 gets 3/10 of the slots, the others 1/10.
    const router_stats skewed{{300, 100, 100, 100, 100, 100, 100, 100}, 0};
    const auto tokens = expected_expert_tokens(c, skewed, 1000);
    REQUIRE(tokens.size() == 8);
    CHECK(tokens[0] == doctest::Approx(600));  // 1000 tokens x top-2 x 0.3
    CHECK(tokens[1] == doctest::Approx(200));
    double sum = 0;
    for (double t : tokens) sum += t;
    CHECK(sum == doctest::Approx(2000));
    CHECK(hot_spot_factor(c, skewed) == doctest::Approx(8 * 0.3));  // one expert per EP rank
    // 4 EP ranks of 2 experts: rank 0 holds 0.4 of the slots.
    CHECK(hot_spot_factor(c, router_stats{skewed.share, 4}) == doctest::Approx(4 * 0.4));
    CHECK(hot_spot_factor(c, router_stats{skewed.share, 1}) == 1.0);  // one rank holds every expert
    // The FLOPs model with the hot spot: expert FLOPs x 2.4, attention and the rest unchanged.
    const std::uint64_t L = 4096;
    const double experts_fwd = 32.0 * 2 * (2.0 * L * 4096 * 14336 * 3);  // layers x top-2 x one expert
    const flops_model hot(with_expert_load(c, skewed), attention_mask::causal, training_pass::forward);
    const flops_model plain(c, attention_mask::causal, training_pass::forward);
    CHECK(hot(L) - plain(L) == doctest::Approx(experts_fwd * (2.4 - 1)));
  }

  TEST_CASE("moe expert load rejects bad statistics naming the field") {
    const auto c = mixtral();
    auto factor = [](const transformer_config& cfg, const router_stats& st) { return hot_spot_factor(cfg, st); };
    CHECK_THROWS_WITH_AS(factor(c, router_stats{{1, 1}, 0}), doctest::Contains("share.size() = 2"), invalid_input);
    CHECK_THROWS_WITH_AS(factor(c, router_stats{{1, 1, 1, -1, 1, 1, 1, 1}, 0}),
                         doctest::Contains("share[3] = -1: is negative"), invalid_input);
    CHECK_THROWS_WITH_AS(factor(c, router_stats{std::vector<double>(8, 0.0), 0}),
                         doctest::Contains("sum is not positive"), invalid_input);
    CHECK_THROWS_WITH_AS(factor(c, router_stats{std::vector<double>(8, 1.0), 3}),
                         doctest::Contains("ep_ranks = 3: does not divide"), invalid_input);
    auto nan = std::vector<double>(8, 1.0);
    nan[5] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(factor(c, router_stats{nan, 0}), invalid_input);
    auto dense = c;
    dense.experts = 0, dense.top_k = 0;
    CHECK_THROWS_WITH_AS(factor(dense, router_stats{{1}, 0}), doctest::Contains("dense"), invalid_input);
  }
}
