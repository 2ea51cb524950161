// Build a VLM's packed batch for flash-attention varlen: text + image tokens.
//
// 4,000 W1 samples (LLaVA-like: each image is 576 LLM tokens, plus the text) are packed for 8
// data-parallel ranks into sequences of 8192 tokens (pack_for_ranks). Rank r's micro-batch of the
// first step becomes row r of a fixed-shape batch (8 x 8192): make_packed_layout gives the
// cu_seqlens (int32, one segment per sample and one for the padding), max_seqlen, position ids
// restarting at every sample, document ids for a block-diagonal mask, and the gather map that
// says, per token, which sample it comes from and whether it is a text token (row of the token
// embeddings) or an image token (row of the vision encoder's output). Images go before their text.
// A trainer hands these arrays to its collate function; nothing is allocated per sequence.
//
// expect: batch 8 x 8192 tokens: [0-9]+ text, [0-9]+ image, [0-9]+ padding; every token once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <fulcrum/layout/packed_layout.hpp>
#include <fulcrum/packing/rank_packing.hpp>
#include <fulcrum/testing/workloads.hpp>

int main() {
  constexpr std::uint64_t sequence = 8192;
  constexpr std::size_t ranks = 8;
  auto samples = fulcrum::testing::generate_w1(4000);
  std::erase_if(samples, [](const fulcrum::multimodal_sample& s) { return s.tokens() > sequence; });

  // Text tokens per sample and its images as CSR (every image 576 tokens).
  std::vector<std::uint32_t> text;
  std::vector<std::size_t> image_offsets{0};
  std::vector<std::uint32_t> image_tokens;
  for (const auto& s : samples) {
    text.push_back(s.text_tokens);
    for (std::uint32_t j = 0; j < s.images; ++j) image_tokens.push_back(s.tokens_per_image);
    image_offsets.push_back(image_tokens.size());
  }

  // Pack for 8 ranks; step 0's bins are this step's 8 rows.
  const auto plan =
      fulcrum::pack_for_ranks(samples, sequence, ranks, {}, fulcrum::balance_sizes{}, fulcrum::tokens_of{});
  std::vector<std::vector<fulcrum::index_type>> rows;
  for (std::size_t r = 0; r < ranks; ++r) {
    const auto bin = plan.bins(0, r);
    rows.emplace_back(bin.begin(), bin.end());
  }
  const auto step = fulcrum::grouping::from_groups(rows);

  fulcrum::layout_options opts;
  opts.placement = fulcrum::image_placement::before_text;
  opts.fixed_length = static_cast<std::uint32_t>(sequence);  // a fixed batch shape: 8 x 8192
  opts.fixed_sequences = ranks;
  const fulcrum::multimodal_documents docs{text, image_offsets, image_tokens, {}};
  const auto layout = fulcrum::make_packed_layout(step, docs, opts);

  // Check: every token of every sample of the step appears once, in order.
  std::uint64_t counts[3] = {0, 0, 0};
  std::uint64_t expected = 0;
  bool ok = true;
  for (auto row : step)
    for (auto i : row) expected += samples[i].tokens();
  for (std::size_t t = 0; t < layout.tokens(); ++t) {
    ++counts[static_cast<int>(layout.kinds[t])];
    if (t > 0 && layout.source_item[t] == layout.source_item[t - 1] && layout.kinds[t] == layout.kinds[t - 1] &&
        layout.source_offset[t] != layout.source_offset[t - 1] + 1)
      ok = false;
  }
  ok = ok && counts[0] + counts[1] == expected;

  const auto cu = layout.sequence_cu_seqlens(0);
  std::printf("row 0: %zu segments, cu_seqlens =", cu.size() - 1);
  for (std::size_t j = 0; j < cu.size() && j < 8; ++j) std::printf(" %d", cu[j]);
  std::printf("%s, max_seqlen %d\n", cu.size() > 8 ? " ..." : "", layout.max_seqlen[0]);
  std::printf("first tokens of row 0: position ids %d %d %d, document %d, sample %u (%s)\n", layout.position_ids[0],
              layout.position_ids[1], layout.position_ids[2], layout.document_ids[0], layout.source_item[0],
              std::string(fulcrum::to_string(layout.kinds[0])).c_str());
  std::printf("batch %zu x %zu tokens: %llu text, %llu image, %llu padding; %s\n", layout.sequences(),
              layout.sequence_length(0), static_cast<unsigned long long>(counts[0]),
              static_cast<unsigned long long>(counts[1]), static_cast<unsigned long long>(counts[2]),
              ok ? "every token once" : "MISMATCH");
  std::printf("flattened for flash_attn_varlen_func: %zu cu_seqlens entries, max_seqlen %d, efficiency %.4f\n",
              layout.batch_cu_seqlens().size(), layout.max_seqlen_overall, layout.efficiency());
  return ok ? 0 : 1;
}
