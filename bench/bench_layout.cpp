// SPDX-License-Identifier: Apache-2.0
// Long-context benchmarks (docs/long_context.md, docs/benchmarks.md "Packed-sequence layout and
// context parallelism"):
//  - BM_layout_*: make_packed_layout_into on W2 (long-tail text) packed by pack() to 32K-token
//    sequences, buffers reused across iterations (a data loader's steady state) and fresh; text
//    only and W1-style multimodal (576-token images before the text). items_per_second = tokens/s.
//  - BM_cp/<sequence>/<cp>/<method>/<model>: plan_context_parallel on every packed sequence of W2
//    (8192 documents, lengths clipped to the sequence) packed by pack() to 32K or 128K tokens, for
//    cp = 2, 4, 8; method 0 = zigzag_padded (Megatron: documents padded to a multiple of 2 cp),
//    1 = zigzag (no padding), 2 = fulcrum (automatic: fill, or a zig-zag when better); model 0 =
//    attention pairs only, 1 = plus a per-chunk cost of one 128 x 128 tile (16384 pairs).
//    Counters: max_over_mean = mean over sequences of (largest rank cost / (unpadded cost / cp)),
//    worst = the largest such ratio, pad = pad tokens / tokens, chunks_per_doc, spread = the
//    largest per-rank token spread.
//
//   build/<dir>/bench/bench_layout --benchmark_filter=layout --benchmark_min_time=0.5
//   build/<dir>/bench/bench_layout --benchmark_filter=BM_cp
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include <fulcrum/layout/packed_layout.hpp>
#include <fulcrum/packing/pack.hpp>
#include <fulcrum/parallel/context_parallel.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

struct packed_w2 {
  std::vector<std::uint32_t> sizes;
  fulcrum::grouping packs;
};

const packed_w2& w2_packed(std::uint64_t capacity) {
  static packed_w2 data = [capacity] {
    packed_w2 d;
    d.sizes = fulcrum::testing::generate_w2(8192);
    for (auto& s : d.sizes) s = static_cast<std::uint32_t>(std::min<std::uint64_t>(s, capacity));
    d.packs = fulcrum::pack(d.sizes, capacity).bins;
    return d;
  }();
  return data;
}

