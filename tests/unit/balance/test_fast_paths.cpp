// The balance fast paths of issue 22 (pair_resplit's two-source differencing and radix-sorted
// starting pairs, the tournament-tree equal-counts LPT, Karmarkar-Karp's given order and
// side-by-side list walks) changed no plan: golden hashes pinned with the code before them, and
// the equal-counts LPT against the heap with lazy deletion it replaced.
#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/detail/order.hpp>
#include <fulcrum/balance/detail/pair_resplit.hpp>
#include <fulcrum/balance/detail/sums.hpp>
#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/balance/two_level.hpp>
#include <fulcrum/core/hash.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/testing/checkers.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {

std::vector<cost_t> w1_costs(std::size_t n, bool verl) {
  const auto tokens = testing::generate_w1_tokens(n);
  std::vector<cost_t> c(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double l = tokens[i];
    c[i] = verl ? 24576 * l + l * l : l + l * l / 4096;
  }
  return c;
}

std::uint64_t plan_hash(const grouping& g) {
  return fnv1a64{1469598103934665603ull}.integers(g.offsets()).integers(g.indices()).value();
}

// The equal-counts LPT as it was before the tournament tree: a binary heap of (load, part) with
// full parts dropped lazily from the top.
void reference_lpt_equal_counts(std::span<const cost_t> costs, std::span<const index_type> order,
                                std::span<cost_t> loads, std::span<index_type> part_of) {
  const std::size_t k = loads.size(), n = order.size();
  const std::size_t f = n / k, r = n % k;
  struct entry {
    cost_t load;
    index_type part;
  };
  const auto lighter = [](const entry& a, const entry& b) {
    return a.load < b.load || (a.load == b.load && a.part < b.part);
  };
  std::vector<entry> heap(k);
  std::vector<std::size_t> count(k, 0);
  std::size_t size = k, ceil_used = 0;
  for (std::size_t p = 0; p < k; ++p) heap[p] = {loads[p], static_cast<index_type>(p)};
  const auto sift_down = [&](std::size_t i) {
    const entry moving = heap[i];
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && lighter(heap[child + 1], heap[child])) ++child;
      if (!lighter(heap[child], moving)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = moving;
  };
  const auto full = [&](std::size_t p) { return count[p] > f || (count[p] == f && ceil_used >= r); };
  for (std::size_t i = size / 2; i-- > 0;) sift_down(i);
  for (index_type item : order) {
    while (full(heap[0].part)) {
      heap[0] = heap[--size];
      sift_down(0);
    }
    const index_type part = heap[0].part;
    part_of[item] = part;
    heap[0].load += costs[item];
    loads[part] = heap[0].load;
    if (++count[part] > f) ++ceil_used;
    sift_down(0);
  }
}

}  // namespace

