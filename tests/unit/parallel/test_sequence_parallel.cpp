// Sequence parallelism (parallel/sequence_parallel.hpp) and per-document pack costs
// (core/document_cost.hpp): the SP cost terms by hand, pack_for_sp_groups against capacity and a
// brute-force bin count, balance_sp_groups against brute force over every assignment, and
// balance() of packs using the per-document sum.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/core/document_cost.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/parallel/sequence_parallel.hpp>

namespace {

/// Least makespan over every assignment of costs to k parts.
double brute_makespan(const std::vector<double>& costs, std::size_t k) {
  std::vector<std::size_t> part(costs.size(), 0);
  double best = 1e300;
  while (true) {
    std::vector<double> load(k, 0);
    for (std::size_t i = 0; i < costs.size(); ++i) load[part[i]] += costs[i];
    best = std::min(best, *std::max_element(load.begin(), load.end()));
    std::size_t i = 0;
    while (i < costs.size() && ++part[i] == k) part[i++] = 0;
    if (i == costs.size()) break;
  }
  return best;
}

/// Least number of bins of `capacity` holding `sizes` (subset search, n <= 10).
std::size_t brute_bins(const std::vector<std::uint64_t>& sizes, std::uint64_t capacity) {
  const std::size_t n = sizes.size();
  const std::size_t full = (std::size_t{1} << n) - 1;
  std::vector<std::uint64_t> sum(full + 1, 0);
  for (std::size_t m = 1; m <= full; ++m) {
    const std::size_t low = m & (~m + 1);
    sum[m] = sum[m ^ low] + sizes[static_cast<std::size_t>(__builtin_ctzll(low))];
  }
  std::vector<std::size_t> bins(full + 1, n + 1);
  bins[0] = 0;
  for (std::size_t m = 1; m <= full; ++m)
    for (std::size_t s = m; s; s = (s - 1) & m)
      if (sum[s] <= capacity) bins[m] = std::min(bins[m], bins[m ^ s] + 1);
  return bins[full];
}

}  // namespace

TEST_CASE("sequence parallel: spec and cost terms by hand") {
  const fulcrum::sp_spec sp{4, 8192};
  CHECK(sp.capacity() == 32768);
  CHECK(sp.padded(10) == 12);
  CHECK(sp.padded(12) == 12);
  CHECK(fulcrum::sp_group_first_rank(sp, 3) == 12);
  const auto cost = fulcrum::make_sp_cost(sp, fulcrum::attention_cost{1.0, 0.5, 0.0}, 2.0);
  // 10 tokens -> 12 padded: compute (12 + 0.5 * 144) / 4 = 21, all-to-all 2 * 12 * 3/4 = 18.
  CHECK(cost(10) == doctest::Approx(39.0));
  // A pack of 4 + 6 tokens (padded 10 -> 12, padding is a segment of 2):
  // compute ((4 + 8) + (6 + 18) + (2 + 2)) / 4 = 10, all-to-all 18.
  CHECK(cost(std::vector<int>{4, 6}) == doctest::Approx(28.0));
  // Degree 1 is the model itself.
  const auto one = fulcrum::make_sp_cost(fulcrum::sp_spec{1, 100}, fulcrum::attention_cost{1.0, 0.5, 0.0}, 2.0);
  CHECK(one(10) == doctest::Approx(60.0));
  CHECK_THROWS_WITH_AS((void)fulcrum::make_sp_cost(fulcrum::sp_spec{0, 10}), doctest::Contains("sp.degree"),
                       fulcrum::invalid_input);
  CHECK_THROWS_WITH_AS((void)fulcrum::make_sp_cost(fulcrum::sp_spec{2, 0}), doctest::Contains("per_gpu_tokens"),
                       fulcrum::invalid_input);
}

TEST_SUITE("properties") {
  TEST_CASE("sequence parallel: pack_for_sp_groups against capacity and brute-force bins") {
    fulcrum::rng gen(41);
    for (int round = 0; round < 60; ++round) {
      const fulcrum::sp_spec sp{1 + static_cast<std::size_t>(gen.below(4)), 8 + gen.below(24)};
      const std::size_t n = 1 + static_cast<std::size_t>(gen.below(10));
      std::vector<std::uint64_t> sizes(n);
      for (auto& s : sizes) s = 1 + gen.below(sp.capacity());
      const std::size_t groups = 1 + static_cast<std::size_t>(gen.below(3));
      const auto p = fulcrum::pack_for_sp_groups(sizes, sp, groups);
      INFO("round " << round);
      std::vector<int> seen(n, 0);
      for (std::size_t s = 0; s < p.steps(); ++s)
        for (std::size_t g = 0; g < groups; ++g) {
          std::uint64_t tokens = 0;
          for (auto i : p.bins(s, g)) {
            ++seen[i];
            tokens += sizes[i];
          }
          CHECK(sp.padded(tokens) <= sp.capacity());
        }
      for (int c : seen) CHECK(c == 1);
      const auto padded = fulcrum::sp_padded_tokens(p, sp);
      for (std::size_t b = 0; b < padded.size(); ++b) {
        CHECK(padded[b] % sp.degree == 0);
        CHECK(padded[b] <= sp.capacity());
      }
      const std::size_t opt = brute_bins(sizes, sp.capacity());
      CHECK(p.lower_bound <= opt);
      CHECK(p.used_bins >= opt);
    }
  }

  TEST_CASE("sequence parallel: balance_sp_groups against brute force") {
    fulcrum::rng gen(43);
    for (int round = 0; round < 60; ++round) {
      const fulcrum::sp_spec sp{1 + static_cast<std::size_t>(gen.below(4)), 4096};
      const std::size_t n = 1 + static_cast<std::size_t>(gen.below(8));
      const std::size_t groups = 2 + static_cast<std::size_t>(gen.below(2));
      std::vector<std::uint32_t> lengths(n);
      for (auto& l : lengths) l = static_cast<std::uint32_t>(1 + gen.below(sp.capacity()));
      const double a2a = static_cast<double>(gen.below(3));
      const auto plan = fulcrum::balance_sp_groups(lengths, sp, groups, {}, fulcrum::attention_cost{}, a2a);
      const auto cost = fulcrum::make_sp_cost(sp, fulcrum::attention_cost{}, a2a);
      std::vector<double> costs;
      for (auto l : lengths) costs.push_back(cost(l));
      const double opt = brute_makespan(costs, groups);
      INFO("round " << round << " opt " << opt << " got " << plan.makespan);
      CHECK(plan.lower_bound <= opt * (1 + 1e-12));
      CHECK(plan.makespan >= opt * (1 - 1e-12));
      CHECK(plan.makespan <= opt * (4.0 / 3.0) * (1 + 1e-12));
      if (plan.proven_optimal) CHECK(plan.makespan <= opt * (1 + 1e-12));
    }
  }
}

