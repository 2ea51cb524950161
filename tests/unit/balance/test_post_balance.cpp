#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/balance/post_balance.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/testing/checkers.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {
struct scenario {
  std::vector<cost_t> cost;
  std::vector<index_type> rank;
  std::vector<std::uint64_t> bytes;
};

scenario w1_random_placement(std::size_t n, std::size_t ranks, std::uint64_t seed) {
  const auto w1 = testing::generate_w1(n, seed);
  scenario s;
  rng gen(seed + 1);
  for (const auto& x : w1) {
    const double tokens = static_cast<double>(x.tokens());
    s.cost.push_back(attention_cost{}(x.tokens()));
    s.bytes.push_back(static_cast<std::uint64_t>(tokens) * 2);
    s.rank.push_back(static_cast<index_type>(gen.below(ranks)));
  }
  return s;
}

// Independent recount of the movement of a plan.
void check_movement(const post_balance_result& r, const scenario& s, std::size_t rpn) {
  const auto rank_of = r.plan.parts.assignment(s.cost.size());
  std::uint64_t inter = 0, intra = 0;
  std::size_t moved = 0;
  for (std::size_t i = 0; i < s.cost.size(); ++i) {
    if (rank_of[i] == s.rank[i]) continue;
    ++moved;
    (rank_of[i] / rpn != s.rank[i] / rpn ? inter : intra) += s.bytes[i];
  }
  CHECK(r.bytes_moved_inter_node == inter);
  CHECK(r.bytes_moved_intra_node == intra);
  CHECK(r.samples_moved == moved);
}
}  // namespace

