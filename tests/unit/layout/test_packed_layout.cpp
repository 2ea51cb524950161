// Packed-sequence layout (layout/packed_layout.hpp): hand-checked cases, an independent
// re-computation on random groupings (every token once, offsets consistent, padding as asked),
// multimodal placement rules and the errors.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/layout/packed_layout.hpp>

using fulcrum::grouping;
using fulcrum::index_type;
using fulcrum::packed_layout;
using fulcrum::token_kind;

namespace {

struct expected_token {
  std::int32_t position;
  std::int32_t document;
  index_type item;
  std::uint32_t offset;
  token_kind kind;
};

/// Independent re-computation: builds each sequence token by token as a vector of structs, the
/// slow obvious way, then compares every array of the layout and checks the invariants.
std::string check_layout(const packed_layout& got, const grouping& packs, const std::vector<std::uint32_t>& text,
                         const std::vector<std::vector<std::uint32_t>>& images,
                         const std::vector<std::vector<std::uint32_t>>& positions, fulcrum::layout_options opts) {
  std::vector<std::vector<expected_token>> rows;
  std::vector<std::vector<std::int32_t>> cus;
  const std::size_t row_count = opts.fixed_sequences ? opts.fixed_sequences : packs.size();
  std::vector<int> times_seen(text.size(), 0);
  for (std::size_t s = 0; s < row_count; ++s) {
    std::vector<expected_token> row;
    std::vector<std::int32_t> cu{0};
    std::int32_t doc = 0;
    if (s < packs.size())
      for (index_type i : packs[s]) {
        ++times_seen[i];
        std::vector<expected_token> d;
        std::uint32_t image_offset = 0;
        auto add_image = [&](std::uint32_t tokens) {
          for (std::uint32_t t = 0; t < tokens; ++t) d.push_back({0, doc, i, image_offset++, token_kind::image});
        };
        auto add_text = [&](std::uint32_t from, std::uint32_t to) {
          for (std::uint32_t t = from; t < to; ++t) d.push_back({0, doc, i, t, token_kind::text});
        };
        const auto& im = images.empty() ? std::vector<std::uint32_t>{} : images[i];
        if (opts.placement == fulcrum::image_placement::before_text) {
          for (auto t : im) add_image(t);
          add_text(0, text[i]);
        } else if (opts.placement == fulcrum::image_placement::after_text) {
          add_text(0, text[i]);
          for (auto t : im) add_image(t);
        } else {
          std::uint32_t done = 0;
          for (std::size_t j = 0; j < im.size(); ++j) {
            add_text(done, positions[i][j]);
            done = positions[i][j];
            add_image(im[j]);
          }
          add_text(done, text[i]);
        }
        for (std::size_t t = 0; t < d.size(); ++t) d[t].position = static_cast<std::int32_t>(t);
        row.insert(row.end(), d.begin(), d.end());
        cu.push_back(static_cast<std::int32_t>(row.size()));
        ++doc;
      }
    std::size_t target = row.size();
    if (opts.fixed_length)
      target = opts.fixed_length;
    else
      target = (target + opts.pad_multiple - 1) / opts.pad_multiple * opts.pad_multiple;
    std::int32_t p = 0;
    while (row.size() < target) {
      row.push_back({p, -1, packed_layout::padding_item, static_cast<std::uint32_t>(p), token_kind::padding});
      ++p;
    }
    if (p > 0) cu.push_back(static_cast<std::int32_t>(row.size()));
    rows.push_back(row);
    cus.push_back(cu);
  }
  for (std::size_t i = 0; i < text.size(); ++i)
    if (times_seen[i] > 1) return "item appears twice: " + std::to_string(i);
  if (got.sequences() != row_count) return "sequence count";
  std::size_t at = 0;
  std::uint64_t content = 0, padding = 0;
  std::int32_t overall = 0;
  for (std::size_t s = 0; s < row_count; ++s) {
    if (got.sequence_offsets[s] != at) return "sequence_offsets of " + std::to_string(s);
    if (got.sequence_length(s) != rows[s].size()) return "length of " + std::to_string(s);
    if (opts.fixed_length && got.sequence_length(s) != opts.fixed_length) return "fixed_length";
    if (got.sequence_length(s) % opts.pad_multiple != 0) return "pad_multiple";
    const auto cu = got.sequence_cu_seqlens(s);
    if (std::vector<std::int32_t>(cu.begin(), cu.end()) != cus[s]) return "cu_seqlens of " + std::to_string(s);
    std::int32_t longest = 0;
    for (std::size_t j = 1; j < cu.size(); ++j) longest = std::max(longest, cu[j] - cu[j - 1]);
    if (got.max_seqlen[s] != longest) return "max_seqlen of " + std::to_string(s);
    overall = std::max(overall, longest);
    for (std::size_t t = 0; t < rows[s].size(); ++t) {
      const auto& e = rows[s][t];
      const std::size_t g = at + t;
      if (got.position_ids[g] != e.position || got.document_ids[g] != e.document || got.source_item[g] != e.item ||
          got.source_offset[g] != e.offset || got.kinds[g] != e.kind)
        return "token " + std::to_string(t) + " of sequence " + std::to_string(s);
      (e.kind == token_kind::padding ? padding : content) += 1;
    }
    at += rows[s].size();
  }
  if (got.tokens() != at) return "tokens";
  if (got.content_tokens != content || got.padding_tokens != padding) return "token counts";
  if (got.max_seqlen_overall != overall) return "max_seqlen_overall";
  // Flattened cu_seqlens: strictly the sequences' segments, offset by their starts.
  const auto flat = got.batch_cu_seqlens();
  if (flat.front() != 0 || static_cast<std::size_t>(flat.back()) != got.tokens()) return "batch_cu_seqlens ends";
  for (std::size_t j = 1; j < flat.size(); ++j)
    if (flat[j] < flat[j - 1]) return "batch_cu_seqlens decreasing";
  return "";
}

grouping random_packs(fulcrum::rng& gen, std::size_t n, std::size_t packs, bool leave_some_out) {
  std::vector<std::vector<index_type>> g(packs);
  for (std::size_t i = 0; i < n; ++i) {
    if (leave_some_out && gen.below(5) == 0) continue;
    g[static_cast<std::size_t>(gen.below(packs))].push_back(static_cast<index_type>(i));
  }
  // Shuffle within packs (document order is the caller's).
  for (auto& p : g)
    for (std::size_t j = p.size(); j > 1; --j) std::swap(p[j - 1], p[static_cast<std::size_t>(gen.below(j))]);
  return grouping::from_groups(g);
}

}  // namespace