void BM_layout_text_reused(benchmark::State& state) {
  const auto& d = w2_packed(32768);
  fulcrum::layout_options opts;
  opts.pad_multiple = 128;
  fulcrum::packed_layout out;
  for (auto _ : state) {
    fulcrum::make_packed_layout_into(d.packs, d.sizes, opts, out);
    benchmark::DoNotOptimize(out.position_ids.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(out.tokens()));
  state.counters["tokens"] = static_cast<double>(out.tokens());
  state.counters["efficiency"] = out.efficiency();
}
BENCHMARK(BM_layout_text_reused)->Unit(benchmark::kMillisecond);

void BM_layout_text_fresh(benchmark::State& state) {
  const auto& d = w2_packed(32768);
  fulcrum::layout_options opts;
  opts.pad_multiple = 128;
  std::size_t tokens = 0;
  for (auto _ : state) {
    auto out = fulcrum::make_packed_layout(d.packs, d.sizes, opts);
    tokens = out.tokens();
    benchmark::DoNotOptimize(out.position_ids.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(tokens));
}
BENCHMARK(BM_layout_text_fresh)->Unit(benchmark::kMillisecond);

void BM_layout_multimodal_reused(benchmark::State& state) {
  const auto& d = w2_packed(32768);
  // Every third document carries one 576-token image placed before its text (W1's LLaVA shape);
  // the text is shortened so the pack's lengths stay the same.
  const std::size_t n = d.sizes.size();
  std::vector<std::uint32_t> text(d.sizes);
  std::vector<std::size_t> offsets(n + 1, 0);
  std::vector<std::uint32_t> images;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 3 == 0 && text[i] > fulcrum::testing::llava_tokens_per_image) {
      text[i] -= fulcrum::testing::llava_tokens_per_image;
      images.push_back(fulcrum::testing::llava_tokens_per_image);
    }
    offsets[i + 1] = images.size();
  }
  fulcrum::multimodal_documents docs{text, offsets, images, {}};
  fulcrum::layout_options opts;
  opts.pad_multiple = 128;
  fulcrum::packed_layout out;
  for (auto _ : state) {
    fulcrum::make_packed_layout_into(d.packs, docs, opts, out);
    benchmark::DoNotOptimize(out.position_ids.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(out.tokens()));
}
BENCHMARK(BM_layout_multimodal_reused)->Unit(benchmark::kMillisecond);

struct cp_batch {
  std::vector<std::vector<std::uint32_t>> sequences;  // document lengths per packed sequence
};

const cp_batch& w2_sequences(std::uint64_t capacity) {
  static std::vector<std::pair<std::uint64_t, cp_batch>> cache;
  for (const auto& [c, b] : cache)
    if (c == capacity) return b;
  cp_batch b;
  auto sizes = fulcrum::testing::generate_w2(8192);
  for (auto& s : sizes) s = static_cast<std::uint32_t>(std::min<std::uint64_t>(s, capacity));
  const auto packs = fulcrum::pack(sizes, capacity).bins;
  for (auto p : packs) {
    std::vector<std::uint32_t> docs;
    for (auto i : p) docs.push_back(sizes[i]);
    b.sequences.push_back(std::move(docs));
  }
  cache.emplace_back(capacity, std::move(b));
  return cache.back().second;
}

void BM_cp(benchmark::State& state) {
  const auto capacity = static_cast<std::uint64_t>(state.range(0));
  const auto cp = static_cast<std::size_t>(state.range(1));
  const auto method = state.range(2);
  const auto& batch = w2_sequences(capacity);
  fulcrum::cp_options opts;
  opts.method = method == 0   ? fulcrum::cp_method::zigzag_padded
                : method == 1 ? fulcrum::cp_method::zigzag
                              : fulcrum::cp_method::automatic;
  opts.token_slack = method == 1 ? ~std::uint64_t{0} : 0;  // plain zig-zag: report its spread, never reject it
  if (state.range(3) == 1) opts.cost.per_chunk = 128.0 * 128.0;
  double ratio_sum = 0, worst = 0, pad = 0, tokens = 0, chunks = 0, docs = 0;
  std::uint64_t spread = 0;
  for (auto _ : state) {
    ratio_sum = worst = pad = tokens = chunks = docs = 0;
    spread = 0;
    for (const auto& seq : batch.sequences) {
      // Padded to a multiple of cp like the layout would (pad_multiple = cp): one padding segment.
      std::vector<std::uint32_t> lengths = seq;
      std::uint64_t total = 0;
      for (auto l : lengths) total += l;
      if (total % cp != 0) lengths.push_back(static_cast<std::uint32_t>(cp - total % cp));
      const auto plan = fulcrum::plan_context_parallel(lengths, cp, opts);
      double unpadded = 0;
      std::uint64_t plan_tokens = 0;
      for (std::size_t d = 0; d < lengths.size(); ++d)
        unpadded +=
            opts.cost.per_pair * static_cast<double>(fulcrum::causal_pairs(0, lengths[d])) + opts.cost.per_chunk;
      for (auto t : plan.rank_tokens) plan_tokens += t;
      const double ratio = plan.makespan() / (unpadded / static_cast<double>(cp));
      ratio_sum += ratio;
      worst = std::max(worst, ratio);
      tokens += static_cast<double>(plan_tokens);
      std::uint64_t content = 0;
      for (auto l : lengths) content += l;
      pad += static_cast<double>(plan_tokens - content);
      chunks += static_cast<double>(plan.chunks.size());
      docs += static_cast<double>(lengths.size());
      spread = std::max(spread, plan.token_spread());
      benchmark::DoNotOptimize(plan.chunks.data());
    }
  }
  const auto n = static_cast<double>(batch.sequences.size());
  state.counters["sequences"] = n;
  state.counters["max_over_mean"] = ratio_sum / n;
  state.counters["worst"] = worst;
  state.counters["pad"] = pad / tokens;
  state.counters["chunks_per_doc"] = chunks / docs;
  state.counters["spread"] = static_cast<double>(spread);
}
BENCHMARK(BM_cp)
    ->ArgsProduct({{32768, 131072}, {2, 4, 8}, {0, 1, 2}, {0, 1}})
    ->ArgNames({"seq", "cp", "method", "model"})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
