// Context parallelism (parallel/context_parallel.hpp): every token on exactly one rank, token
// counts within the slack, brute force over every token-to-rank assignment on small cases (the
// lower bound is valid, the plan is no better than the optimum and within its stated bound), and
// never worse than Megatron's zig-zag.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/parallel/context_parallel.hpp>

using fulcrum::cp_method;
using fulcrum::cp_plan;

namespace {

/// Every token of document d in [0, padded_lengths[d]) on exactly one rank; totals recomputed.
std::string check_cover(const cp_plan& p, const std::vector<std::uint32_t>& lengths, const fulcrum::cp_cost& cost) {
  if (p.padded_lengths.size() != lengths.size()) return "padded_lengths size";
  std::vector<std::vector<int>> owner(lengths.size());
  for (std::size_t d = 0; d < lengths.size(); ++d) {
    if (p.padded_lengths[d] < lengths[d]) return "padded length below length";
    if (p.method != cp_method::zigzag_padded && p.padded_lengths[d] != lengths[d])
      return "padding without zigzag_padded";
    owner[d].assign(p.padded_lengths[d], -1);
  }
  for (std::size_t r = 0; r < p.cp; ++r) {
    std::uint64_t tokens = 0, pairs = 0;
    for (const auto& c : p.rank_chunks(r)) {
      if (c.document >= lengths.size() || c.end > p.padded_lengths[c.document] || c.begin >= c.end) return "bad chunk";
      for (std::uint32_t t = c.begin; t < c.end; ++t) {
        if (owner[c.document][t] != -1) return "token twice";
        owner[c.document][t] = static_cast<int>(r);
        ++tokens;
        pairs += t + 1;
      }
    }
    if (tokens != p.rank_tokens[r] || pairs != p.rank_pairs[r]) return "rank totals";
    const double expect = (cost.per_token * static_cast<double>(tokens) + cost.per_pair * static_cast<double>(pairs)) +
                          cost.per_chunk * static_cast<double>(p.rank_chunks(r).size());
    if (std::abs(expect - p.rank_costs[r]) > 1e-9 * std::max(1.0, expect)) return "rank cost";
  }
  for (const auto& o : owner)
    for (int r : o)
      if (r < 0) return "token missing";
  return "";
}

/// The least makespan over every assignment of tokens to ranks whose per-rank token counts
/// differ by at most `spread` (chunks = maximal runs of a document's tokens on one rank).
double brute_force(const std::vector<std::uint32_t>& lengths, std::size_t cp, const fulcrum::cp_cost& cost,
                   std::uint64_t spread) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> tokens;  // (document, position)
  for (std::uint32_t d = 0; d < lengths.size(); ++d)
    for (std::uint32_t t = 0; t < lengths[d]; ++t) tokens.push_back({d, t});
  const std::size_t n = tokens.size();
  std::vector<std::size_t> rank(n, 0);
  double best = 1e300;
  while (true) {
    std::vector<std::uint64_t> count(cp, 0), pairs(cp, 0), chunks(cp, 0);
    for (std::size_t i = 0; i < n; ++i) {
      ++count[rank[i]];
      pairs[rank[i]] += tokens[i].second + 1;
      if (i == 0 || tokens[i - 1].first != tokens[i].first || rank[i - 1] != rank[i]) ++chunks[rank[i]];
    }
    const auto [lo, hi] = std::minmax_element(count.begin(), count.end());
    if (*hi - *lo <= spread) {
      double worst = 0;
      for (std::size_t r = 0; r < cp; ++r)
        worst = std::max(
            worst, (cost.per_token * static_cast<double>(count[r]) + cost.per_pair * static_cast<double>(pairs[r])) +
                       cost.per_chunk * static_cast<double>(chunks[r]));
      best = std::min(best, worst);
    }
    std::size_t i = 0;
    while (i < n && ++rank[i] == cp) rank[i++] = 0;
    if (i == n) break;
  }
  return best;
}

}  // namespace

