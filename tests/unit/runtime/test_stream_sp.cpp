// SPDX-License-Identifier: Apache-2.0
// streaming_batcher under Ulysses sequence parallelism (sp_stream_options, parallel/sp_spec.hpp):
// one micro-batch per SP group, caps = degree x per-GPU tokens, padded lengths multiples of the
// degree that still fit, per-group SP costs recomputed from the documents, the bound on
// micro-batches against brute force on small streams, warm-up caps that stay multiples of the
// degree, save/restore under SP options, and bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/parallel/sequence_parallel.hpp>
#include <fulcrum/runtime/streaming_batcher.hpp>

using namespace fulcrum;

namespace {

using sp_batcher = streaming_batcher<1, sp_document_cost>;

struct sp_stream_run {
  std::vector<stream_step> steps;
  stream_stats stats;
};

template <class Cost>
sp_stream_run run_sp_stream(const std::vector<std::uint64_t>& lengths, const stream_options<1>& o, Cost cost) {
  streaming_batcher<1, Cost> b(o, cost);
  sp_stream_run out;
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    b.push(i, lengths[i]);
    while (auto s = b.next()) out.steps.push_back(std::move(*s));
  }
  b.finish();
  while (auto s = b.next()) out.steps.push_back(std::move(*s));
  out.stats = b.stats();
  return out;
}

/// Least number of bins of `capacity` holding `sizes` (subset DP, n <= 10).
std::size_t brute_bins(const std::vector<std::uint64_t>& sizes, std::uint64_t capacity) {
  const std::size_t n = sizes.size();
  const std::size_t full = (std::size_t{1} << n) - 1;
  std::vector<std::uint64_t> sum(full + 1, 0);
  for (std::size_t m = 1; m <= full; ++m) {
    std::size_t low = 0;
    while (((m >> low) & 1U) == 0) ++low;
    sum[m] = sum[m & (m - 1)] + sizes[low];
  }
  std::vector<std::size_t> bins(full + 1, n + 1);
  bins[0] = 0;
  for (std::size_t m = 1; m <= full; ++m)
    for (std::size_t s = m; s != 0; s = (s - 1) & m)
      if (sum[s] <= capacity) bins[m] = std::min(bins[m], bins[m ^ s] + 1);
  return bins[full];
}

/// Independent checker of an SP stream: every document once, `groups` micro-batches per step,
/// tokens recomputed, padded length a multiple of the degree within the SP group's capacity, and
/// the group's cost the per-document SP cost summed over its documents.
void check_sp_stream(const std::vector<stream_step>& steps, const std::vector<std::uint64_t>& lengths,
                     const sp_spec& sp, std::size_t groups, const sp_document_cost& cost) {
  std::vector<int> seen(lengths.size(), 0);
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const stream_step& st = steps[s];
    REQUIRE(st.index == s);
    REQUIRE(st.ranks == groups);
    REQUIRE(st.pad_multiple == sp.degree);
    REQUIRE(st.caps.size() == 1);
    REQUIRE(st.caps[0] % sp.degree == 0);
    REQUIRE(st.costs.size() == groups);
    for (std::size_t g = 0; g < groups; ++g) {
      std::uint64_t tokens = 0;
      double expect = 0;
      for (const auto id : st.micro_batch(g)) {
        REQUIRE(id < lengths.size());
        ++seen[id];
        tokens += lengths[id];
        expect += cost(lengths[id]);
      }
      REQUIRE(tokens == st.loads[g]);
      const std::uint64_t padded = st.padded_tokens(g);
      CHECK(padded % sp.degree == 0);
      CHECK(padded >= tokens);
      CHECK(padded - tokens < sp.degree);
      CHECK(padded <= st.caps[0]);
      CHECK(padded <= sp.capacity());
      CHECK(st.costs[g] == doctest::Approx(expect).epsilon(1e-12));
    }
  }
  for (std::size_t i = 0; i < seen.size(); ++i) REQUIRE(seen[i] == 1);
}

}  // namespace