TEST_SUITE("balance") {
  TEST_CASE("post_balance: valid - within the cap - and far less inter-node traffic than LPT re-dispatch") {
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
      const std::size_t ranks = 64, rpn = 8, n = ranks * 32;
      const auto s = w1_random_placement(n, ranks, seed);
      post_balance_options o;
      o.ranks_per_node = rpn;
      o.tolerance = 0.01;
      const auto r = post_balance(s.cost, s.rank, s.bytes, ranks, o);
      const auto once = testing::check_exactly_once(r.plan.parts, n);
      REQUIRE_MESSAGE(once, once.message);
      CHECK(testing::check_loads(r.plan.parts, std::span<const cost_t>(s.cost), std::span<const cost_t>(r.plan.loads)));
      const auto lpt_plan = lpt(s.cost, ranks);
      const double mk = testing::recompute_makespan(r.plan.parts, std::span<const cost_t>(s.cost));
      CHECK(mk <= lpt_plan.makespan * 1.01 * (1 + 1e-9));
      CHECK(r.target_makespan == doctest::Approx(lpt_plan.makespan * 1.01));
      CHECK(testing::check_bound(mk, r.plan.lower_bound));
      check_movement(r, s, rpn);
      // Plain LPT re-dispatch moves almost everything; post_balance a small fraction.
      std::uint64_t total = 0, lpt_inter = 0;
      const auto lpt_rank = lpt_plan.parts.assignment(n);
      for (std::size_t i = 0; i < n; ++i) {
        total += s.bytes[i];
        if (lpt_rank[i] / rpn != s.rank[i] / rpn) lpt_inter += s.bytes[i];
      }
      CHECK(lpt_inter > total / 2);
      CHECK(r.bytes_moved_inter_node * 5 < lpt_inter);
      CHECK(r.bytes_moved_inter_node + r.bytes_moved_intra_node < total / 4);
    }
  }

  TEST_CASE("post_balance: tolerance 0 still meets LPT's makespan (movement may be large)") {
    const auto s = w1_random_placement(512, 16, 5);
    post_balance_options o;
    o.ranks_per_node = 4;
    o.tolerance = 0;
    const auto r = post_balance(s.cost, s.rank, s.bytes, 16, o);
    CHECK(testing::check_exactly_once(r.plan.parts, 512));
    CHECK(r.plan.makespan <= lpt(s.cost, 16).makespan * (1 + 1e-9));
    check_movement(r, s, 4);
  }

  TEST_CASE("post_balance: an already balanced placement does not move - a skewed one moves within the node first") {
    // 2 nodes x 2 ranks, each rank holds two items of cost 5: balanced, nothing moves.
    std::vector<cost_t> c{5, 5, 5, 5, 5, 5, 5, 5};
    std::vector<index_type> at{0, 0, 1, 1, 2, 2, 3, 3};
    std::vector<std::uint64_t> b(8, 100);
    post_balance_options o;
    o.ranks_per_node = 2;
    o.tolerance = 0;
    auto r = post_balance(c, at, b, 4, o);
    CHECK(r.samples_moved == 0);
    CHECK(r.bytes_moved_inter_node + r.bytes_moved_intra_node == 0);
    // Rank 0 holds all of node 0's work: balancing needs only intra-node moves.
    at = {0, 0, 0, 0, 2, 2, 3, 3};
    r = post_balance(c, at, b, 4, o);
    CHECK(r.plan.makespan == 10);
    CHECK(r.bytes_moved_inter_node == 0);
    CHECK(r.bytes_moved_intra_node == 200);
    CHECK(r.samples_moved == 2);
  }

  TEST_CASE("post_balance: random small instances always valid and within the cap") {
    rng gen(77);
    for (int trial = 0; trial < 300; ++trial) {
      const std::size_t ranks = 1 + gen.below(12), rpn = 1 + gen.below(4), n = gen.below(60);
      scenario s;
      for (std::size_t i = 0; i < n; ++i) {
        s.cost.push_back(static_cast<double>(gen.below(100)));
        s.rank.push_back(static_cast<index_type>(gen.below(ranks)));
        s.bytes.push_back(gen.below(1000));
      }
      post_balance_options o;
      o.ranks_per_node = rpn;
      o.tolerance = trial % 2 ? 0.0 : 0.05;
      const auto r = post_balance(s.cost, s.rank, s.bytes, ranks, o);
      REQUIRE(testing::check_exactly_once(r.plan.parts, n));
      REQUIRE(r.plan.parts.size() == ranks);
      CHECK(testing::recompute_makespan(r.plan.parts, std::span<const cost_t>(s.cost)) <=
            lpt(s.cost, ranks).makespan * (1 + o.tolerance) * (1 + 1e-9));
      check_movement(r, s, rpn);
      const auto again = post_balance(s.cost, s.rank, s.bytes, ranks, o);
      CHECK(again.plan.parts == r.plan.parts);  // deterministic
    }
  }

  TEST_CASE("post_balance: bad input is rejected with the field named") {
    const std::vector<cost_t> c{1, 2};
    const std::vector<index_type> at{0, 1};
    const std::vector<std::uint64_t> b{1, 1};
    CHECK_THROWS_AS((void)post_balance(c, at, b, 0), invalid_input);
    CHECK_THROWS_AS((void)post_balance(c, std::vector<index_type>{0}, b, 2), invalid_input);
    CHECK_THROWS_AS((void)post_balance(c, at, std::vector<std::uint64_t>{1}, 2), invalid_input);
    CHECK_THROWS_AS((void)post_balance(c, std::vector<index_type>{0, 2}, b, 2), invalid_input);
    CHECK_THROWS_AS((void)post_balance(std::vector<cost_t>{1, -1}, at, b, 2), invalid_input);
    CHECK_THROWS_AS((void)post_balance(c, at, std::vector<std::uint64_t>{~0ull, 1}, 2), invalid_input);
    post_balance_options o;
    o.ranks_per_node = 0;
    CHECK_THROWS_AS((void)post_balance(c, at, b, 2, o), invalid_input);
    o = {};
    o.tolerance = -1;
    CHECK_THROWS_AS((void)post_balance(c, at, b, 2, o), invalid_input);
    o = {};
    o.balance.equal_counts = true;
    CHECK_THROWS_AS((void)post_balance(c, at, b, 2, o), invalid_input);
    try {
      (void)post_balance(c, std::vector<index_type>{0, 7}, b, 2);
      FAIL("expected invalid_input");
    } catch (const invalid_input& e) {
      CHECK(std::string(e.what()).find("current_rank[1] = 7") != std::string::npos);
    }
  }
}