TEST_CASE("context parallel: causal pairs and a hand-checked zig-zag") {
  CHECK(fulcrum::causal_pairs(0, 4) == 10);  // 1 + 2 + 3 + 4
  CHECK(fulcrum::causal_pairs(2, 5) == 12);  // 3 + 4 + 5
  const std::vector<std::uint32_t> lengths = {8};
  fulcrum::cp_options opts;
  opts.method = cp_method::zigzag;
  const auto p = fulcrum::plan_context_parallel(lengths, 2, opts);
  // 4 chunks of 2: rank 0 gets [0,2) + [6,8), rank 1 gets [2,6) (chunks 1 and 2 merged).
  REQUIRE(p.rank_chunks(0).size() == 2);
  CHECK(p.rank_chunks(0)[0] == fulcrum::cp_chunk{0, 0, 2});
  CHECK(p.rank_chunks(0)[1] == fulcrum::cp_chunk{0, 6, 8});
  CHECK(p.rank_chunks(1)[0] == fulcrum::cp_chunk{0, 2, 6});
  CHECK(p.rank_pairs[0] == 18);  // 1 + 2 + 7 + 8
  CHECK(p.rank_pairs[1] == 18);  // 3 + 4 + 5 + 6
  CHECK(p.proven_optimal);
  CHECK(p.gap() == 0.0);
}

TEST_CASE("context parallel: short documents stay whole and long ones are split") {
  // One 4096-token document and 32 documents of 128: zig-zag splits all 33 in 8 chunks; fill
  // keeps (nearly) every short document on one rank.
  std::vector<std::uint32_t> lengths(32, 128);
  lengths.push_back(4096);
  fulcrum::cp_options opts;
  opts.cost.per_chunk = 64.0 * 64.0;  // a kernel tile
  const auto zz = fulcrum::plan_context_parallel(lengths, 4, fulcrum::cp_options{cp_method::zigzag, opts.cost, 0});
  const auto fill = fulcrum::plan_context_parallel(lengths, 4, fulcrum::cp_options{cp_method::fill, opts.cost, 0});
  const auto best = fulcrum::plan_context_parallel(lengths, 4, opts);
  CHECK(check_cover(fill, lengths, opts.cost) == "");
  CHECK(fill.token_spread() == 0);
  CHECK(fill.chunks.size() < zz.chunks.size() / 4);
  std::size_t whole = 0;
  for (const auto& c : fill.chunks) whole += (c.begin == 0 && c.end == lengths[c.document]) ? 1 : 0;
  CHECK(whole >= 28);
  CHECK(fill.makespan() < zz.makespan());
  CHECK(best.makespan() <= fill.makespan());
  CHECK(best.stats().imbalance < 1.01);
}

