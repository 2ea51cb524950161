// Shard a long-context packed sequence over context-parallel ranks.
//
// W2 documents (long-tail text, median 500 tokens) are packed into sequences of 131072 tokens; the
// sequence with the most documents is sharded over cp = 8 ranks. Megatron's zig-zag splits every document into
// 2 x cp chunks (rank r gets chunks r and 2cp-1-r) after padding it to a multiple of 2 x cp;
// fulcrum's plan keeps short documents whole on one rank and splits only a few long ones, with the
// same attention work and the same token count on every rank. Each rank then knows, per chunk, the
// document and token range it holds (its position ids are begin .. end-1 of that document).
//
// expect: fulcrum: max/mean 1\.00[0-9]*, .*, equal tokens
#include <cstdint>
#include <cstdio>
#include <vector>

#include <fulcrum/packing/pack.hpp>
#include <fulcrum/parallel/context_parallel.hpp>
#include <fulcrum/testing/workloads.hpp>

int main() {
  constexpr std::uint64_t sequence = 131072;
  constexpr std::size_t cp = 8;
  const auto sizes = fulcrum::testing::generate_w2(2000);
  const auto packs = fulcrum::pack(sizes, sequence).bins;

  std::size_t busiest = 0;
  for (std::size_t s = 1; s < packs.size(); ++s)
    if (packs.group_size(s) > packs.group_size(busiest)) busiest = s;
  // That sequence's documents, padded to a multiple of cp by one padding segment
  // (what make_packed_layout's pad_multiple = cp gives).
  std::vector<std::uint32_t> lengths;
  std::uint64_t total = 0;
  for (auto i : packs[busiest]) {
    lengths.push_back(sizes[i]);
    total += sizes[i];
  }
  if (total % cp != 0) lengths.push_back(static_cast<std::uint32_t>(cp - total % cp));

  fulcrum::cp_options opts;  // cost = causal query-key pairs; equal tokens per rank
  const auto plan = fulcrum::plan_context_parallel(lengths, cp, opts);
  opts.method = fulcrum::cp_method::zigzag_padded;
  const auto zigzag = fulcrum::plan_context_parallel(lengths, cp, opts);

  std::printf("sequence: %zu documents, %llu tokens, cp = %zu\n", lengths.size(),
              static_cast<unsigned long long>(total), cp);
  for (std::size_t r = 0; r < cp; ++r) {
    const auto chunks = plan.rank_chunks(r);
    std::printf("rank %zu: %llu tokens, %.4g pairs, %zu chunks (first: document %u tokens [%u, %u))\n", r,
                static_cast<unsigned long long>(plan.rank_tokens[r]), static_cast<double>(plan.rank_pairs[r]),
                chunks.size(), chunks[0].document, chunks[0].begin, chunks[0].end);
  }
  auto report = [&](const char* name, const fulcrum::cp_plan& p) {
    std::uint64_t tokens = 0;
    for (auto t : p.rank_tokens) tokens += t;
    std::size_t whole = 0;
    for (const auto& c : p.chunks) whole += c.begin == 0 && c.end >= lengths[c.document] ? 1 : 0;
    std::printf(
        "%s: max/mean %.5f, %zu chunks for %zu documents (%zu whole on one rank), %llu pad tokens, %s\n", name,
        p.makespan() / (p.stats().sum / static_cast<double>(cp)), p.chunks.size(), lengths.size(), whole,
        static_cast<unsigned long long>(tokens - total - (lengths.size() > packs[busiest].size() ? lengths.back() : 0)),
        p.token_spread() == 0 ? "equal tokens" : "unequal tokens");
  };
  report("zigzag", zigzag);
  report("fulcrum", plan);
  std::printf("fulcrum's largest rank / zig-zag's: %.4f (lower bound gap %.2e)\n", plan.makespan() / zigzag.makespan(),
              plan.gap());
  return plan.makespan() <= zigzag.makespan() && plan.token_spread() == 0 ? 0 : 1;
}