TEST_SUITE("balance") {
  TEST_CASE("fast paths: equal-counts LPT matches the lazy-deletion heap on ties - zeros - starting loads") {
    rng gen(2026);
    for (int trial = 0; trial < 400; ++trial) {
      const std::size_t n = gen.below(200), k = 1 + gen.below(trial % 3 == 0 ? 40 : 9);
      std::vector<cost_t> costs(n);
      for (auto& c : costs) c = static_cast<cost_t>(gen.below(trial % 2 == 0 ? 4 : 1000));  // many ties and zeros
      std::vector<cost_t> start(k, 0.0);
      if (trial % 4 == 1)
        for (auto& l : start) l = static_cast<cost_t>(gen.below(50));
      // A subset of the items, in cost-descending order (as the callers pass it).
      const auto order_all = detail::radix_order_descending(costs);
      std::vector<index_type> order;
      for (index_type i : order_all)
        if (trial % 5 != 2 || i % 3 != 0) order.push_back(i);
      std::vector<cost_t> loads_a = start, loads_b = start;
      std::vector<index_type> a(n, 0), b(n, 0);
      detail::lpt_equal_counts_into(costs, order, loads_a, a);
      reference_lpt_equal_counts(costs, order, loads_b, b);
      CHECK_MESSAGE(a == b, "trial " << trial << " n " << n << " k " << k);
      CHECK(loads_a == loads_b);
    }
  }

  TEST_CASE("fast paths: balance plans pinned before the speed-ups (issue 22)") {
    struct pinned {
      std::size_t n, k;
      bool verl;
      balance_algorithm algorithm;
      bool equal_counts;
      std::uint64_t hash;
    };
    const pinned cases[] = {
        {65536, 512, false, balance_algorithm::automatic, false, 5377394782185817724ull},
        {65536, 512, false, balance_algorithm::karmarkar_karp, false, 8106639950136771475ull},
        {65536, 512, false, balance_algorithm::automatic, true, 3658317555319863598ull},
        {65536, 64, true, balance_algorithm::automatic, true, 3233311500178372442ull},
        {65536, 64, true, balance_algorithm::karmarkar_karp, true, 8632127102273517270ull},
        {65536, 64, true, balance_algorithm::automatic, false, 17407942133514041995ull},
        {20000, 64, true, balance_algorithm::multifit, true, 2811491720822266646ull},
        {20000, 64, true, balance_algorithm::greedy, true, 2811491720822266646ull},
        {20000, 64, true, balance_algorithm::local_search, true, 2709340015659929326ull},
        {4096, 64, false, balance_algorithm::automatic, true, 8465615013880403883ull},
    };
    for (const auto& c : cases) {
      balance_options o;
      o.algorithm = c.algorithm;
      o.equal_counts = c.equal_counts;
      const auto costs = w1_costs(c.n, c.verl);
      const auto p = balance(costs, c.k, o);
      REQUIRE(testing::check_exactly_once(p.parts, costs.size()));
      CHECK_MESSAGE(plan_hash(p.parts) == c.hash, "n " << c.n << " k " << c.k << " algorithm "
                                                       << static_cast<int>(c.algorithm) << " equal " << c.equal_counts);
    }
  }

  TEST_CASE("fast paths: two-level plans pinned before the speed-ups (issue 22)") {
    const auto costs = w1_costs(4096, false);
    const std::uint64_t golden[2] = {16336777155493765366ull, 12773618458010398971ull};
    for (int eq = 0; eq < 2; ++eq) {
      balance_options o;
      o.equal_counts = eq != 0;
      const auto t = balance_two_level(costs, 64, 4, o);
      fnv1a64 h{1469598103934665603ull};
      h.integers(t.ranks.parts.offsets()).integers(t.ranks.parts.indices());
      for (std::size_t j = 0; j < t.micro_batches_per_rank(); ++j)
        for (std::size_t r = 0; r < t.rank_count(); ++r) h.integers(t.micro_batch(r, j));
      CHECK_MESSAGE(h.value() == golden[eq], "equal counts " << eq);
    }
  }
}

TEST_SUITE("balance") {
  TEST_CASE("fast paths: pair re-split takes the same steps with exact sums and integer keys as without") {
    // The exact-sum path (cost order only, loads by difference) and the integer-key differencing
    // against the general path (index-order sums, (gap, id) nodes), on inputs where sums are exact
    // (whole numbers, halves, ties and zeros) and where they are not.
    rng gen(7);
    int exact_inputs = 0;
    for (int trial = 0; trial < 240; ++trial) {
      const std::size_t n = 2 + gen.below(trial % 4 == 0 ? 3000 : 400), k = 2 + gen.below(trial % 3 == 0 ? 40 : 7);
      std::vector<cost_t> costs(n);
      for (auto& c : costs) {
        const auto v = static_cast<cost_t>(gen.below(trial % 2 == 0 ? 6 : 100000));
        switch (trial % 4) {
          case 0:
            c = v;
            break;  // whole numbers (many ties)
          case 1:
            c = v / 2;
            break;  // halves
          case 2:
            c = v * 1.37 + v * v / 4096.0;
            break;  // not exact
          default:
            c = v + static_cast<cost_t>(gen.below(2)) * 0x1p45;
            break;  // wide range
        }
      }
      const bool exact = detail::sums_are_exact(costs);
      exact_inputs += exact ? 1 : 0;
      const bool equal_counts = trial % 2 == 1;
      const auto order = detail::radix_order_descending(costs);
      // A poor start (round robin in index order) leaves the re-splits work to do.
      std::vector<index_type> start(n);
      for (std::size_t i = 0; i < n; ++i) start[i] = static_cast<index_type>(i % k);
      std::vector<index_type> reference = start;
      detail::pair_resplit general(costs, order, k, reference, equal_counts, false);
      general.allow_integer_keys(false);
      const auto reference_steps = general.run(0.0, 4 * k, 8);
      for (int variant = 0; variant < 3; ++variant) {
        const bool fast_sums = variant != 1 && exact, keys = variant != 0;
        std::vector<index_type> got = start;
        detail::pair_resplit r(costs, order, k, got, equal_counts, fast_sums);
        r.allow_integer_keys(keys);
        const auto steps = r.run(0.0, 4 * k, 8);
        CHECK_MESSAGE(steps == reference_steps, "trial " << trial << " variant " << variant);
        CHECK_MESSAGE(got == reference, "trial " << trial << " variant " << variant);
      }
    }
    CHECK(exact_inputs >= 100);  // both paths were taken
  }
}