TEST_CASE("sequence parallel: an item longer than a group is infeasible") {
  const std::vector<std::uint32_t> lengths = {10, 70};
  CHECK_THROWS_WITH_AS((void)fulcrum::balance_sp_groups(lengths, fulcrum::sp_spec{2, 32}, 2),
                       doctest::Contains("item tokens[1]"), fulcrum::infeasible);
  CHECK_THROWS_AS((void)fulcrum::pack_for_sp_groups(lengths, fulcrum::sp_spec{2, 32}, 2), fulcrum::infeasible);
}

TEST_CASE("per-document cost: a pack of short documents costs less than one long document") {
  const fulcrum::per_document_cost model{1.0, 1.0 / 4096.0, 0.0};
  const std::vector<std::uint32_t> many_short(16, 512);  // 8192 tokens in 16 documents
  const std::vector<std::uint32_t> one_long = {8192};
  CHECK(model(many_short) == doctest::Approx(8192 + 16 * 512.0 * 512.0 / 4096.0));
  CHECK(model(one_long) == doctest::Approx(8192 + 8192.0 * 8192.0 / 4096.0));
  CHECK(model(many_short) < model(one_long));
  // The whole-length model would price both the same.
  CHECK(fulcrum::attention_cost{}(8192) == doctest::Approx(model(one_long)));

  // balance() of packs (ranges of document lengths) uses the per-document sum: two ranks, packs
  // {8192}, {16 x 512}, {8192}, {16 x 512}. Per-document, a long pack costs 24576 and a short one
  // 9216; equal total lengths would make any 2 + 2 split look balanced, but the per-document
  // optimum pairs a long pack with a short one on each rank.
  const std::vector<std::vector<std::uint32_t>> packs = {one_long, many_short, one_long, many_short};
  const auto p = fulcrum::balance(packs, 2, {}, model);
  CHECK(p.makespan == doctest::Approx(model(one_long) + model(many_short)));
  CHECK(p.proven_optimal);
  for (std::size_t r = 0; r < 2; ++r) {
    const auto part = p.parts[r];
    REQUIRE(part.size() == 2);
    CHECK(packs[part[0]].size() != packs[part[1]].size());  // one long, one short pack
  }
  // The same through a grouping of documents: pack_document_costs.
  const std::vector<std::uint32_t> docs = {8192, 512, 512, 512};
  const auto grouping = fulcrum::grouping::from_groups({{0}, {1, 2, 3}});
  const auto costs = fulcrum::pack_document_costs(grouping, docs, model);
  CHECK(costs[0] == doctest::Approx(model(8192)));
  CHECK(costs[1] == doctest::Approx(model(std::vector<std::uint32_t>{512, 512, 512})));
  // c is counted once per pack.
  const fulcrum::per_document_cost with_c{1.0, 0.0, 100.0};
  CHECK(fulcrum::pack_document_costs(grouping, docs, with_c)[1] == doctest::Approx(1536 + 100));
  CHECK(with_c(std::vector<std::uint32_t>{512, 512, 512}) == doctest::Approx(1536 + 100));
}

TEST_CASE("effective tokens: masked prompt tokens and padding do not count") {
  const fulcrum::effective_tokens_cost cost;
  CHECK(cost(fulcrum::document_tokens{100, 30}) == 70.0);
  CHECK(cost(fulcrum::document_tokens{10, 30}) == 0.0);
  CHECK(cost(std::vector<fulcrum::document_tokens>{{100, 30}, {50, 0}}) == 120.0);
  CHECK(cost(std::vector<std::uint32_t>{100, 50}) == 150.0);
  // Two packs of 200 tokens each: one mostly prompt. By effective tokens, the two mostly-answer
  // packs go to different parts.
  const std::vector<std::vector<fulcrum::document_tokens>> packs = {
      {{200, 0}}, {{200, 0}}, {{200, 190}}, {{100, 90}, {100, 90}}};
  const auto p = fulcrum::balance(packs, 2, {}, cost);
  // Effective costs 200, 200, 10, 20: the optimum is {200, 10} and {200, 20}. By total tokens
  // (200 each) any 2 + 2 split would look balanced.
  CHECK(p.makespan == 220.0);
  CHECK(p.proven_optimal);
  const auto a = p.parts[0];
  REQUIRE(a.size() == 2);
  CHECK(((a[0] <= 1) != (a[1] <= 1)));  // one of the two answer-heavy packs on each part
}
