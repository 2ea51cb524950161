// SPDX-License-Identifier: Apache-2.0
// Long-context benchmarks (docs/long_context.md, docs/benchmarks.md "Packed-sequence layout and
// context parallelism"):
//  - BM_layout_*: make_packed_layout_into on W2 (long-tail text) packed by pack() to 32K-token
//    sequences, buffers reused across iterations (a data loader's steady state) and fresh; text
//    only and W1-style multimodal (576-token images before the text). items_per_second = tokens/s.
//
//   build/<dir>/bench/bench_layout --benchmark_filter=layout --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include <fulcrum/layout/packed_layout.hpp>
#include <fulcrum/packing/pack.hpp>
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

}  // namespace

BENCHMARK_MAIN();