TEST_CASE("packed_layout: a hand-checked text batch") {
  const std::vector<std::uint32_t> sizes = {3, 2, 4};
  const auto packs = grouping::from_groups({{0, 1}, {2}});
  fulcrum::layout_options opts;
  opts.pad_multiple = 4;
  const auto l = fulcrum::make_packed_layout(packs, sizes, opts);
  REQUIRE(l.sequences() == 2);
  CHECK(l.tokens() == 12);  // 5 -> 8, 4 -> 4
  const auto cu0 = l.sequence_cu_seqlens(0);
  CHECK(std::vector<std::int32_t>(cu0.begin(), cu0.end()) == std::vector<std::int32_t>{0, 3, 5, 8});
  const auto cu1 = l.sequence_cu_seqlens(1);
  CHECK(std::vector<std::int32_t>(cu1.begin(), cu1.end()) == std::vector<std::int32_t>{0, 4});
  CHECK(l.position_ids == std::vector<std::int32_t>{0, 1, 2, 0, 1, 0, 1, 2, 0, 1, 2, 3});
  CHECK(l.document_ids == std::vector<std::int32_t>{0, 0, 0, 1, 1, -1, -1, -1, 0, 0, 0, 0});
  CHECK(l.source_item[3] == 1);
  CHECK(l.source_offset[4] == 1);
  CHECK(l.source_item[5] == packed_layout::padding_item);
  CHECK(l.max_seqlen == std::vector<std::int32_t>{3, 4});
  CHECK(l.max_seqlen_overall == 4);
  CHECK(l.batch_cu_seqlens() == std::vector<std::int32_t>{0, 3, 5, 8, 12});
  CHECK(l.padding_tokens == 3);
  CHECK(l.content_tokens == 9);
}