TEST_SUITE("runtime") {
  TEST_CASE("stream sp: random SP streams hold capacity and padding and balance the SP cost") {
    rng gen(1701);
    for (int round = 0; round < 40; ++round) {
      const sp_spec sp{1 + static_cast<std::size_t>(gen.below(8)), 16 + gen.below(500)};
      const std::size_t groups = 1 + static_cast<std::size_t>(gen.below(4));
      stream_options<1> base;
      base.buffer = groups + static_cast<std::size_t>(gen.below(300));
      base.warmup_steps = static_cast<std::size_t>(gen.below(4));
      const stream_options<1> o = sp_stream_options(sp, groups, base);
      CHECK(o.caps[0] == sp.capacity());
      CHECK(o.ranks == groups);
      CHECK(o.buffer == base.buffer);
      std::vector<std::uint64_t> lengths(200 + gen.below(800));
      for (auto& l : lengths) l = 1 + gen.below(sp.capacity());
      const sp_document_cost cost = make_sp_document_cost(sp, attention_cost{1.0, 1.0 / 512, 0.0}, 0.25);
      const sp_stream_run run = run_sp_stream(lengths, o, cost);
      check_sp_stream(run.steps, lengths, sp, groups, cost);
    }
  }

  TEST_CASE("stream sp: the per-document SP cost of a pack is the pack's SP cost without padding") {
    rng gen(77);
    for (int round = 0; round < 200; ++round) {
      const sp_spec sp{1 + static_cast<std::size_t>(gen.below(8)), 1 + gen.below(4096)};
      const attention_cost model{gen.uniform(), gen.uniform() / 1024, 0.0};
      const double a2a = gen.uniform();
      const sp_cost pack_cost = make_sp_cost(sp, model, a2a);
      const sp_document_cost doc_cost = make_sp_document_cost(sp, model, a2a);
      std::vector<std::uint64_t> pack(1 + gen.below(6));
      std::uint64_t total = 0;
      double sum = 0;
      for (auto& l : pack) {
        l = 1 + gen.below(sp.per_gpu_tokens);
        total += l;
        sum += doc_cost(l);
      }
      // sp_cost(pack) = sum of document costs + the padding segment's cost and its all-to-all share.
      const double pad = static_cast<double>(sp.padded(total) - total);
      const double d = static_cast<double>(sp.degree);
      const double padding = (model.a * pad + model.b * pad * pad) / d + a2a * pad * (d - 1.0) / d;
      CHECK(pack_cost(pack) == doctest::Approx(sum + padding).epsilon(1e-9));
      if (sp.degree == 1) CHECK(doc_cost(pack[0]) == doctest::Approx(model(pack[0])));
    }
  }

  TEST_CASE("stream sp: the micro-batch bound against brute-force bins on small streams") {
    rng gen(5);
    for (int round = 0; round < 150; ++round) {
      const sp_spec sp{1 + static_cast<std::size_t>(gen.below(4)), 4 + gen.below(20)};
      const std::size_t groups = 1 + static_cast<std::size_t>(gen.below(3));
      const std::size_t n = 1 + static_cast<std::size_t>(gen.below(10));
      std::vector<std::uint64_t> lengths(n);
      for (auto& l : lengths) l = 1 + gen.below(sp.capacity());
      stream_options<1> base;
      base.buffer = std::max<std::size_t>(n, groups);  // one round: the whole stream at finish()
      const stream_options<1> o = sp_stream_options(sp, groups, base);
      const sp_document_cost cost = make_sp_document_cost(sp);
      const sp_stream_run run = run_sp_stream(lengths, o, cost);
      check_sp_stream(run.steps, lengths, sp, groups, cost);
      const std::size_t best = brute_bins(lengths, sp.capacity());
      CHECK(run.stats.lower_bound <= best);
      CHECK(run.stats.micro_batches >= best);
      if (run.stats.proven_optimal) CHECK(run.stats.micro_batches == best);
    }
  }

  TEST_CASE("stream sp: warm-up caps stay multiples of the degree") {
    const sp_spec sp{6, 1000};
    stream_options<1> base;
    base.buffer = 64;
    base.warmup_steps = 10;
    base.warmup_start = 0.1;
    const stream_options<1> o = sp_stream_options(sp, 2, base);
    std::vector<std::uint64_t> lengths(2000);
    rng gen(3);
    for (auto& l : lengths) l = 1 + gen.below(700);
    const auto cost = make_sp_document_cost(sp);
    const sp_stream_run run = run_sp_stream(lengths, o, cost);
    check_sp_stream(run.steps, lengths, sp, 2, cost);
    REQUIRE(run.steps.size() > 10);
    CHECK(run.steps[0].caps[0] < sp.capacity());
    for (const auto& st : run.steps) CHECK(st.caps[0] % sp.degree == 0);
  }

  TEST_CASE("stream sp: save and restore under SP options continue the same stream") {
    const sp_spec sp{4, 2048};
    stream_options<1> base;
    base.buffer = 128;
    const stream_options<1> o = sp_stream_options(sp, 3, base);
    const auto cost = make_sp_document_cost(sp, attention_cost{1.0, 1.0 / 4096, 0.0}, 0.5);
    std::vector<std::uint64_t> lengths(3000);
    rng gen(11);
    for (auto& l : lengths) l = 1 + gen.below(6000);
    const sp_stream_run whole = run_sp_stream(lengths, o, cost);
    sp_batcher first(o, cost);
    std::vector<stream_step> steps;
    for (std::size_t i = 0; i < 1234; ++i) {
      first.push(i, lengths[i]);
      while (auto s = first.next()) steps.push_back(std::move(*s));
    }
    const auto bytes = first.state();
    auto second = sp_batcher::restore(bytes, o, cost);
    for (std::size_t i = 1234; i < lengths.size(); ++i) {
      second.push(i, lengths[i]);
      while (auto s = second.next()) steps.push_back(std::move(*s));
    }
    second.finish();
    while (auto s = second.next()) steps.push_back(std::move(*s));
    CHECK(steps == whole.steps);
    // Other SP degree, same capacity: other options.
    const stream_options<1> other = sp_stream_options(sp_spec{8, 1024}, 3, base);
    CHECK_THROWS_WITH_AS((void)sp_batcher::restore(bytes, other, cost), doctest::Contains("options_fingerprint"),
                         invalid_input);
  }

  TEST_CASE("stream sp: bad SP input is rejected clearly") {
    CHECK_THROWS_WITH_AS((void)sp_stream_options(sp_spec{0, 100}, 2), doctest::Contains("sp.degree"), invalid_input);
    CHECK_THROWS_WITH_AS((void)sp_stream_options(sp_spec{2, 0}, 2), doctest::Contains("per_gpu_tokens"), invalid_input);
    stream_options<1> o;
    o.caps = {1000};
    o.pad_multiple = 3;
    CHECK_THROWS_WITH_AS((void)streaming_batcher<1>(o), doctest::Contains("pad_multiple"), invalid_input);
    o.pad_multiple = 0;
    CHECK_THROWS_WITH_AS((void)streaming_batcher<1>(o), doctest::Contains("pad_multiple"), invalid_input);
    const stream_options<1> sp_opts = sp_stream_options(sp_spec{4, 100}, 2);
    sp_batcher b(sp_opts, make_sp_document_cost(sp_spec{4, 100}));
    CHECK_THROWS_WITH_AS(b.push(1, 401), doctest::Contains("exceeds caps"), infeasible);
  }
}
