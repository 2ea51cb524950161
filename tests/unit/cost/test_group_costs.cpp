#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/grouped.hpp>
#include <fulcrum/core/document_cost.hpp>
#include <fulcrum/core/flops_model.hpp>
#include <fulcrum/core/rng.hpp>

using namespace fulcrum;

// Group costs through balance(): the items are packs (each a range of document lengths) and the
// cost model prices a pack as a whole (per_document_cost, the FLOPs model, padded_cost); a part's
// load is the sum of its packs' costs (a rank runs its packs one after the other). Brute force
// over every assignment of up to 7 packs to 2 or 3 parts: each plan places every pack exactly
// once, its loads recompute, and lower_bound <= optimum <= makespan; the complete search reaches
// the optimum. Costs are exact integers or dyadic fractions, so sums do not depend on order.
namespace {
using pack = std::vector<std::uint32_t>;

struct optimum {
  double any = 0;    // over every assignment
  double equal = 0;  // over assignments with floor(n/k) or ceil(n/k) packs per part
};

optimum brute_force(const std::vector<double>& costs, std::size_t k) {
  const std::size_t n = costs.size();
  std::size_t total = 1;
  for (std::size_t i = 0; i < n; ++i) total *= k;
  optimum best{1e300, 1e300};
  std::vector<double> load(k);
  std::vector<std::size_t> count(k);
  for (std::size_t code = 0; code < total; ++code) {
    std::fill(load.begin(), load.end(), 0.0);
    std::fill(count.begin(), count.end(), 0);
    std::size_t c = code;
    for (std::size_t i = 0; i < n; ++i, c /= k) load[c % k] += costs[i], ++count[c % k];
    const double mx = *std::max_element(load.begin(), load.end());
    best.any = std::min(best.any, mx);
    const auto [lo, hi] = std::minmax_element(count.begin(), count.end());
    if (*hi - *lo <= 1) best.equal = std::min(best.equal, mx);
  }
  return best;
}

template <class Model>
void check_instances(const Model& model, std::uint64_t seed) {
  rng g(seed);
  const balance_algorithm algorithms[] = {balance_algorithm::automatic,      balance_algorithm::greedy,
                                          balance_algorithm::karmarkar_karp, balance_algorithm::multifit,
                                          balance_algorithm::local_search,   balance_algorithm::complete};
  for (int trial = 0; trial < 60; ++trial) {
    const std::size_t n = 1 + g.below(7);
    const std::size_t k = 2 + g.below(2);
    std::vector<pack> packs(n);
    for (auto& p : packs) {
      p.resize(1 + g.below(4));
      for (auto& l : p) l = static_cast<std::uint32_t>(1 + g.below(g.uniform() < 0.2 ? 8192 : 512));
    }
    std::vector<double> costs;
    for (const auto& p : packs) costs.push_back(model(p));
    const optimum opt = brute_force(costs, k);
    for (auto algorithm : algorithms)
      for (bool equal : {false, true}) {
        CAPTURE(trial);
        CAPTURE(static_cast<int>(algorithm));
        CAPTURE(equal);
        balance_options o;
        o.algorithm = algorithm;
        o.equal_counts = equal;
        const partition plan = balance(packs, k, o, model);
        REQUIRE(plan.parts.size() == k);
        std::vector<int> seen(n, 0);
        double makespan = 0;
        for (std::size_t r = 0; r < k; ++r) {
          double load = 0;
          for (auto i : plan.parts[r]) ++seen[i], load += model(packs[i]);
          CHECK(load == plan.loads[r]);
          makespan = std::max(makespan, load);
          if (equal) CHECK(plan.parts[r].size() + 1 >= n / k);
        }
        for (int s : seen) CHECK(s == 1);
        CHECK(makespan == plan.makespan);
        const double best = equal ? opt.equal : opt.any;
        CHECK(plan.lower_bound <= best);
        CHECK(best <= plan.makespan);
        if (algorithm == balance_algorithm::complete) CHECK(plan.makespan == best);
        if (plan.proven_optimal) CHECK(plan.makespan == best);
      }
  }
}
}  // namespace