TEST_SUITE("properties") {
  TEST_CASE("context parallel: brute force over every token assignment on small cases") {
    fulcrum::rng gen(29);
    const fulcrum::cp_cost costs[] = {{0, 1, 0}, {1, 1, 0}, {0, 1, 6}, {2, 1, 3}};
    for (int round = 0; round < 80; ++round) {
      const std::size_t cp = 2 + static_cast<std::size_t>(gen.below(2));
      const std::size_t max_tokens = cp == 2 ? 12 : 9;
      std::vector<std::uint32_t> lengths;
      std::uint64_t total = 0;
      const std::size_t docs = 1 + static_cast<std::size_t>(gen.below(3));
      for (std::size_t d = 0; d < docs && total < max_tokens; ++d) {
        const auto l = static_cast<std::uint32_t>(
            std::min<std::uint64_t>(1 + gen.below(std::min<std::uint64_t>(10, max_tokens)), max_tokens - total));
        lengths.push_back(l);
        total += l;
      }
      const auto& cost = costs[round % 4];
      const std::uint64_t slack = total % cp == 0 ? 0 : 1;
      fulcrum::cp_options opts{cp_method::automatic, cost, slack};
      const auto plan = fulcrum::plan_context_parallel(lengths, cp, opts);
      const auto fill = fulcrum::plan_context_parallel(lengths, cp, fulcrum::cp_options{cp_method::fill, cost, slack});
      const auto zz = fulcrum::plan_context_parallel(lengths, cp, fulcrum::cp_options{cp_method::zigzag, cost, slack});
      const auto zzp =
          fulcrum::plan_context_parallel(lengths, cp, fulcrum::cp_options{cp_method::zigzag_padded, cost, slack});
      const double opt = brute_force(lengths, cp, cost, slack);
      INFO("round " << round << " cp " << cp << " docs " << lengths.size() << " opt " << opt);
      for (const cp_plan* p : {&plan, &fill, &zz, &zzp}) CHECK(check_cover(*p, lengths, cost) == "");
      CHECK(fill.token_spread() <= slack);
      CHECK(zzp.token_spread() == 0);
      // The bound is valid for every plan, padded or not.
      CHECK(plan.lower_bound <= opt + 1e-9);
      // No unpadded plan within the slack beats the optimum.
      CHECK(fill.makespan() >= opt - 1e-9);
      if (plan.method != cp_method::zigzag_padded) CHECK(plan.makespan() >= opt - 1e-9);
      // automatic: never worse than zig-zag.
      CHECK(plan.makespan() <= zzp.makespan());
      if (zz.token_spread() <= slack) CHECK(plan.makespan() <= zz.makespan());
      // The fill's stated bound.
      std::uint32_t longest = 0;
      for (auto l : lengths) longest = std::max(longest, l);
      double total_cost = 0;
      for (double c : fill.rank_costs) total_cost += c;
      for (std::size_t r = 0; r < cp; ++r) {
        std::size_t whole = 0;
        for (const auto& c : fill.rank_chunks(r)) whole += (c.begin == 0 && c.end == lengths[c.document]) ? 1 : 0;
        const double mean =
            (total_cost - cost.per_chunk * static_cast<double>(fill.chunks.size())) / static_cast<double>(cp);
        const double bound = mean + 2 * (cost.per_token + cost.per_pair * (longest + 1.0)) +
                             cost.per_chunk * (4.0 + static_cast<double>(whole));
        CHECK(fill.rank_costs[r] <= bound + 1e-9);
      }
      if (plan.proven_optimal) CHECK(plan.makespan() <= opt + 1e-9);
    }
  }

  TEST_CASE("context parallel: random long-tail batches against zig-zag") {
    fulcrum::rng gen(31);
    for (int round = 0; round < 40; ++round) {
      std::vector<std::uint32_t> lengths;
      std::uint64_t total = 0;
      while (total < 32768) {
        auto l = static_cast<std::uint32_t>(std::min(8192.0, 16 + gen.lognormal(500, 1.2)));
        lengths.push_back(l);
        total += l;
      }
      for (const std::size_t cp : {2u, 4u, 8u}) {
        fulcrum::cp_options opts;
        opts.token_slack = 1;
        const auto plan = fulcrum::plan_context_parallel(lengths, cp, opts);
        CHECK(check_cover(plan, lengths, opts.cost) == "");
        CHECK(plan.gap() < 0.002);
        CHECK(plan.token_spread() <= 1);
        // The fill's stated additive bound, on large instances too (per_token 1, per_chunk 64).
        fulcrum::cp_options fill_opts{cp_method::fill, fulcrum::cp_cost{1.0, 1.0, 64.0}, 1};
        const auto fill = fulcrum::plan_context_parallel(lengths, cp, fill_opts);
        std::uint32_t longest = 0;
        double work = 0;
        for (auto l : lengths) {
          longest = std::max(longest, l);
          work += static_cast<double>(l) + static_cast<double>(fulcrum::causal_pairs(0, l));
        }
        for (std::size_t r = 0; r < cp; ++r) {
          std::size_t whole = 0;
          for (const auto& c : fill.rank_chunks(r)) whole += (c.begin == 0 && c.end == lengths[c.document]) ? 1 : 0;
          const double bound =
              work / static_cast<double>(cp) + 2 * (1.0 + (longest + 1.0)) + 64.0 * (4.0 + static_cast<double>(whole));
          CHECK(fill.rank_costs[r] <= bound * (1 + 1e-12));
        }
      }
    }
  }
}

TEST_CASE("context parallel: errors") {
  const std::vector<std::uint32_t> lengths = {3, 4};
  CHECK_THROWS_WITH_AS((void)fulcrum::plan_context_parallel(lengths, 0), doctest::Contains("cp"),
                       fulcrum::invalid_input);
  CHECK_THROWS_WITH_AS((void)fulcrum::plan_context_parallel(lengths, 2, fulcrum::cp_options{cp_method::fill, {}, 0}),
                       doctest::Contains("token_slack"), fulcrum::invalid_input);
  fulcrum::cp_options bad;
  bad.cost.per_pair = -1;
  CHECK_THROWS_AS((void)fulcrum::plan_context_parallel(lengths, 2, bad), fulcrum::invalid_input);
  const std::vector<int> negative = {3, -4};
  CHECK_THROWS_WITH_AS((void)fulcrum::plan_context_parallel(negative, 2), doctest::Contains("negative"),
                       fulcrum::invalid_input);
  // Odd total, no slack: automatic falls back to the padded zig-zag (equal tokens).
  const auto p = fulcrum::plan_context_parallel(lengths, 2);
  CHECK(p.method == cp_method::zigzag_padded);
  CHECK(p.token_spread() == 0);
  CHECK(fulcrum::to_string(cp_method::zigzag_padded) == "zigzag_padded");
}