TEST_CASE("packed_layout: fixed batch shape pads rows and adds all-padding sequences") {
  const std::vector<std::uint64_t> sizes = {5, 1};
  fulcrum::layout_options opts;
  opts.fixed_length = 8;
  opts.fixed_sequences = 3;
  const auto l = fulcrum::make_packed_layout(grouping::from_groups({{1, 0}}), sizes, opts);
  CHECK(l.sequences() == 3);
  CHECK(l.tokens() == 24);
  const auto cu2 = l.sequence_cu_seqlens(2);
  CHECK(std::vector<std::int32_t>(cu2.begin(), cu2.end()) == std::vector<std::int32_t>{0, 8});
  CHECK(l.source_item[0] == 1);
  CHECK(l.source_item[1] == 0);
  CHECK(l.efficiency() == doctest::Approx(6.0 / 24.0));
}

TEST_SUITE("properties") {
  TEST_CASE("packed_layout: random groupings match an independent re-computation") {
    fulcrum::rng gen(17);
    for (int round = 0; round < 300; ++round) {
      const std::size_t n = 1 + static_cast<std::size_t>(gen.below(40));
      std::vector<std::uint32_t> text(n);
      for (auto& t : text) t = static_cast<std::uint32_t>(gen.below(50));
      const std::size_t packs_n = 1 + static_cast<std::size_t>(gen.below(6));
      const auto packs = random_packs(gen, n, packs_n, round % 3 == 0);
      fulcrum::layout_options opts;
      opts.pad_multiple = static_cast<std::uint32_t>(1 + gen.below(16));
      if (round % 4 == 1) {
        std::uint64_t longest = 0;
        for (auto p : packs) {
          std::uint64_t len = 0;
          for (auto i : p) len += text[i];
          longest = std::max(longest, len);
        }
        opts.fixed_length =
            static_cast<std::uint32_t>((longest + gen.below(20) + opts.pad_multiple - 1) / opts.pad_multiple) *
            opts.pad_multiple;
        opts.fixed_sequences = packs_n + static_cast<std::size_t>(gen.below(3));
      }
      bool multimodal = round % 2 == 0;
      std::vector<std::vector<std::uint32_t>> images, positions;
      std::vector<std::size_t> offsets{0};
      std::vector<std::uint32_t> image_tokens, image_positions;
      if (multimodal) {
        opts.placement = static_cast<fulcrum::image_placement>(gen.below(3));
        images.resize(n);
        positions.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
          const auto count = gen.below(4);
          std::uint32_t p = 0;
          for (std::uint64_t j = 0; j < count; ++j) {
            images[i].push_back(static_cast<std::uint32_t>(1 + gen.below(9)));
            p += static_cast<std::uint32_t>(gen.below(text[i] - p + 1));
            positions[i].push_back(p);
            image_tokens.push_back(images[i].back());
            image_positions.push_back(p);
          }
          offsets.push_back(image_tokens.size());
        }
        if (opts.fixed_length) opts.fixed_length = 0, opts.fixed_sequences = 0;  // lengths changed
      }
      packed_layout l;
      if (multimodal) {
        fulcrum::multimodal_documents docs{text, offsets, image_tokens, image_positions};
        fulcrum::make_packed_layout_into(packs, docs, opts, l);
      } else {
        fulcrum::make_packed_layout_into(packs, text, opts, l);
      }
      const auto problem = check_layout(l, packs, text, images, positions, opts);
      INFO("round " << round);
      CHECK(problem == "");
    }
  }
}