TEST_SUITE("cost") {
  TEST_CASE("balance of packs under per_document_cost matches brute force") {
    static_assert(cost_model_for<per_document_cost, pack>);
    check_instances(per_document_cost{1.0, 1.0 / 4096, 64.0}, 1);
  }

  TEST_CASE("balance of packs under the flops model matches brute force") {
    transformer_config c;
    c.layers = 2, c.hidden = 64, c.ffn = 176, c.heads = 4, c.kv_heads = 2, c.vocab = 100;
    static_assert(cost_model_for<flops_model, pack>);
    check_instances(flops_model(c), 2);
  }

  TEST_CASE("balance of padded packs matches brute force") {
    // A pack padded to its longest document: count x longest.
    static_assert(cost_model_for<padded_cost, pack>);
    check_instances(padded_cost{1.0}, 3);
  }
}

TEST_SUITE("cost") {
  TEST_CASE("balance under padded_cost is optimal against brute force") {
    rng g(4);
    for (int trial = 0; trial < 400; ++trial) {
      const std::size_t n = g.below(9);
      const std::size_t k = 1 + g.below(4);
      std::vector<std::uint32_t> len(n);
      for (auto& l : len) l = static_cast<std::uint32_t>(g.below(g.uniform() < 0.3 ? 4 : 300));  // ties, zeros
      const double per_token = trial % 2 == 0 ? 1.0 : 0.5;
      const partition plan = balance(len, k, {}, padded_cost{per_token});
      CAPTURE(trial);
      REQUIRE(plan.parts.size() == k);
      std::vector<int> seen(n, 0);
      double makespan = 0;
      for (std::size_t r = 0; r < k; ++r) {
        std::uint32_t mx = 0;
        for (auto i : plan.parts[r]) ++seen[i], mx = std::max(mx, len[i]);
        const double load = per_token * static_cast<double>(mx) * static_cast<double>(plan.parts[r].size());
        CHECK(load == plan.loads[r]);
        makespan = std::max(makespan, load);
      }
      for (int s : seen) CHECK(s == 1);
      CHECK(makespan == plan.makespan);
      // Every assignment of the n items to k parts.
      std::size_t total = 1;
      for (std::size_t i = 0; i < n; ++i) total *= k;
      double best = 1e300;
      for (std::size_t code = 0; code < total; ++code) {
        std::vector<std::uint32_t> mx(k, 0);
        std::vector<std::size_t> count(k, 0);
        std::size_t c = code;
        for (std::size_t i = 0; i < n; ++i, c /= k) mx[c % k] = std::max(mx[c % k], len[i]), ++count[c % k];
        double worst = 0;
        for (std::size_t r = 0; r < k; ++r)
          worst = std::max(worst, per_token * static_cast<double>(mx[r]) * static_cast<double>(count[r]));
        best = std::min(best, worst);
      }
      CHECK(plan.makespan == best);
      CHECK(plan.lower_bound == best);
      CHECK(plan.proven_optimal);
    }
  }

  TEST_CASE("balance under padded_cost beats balancing by tokens on padded micro-batches") {
    // W2-like lengths onto 64 micro-batches: balancing the token sums ignores the padding, the
    // padded optimum puts long items together.
    rng g(8);
    std::vector<std::uint32_t> len(4096);
    for (auto& l : len) l = static_cast<std::uint32_t>(std::clamp(std::round(g.lognormal(500, 1.2)), 16.0, 32768.0));
    const partition padded = balance(len, 64, {}, padded_cost{1.0});
    const partition by_tokens = balance(len, 64);
    double by_tokens_padded = 0;
    for (std::size_t r = 0; r < 64; ++r) {
      std::uint32_t mx = 0;
      for (auto i : by_tokens.parts[r]) mx = std::max(mx, len[i]);
      by_tokens_padded =
          std::max(by_tokens_padded, static_cast<double>(mx) * static_cast<double>(by_tokens.parts[r].size()));
    }
    CHECK(padded.makespan < by_tokens_padded);
  }

  TEST_CASE("balance under padded_cost rejects bad input naming the field") {
    const std::vector<int> len{3, -1, 2};
    CHECK_THROWS_WITH_AS(static_cast<void>(balance(len, 2, {}, padded_cost{})), doctest::Contains("value[1] = -1"),
                         invalid_input);
    const std::vector<int> ok{3, 1, 2};
    CHECK_THROWS_WITH_AS(static_cast<void>(balance(ok, 0, {}, padded_cost{})), doctest::Contains("k = 0"),
                         invalid_input);
    CHECK_THROWS_WITH_AS(static_cast<void>(balance(ok, 2, {}, padded_cost{-1.0})), doctest::Contains("per_token = -1"),
                         invalid_input);
    const std::vector<int> none;
    CHECK(balance(none, 3, {}, padded_cost{}).makespan == 0.0);
  }
}