TEST_CASE("packed_layout: multimodal placement by hand") {
  // One document: 3 text tokens, images of 2 and 1 tokens at text offsets 1 and 3.
  const std::vector<std::uint32_t> text = {3};
  const std::vector<std::size_t> offsets = {0, 2};
  const std::vector<std::uint32_t> image_tokens = {2, 1};
  const std::vector<std::uint32_t> positions = {1, 3};
  fulcrum::multimodal_documents docs{text, offsets, image_tokens, positions};
  fulcrum::layout_options opts;
  opts.placement = fulcrum::image_placement::at_offsets;
  const auto l = fulcrum::make_packed_layout(grouping::from_groups({{0}}), docs, opts);
  using K = token_kind;
  CHECK(l.kinds == std::vector<K>{K::text, K::image, K::image, K::text, K::text, K::image});
  CHECK(l.source_offset == std::vector<std::uint32_t>{0, 0, 1, 1, 2, 2});
  CHECK(l.position_ids == std::vector<std::int32_t>{0, 1, 2, 3, 4, 5});
  opts.placement = fulcrum::image_placement::before_text;
  const auto b = fulcrum::make_packed_layout(grouping::from_groups({{0}}), docs, opts);
  CHECK(b.kinds == std::vector<K>{K::image, K::image, K::image, K::text, K::text, K::text});
  CHECK(fulcrum::to_string(fulcrum::image_placement::at_offsets) == "at_offsets");
}

TEST_CASE("packed_layout: errors name the field and leave the output untouched") {
  const std::vector<std::uint32_t> sizes = {3, 2};
  packed_layout l;
  fulcrum::make_packed_layout_into(grouping::from_groups({{0}}), sizes, {}, l);
  const auto before = l.position_ids;
  CHECK_THROWS_WITH_AS(fulcrum::make_packed_layout_into(grouping::from_groups({{0, 1, 0}}), sizes, {}, l),
                       doctest::Contains("appears twice"), fulcrum::invalid_input);
  CHECK(l.position_ids == before);
  CHECK_THROWS_AS((void)fulcrum::make_packed_layout(grouping::from_groups({{2}}), sizes), fulcrum::invalid_input);
  fulcrum::layout_options zero;
  zero.pad_multiple = 0;
  CHECK_THROWS_WITH_AS((void)fulcrum::make_packed_layout(grouping::from_groups({{0}}), sizes, zero),
                       doctest::Contains("pad_multiple"), fulcrum::invalid_input);
  fulcrum::layout_options fixed;
  fixed.fixed_length = 4;
  CHECK_THROWS_AS((void)fulcrum::make_packed_layout(grouping::from_groups({{0, 1}}), sizes, fixed),
                  fulcrum::infeasible);
  fixed.fixed_length = 8;
  fixed.fixed_sequences = 1;
  CHECK_THROWS_AS((void)fulcrum::make_packed_layout(grouping::from_groups({{0}, {1}}), sizes, fixed),
                  fulcrum::infeasible);
  // int32 overflow of a sequence's offsets.
  const std::vector<std::uint32_t> huge = {std::numeric_limits<std::int32_t>::max() - 1u, 5};
  CHECK_THROWS_WITH_AS((void)fulcrum::make_packed_layout(grouping::from_groups({{0, 1}}), huge),
                       doctest::Contains("int32"), fulcrum::invalid_input);
  const std::vector<std::int64_t> negative = {3, -1};
  CHECK_THROWS_WITH_AS((void)fulcrum::make_packed_layout(grouping::from_groups({{0}}), negative),
                       doctest::Contains("negative"), fulcrum::invalid_input);
  // Image positions beyond the text.
  const std::vector<std::uint32_t> text = {2};
  const std::vector<std::size_t> offsets = {0, 1};
  const std::vector<std::uint32_t> image_tokens = {4};
  const std::vector<std::uint32_t> positions = {3};
  fulcrum::layout_options at;
  at.placement = fulcrum::image_placement::at_offsets;
  CHECK_THROWS_WITH_AS(
      (void)fulcrum::make_packed_layout(grouping::from_groups({{0}}),
                                        fulcrum::multimodal_documents{text, offsets, image_tokens, positions}, at),
      doctest::Contains("image_positions"), fulcrum::invalid_input);
}
