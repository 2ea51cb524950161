// Dispatcher over thread_world and single_rank: exactly-once delivery with intact bytes, the
// same number of micro-batches everywhere, planner plug-ins, plan mismatch, reverse exchange.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/balance/two_level.hpp>
#include <fulcrum/comm/single_rank.hpp>
#include <fulcrum/comm/thread_world.hpp>
#include <fulcrum/dispatch/dispatch.hpp>
#include <fulcrum/dispatch/return_results.hpp>
#include <fulcrum/packing/rank_packing.hpp>
#include <fulcrum/testing/checkers.hpp>
#include <fulcrum/testing/dispatch_checks.hpp>

namespace fc = fulcrum::comm;
namespace ft = fulcrum::testing;
using fulcrum::multimodal_sample;
using endpoint = fc::thread_world::endpoint;

namespace {

const auto llm_cost = fulcrum::projected_cost{fulcrum::attention_cost{}, fulcrum::tokens_of{}};
std::size_t small_payload(std::size_t g) { return 8 + (g * 37) % 57; }

fc::thread_world::options patient() {
  fc::thread_world::options o;
  o.timeout = std::chrono::seconds(60);
  return o;
}

/// Independent check of a plan's balance: every sample once, loads recomputed, makespan within
/// LPT's guarantee of the lower bound.
void check_plan(const fulcrum::dispatch_result<multimodal_sample>& r, std::size_t ranks, std::size_t steps) {
  REQUIRE(r.plan.ranks() == ranks);
  REQUIRE(r.plan.steps() == steps);
  REQUIRE(ft::check_exactly_once(r.plan.bins.groups(), r.costs.size()));
  const auto loads = ft::recompute_loads(r.plan.bins.groups(), std::span<const double>(r.costs));
  const double makespan = loads.empty() ? 0 : *std::max_element(loads.begin(), loads.end());
  const double k = static_cast<double>(ranks * steps);
  const double bound = fulcrum::makespan_lower_bound(std::span<const double>(r.costs), ranks * steps);
  CHECK(makespan <= (4.0 / 3.0 - 1.0 / (3.0 * k)) * bound + 1e-9 * bound + 1e-12);
}

}  // namespace

TEST_SUITE("dispatch") {
  TEST_CASE("dispatch over thread_world delivers every sample exactly once - bytes intact") {
    for (std::size_t p : {1u, 2u, 3u, 8u, 64u}) {
      for (std::size_t steps : {1u, 3u}) {
        CAPTURE(p);
        CAPTURE(steps);
        const std::size_t n = p == 64 ? 640 : 37 * p + 5;
        fc::thread_world world(p, patient());
        const auto results = world.run([&](endpoint& c) {
          const auto local = ft::w1_local_batch(n, c.rank(), p, small_payload);
          auto r = fulcrum::dispatch(c, local, llm_cost, steps);
          const auto verdict = ft::check_dispatch(c, local, r);
          if (!verdict) throw std::runtime_error(verdict.message);
          return r;
        });
        for (const auto& r : results) {
          CHECK(r.micro_batches.size() == steps);
          CHECK(r.plan == results[0].plan);
          CHECK(r.plan_hash == results[0].plan_hash);
          CHECK(r.traffic.bytes_total == results[0].traffic.bytes_total);
        }
        check_plan(results[0], p, steps);
      }
    }
  }

  TEST_CASE("dispatch on single_rank keeps everything - split into micro-batches") {
    fc::single_rank c;
    const auto local = ft::w1_local_batch(100, 0, 1, small_payload);
    const auto r = fulcrum::dispatch(c, local, llm_cost, 4);
    REQUIRE(ft::check_dispatch(c, local, r));
    CHECK(r.micro_batches.size() == 4);
    CHECK(r.traffic.bytes_moved == 0);
    CHECK(r.samples.size() == 100);
    check_plan(r, 1, 4);
  }

  TEST_CASE("dispatch takes options before cost like every front door - same plan as the older order") {
    fc::single_rank c;
    const auto local = ft::w1_local_batch(60, 0, 1, small_payload);
    fulcrum::dispatch_options opts;
    opts.micro_batches = 3;
    const auto a = fulcrum::dispatch(c, local, opts, llm_cost);
    const auto b = fulcrum::dispatch(c, local, llm_cost, opts);
    REQUIRE(ft::check_dispatch(c, local, a));
    CHECK(a.plan.bins == b.plan.bins);
    check_plan(a, 1, 3);
  }

  TEST_CASE("ranks without samples - and no samples at all") {
    fc::thread_world world(4, patient());
    world.run([&](endpoint& c) {
      fulcrum::sample_batch<multimodal_sample> local;
      if (c.rank() == 2)
        for (std::uint32_t i = 0; i < 9; ++i) local.push_back({100 * i + 1, i % 3}, ft::synthetic_payload(i, i));
      auto r = fulcrum::dispatch(c, local, llm_cost, 2);
      CHECK(ft::check_dispatch(c, local, r));
      CHECK(r.micro_batches.size() == 2);
      fulcrum::sample_batch<multimodal_sample> none;
      auto e = fulcrum::dispatch(c, none, llm_cost, 3);
      CHECK(e.samples.size() == 0);
      CHECK(e.micro_batches.size() == 3);
    });
  }

  TEST_CASE("the result does not depend on the backend: thread_world equals a direct LPT plan") {
    const std::size_t p = 5, n = 200;
    fc::thread_world world(p, patient());
    const auto results = world.run([&](endpoint& c) {
      return fulcrum::dispatch(c, ft::w1_local_batch(n, c.rank(), p, small_payload), llm_cost, 2).plan;
    });
    const auto all = ft::generate_w1(n);
    const auto costs = fulcrum::evaluate_costs(all, llm_cost);
    const auto reference = fulcrum::lpt(std::span<const double>(costs), p * 2);
    for (std::size_t part = 0; part < p * 2; ++part) {
      const auto a = results[0].bins(part / p, part % p);  // LPT part s * ranks + r: step s, rank r
      const auto b = reference.parts[part];
      CHECK(std::equal(a.begin(), a.end(), b.begin(), b.end()));
    }
  }

  TEST_CASE("pluggable planners: dispatch_plan - step_grid - split ranks - rank_packing - two_level") {
    const std::size_t p = 4, n = 90;
    struct round_robin {
      fulcrum::dispatch_plan operator()(const fulcrum::planning_input<multimodal_sample>& in) const {
        std::vector<std::vector<fulcrum::index_type>> bins(in.ranks * in.micro_batches);
        for (std::size_t g = 0; g < in.costs.size(); ++g) bins[g % bins.size()].push_back(static_cast<fulcrum::index_type>(g));
        return {fulcrum::step_grid(fulcrum::grouping::from_groups(bins), in.micro_batches, in.ranks)};
      }
    };
    struct onto_ranks {  // a partition with k = ranks, split explicitly into steps
      fulcrum::step_grid operator()(const fulcrum::planning_input<multimodal_sample>& in) const {
        return fulcrum::split_ranks_into_steps(fulcrum::lpt(in.costs, in.ranks).parts, in.costs, in.micro_batches);
      }
    };
    auto stay_home = [](const fulcrum::planning_input<multimodal_sample>& in) {
      std::vector<std::vector<fulcrum::index_type>> bins(in.ranks);
      for (std::size_t g = 0; g < in.costs.size(); ++g) bins[in.current_rank[g]].push_back(static_cast<fulcrum::index_type>(g));
      return fulcrum::step_grid(fulcrum::grouping::from_groups(bins), 1, in.ranks);
    };
    auto packed = [](const fulcrum::planning_input<multimodal_sample>& in) {
      std::vector<std::uint64_t> tokens;
      for (const auto& m : in.meta) tokens.push_back(std::min<std::uint64_t>(m.tokens(), 8192));
      return fulcrum::pack_for_ranks(tokens, std::uint64_t{8192}, in.ranks);
    };
    auto two_level = [](const fulcrum::planning_input<multimodal_sample>& in) {
      return fulcrum::balance_two_level(in.costs, in.ranks, in.micro_batches);
    };
    fc::thread_world world(p, patient());
    world.run([&](endpoint& c) {
      const auto local = ft::w1_local_batch(n, c.rank(), p, small_payload);
      fulcrum::dispatch_options o;
      o.micro_batches = 3;
      auto a = fulcrum::dispatch(c, local, llm_cost, o, round_robin{});
      CHECK(ft::check_dispatch(c, local, a));
      CHECK(a.micro_batches.size() == 3);
      auto b = fulcrum::dispatch(c, local, llm_cost, o, onto_ranks{});
      CHECK(ft::check_dispatch(c, local, b));
      CHECK(b.micro_batches.size() == 3);
      auto k = fulcrum::dispatch(c, local, llm_cost, o,
                                 fulcrum::partition_planner{[](std::span<const double> costs, std::size_t parts) {
                                   return fulcrum::lpt(costs, parts);
                                 }});
      CHECK(ft::check_dispatch(c, local, k));
      auto h = fulcrum::dispatch(c, local, llm_cost, o, stay_home);
      CHECK(ft::check_dispatch(c, local, h));
      CHECK(h.traffic.bytes_moved == 0);
      CHECK(h.samples.size() == local.size());
      auto q = fulcrum::dispatch(c, local, llm_cost, o, packed);
      CHECK(ft::check_dispatch(c, local, q));
      auto t = fulcrum::dispatch(c, local, llm_cost, o, two_level);
      CHECK(ft::check_dispatch(c, local, t));
      CHECK(t.micro_batches.size() == 3);
    });
  }

  TEST_CASE("a two-level plan dispatched runs on rank r exactly the micro-batches of rank r") {
    // balance_two_level's grid goes to dispatch as is: rank r must receive its own micro-batches.
    // (Before the one grid type, the two-level micro-batches were rank-major (r * m + j) and a
    // ranks * m partition handed to dispatch was read step-major (part p -> rank p % ranks), so rank
    // r ran other ranks' micro-batches.)
    const std::size_t p = 3, m = 4, n = 120;
    fc::thread_world world(p, patient());
    world.run([&](endpoint& c) {
      const auto local = ft::w1_local_batch(n, c.rank(), p, small_payload);
      fulcrum::dispatch_options o;
      o.micro_batches = m;
      auto two_level = [](const fulcrum::planning_input<multimodal_sample>& in) {
        return fulcrum::balance_two_level(in.costs, in.ranks, in.micro_batches);
      };
      const auto d = fulcrum::dispatch(c, local, llm_cost, o, two_level);
      REQUIRE(ft::check_dispatch(c, local, d));
      const auto want = fulcrum::balance_two_level(d.costs, p, m);  // the same deterministic plan
      const std::size_t me = c.rank();
      REQUIRE(d.micro_batches.size() == m);
      std::vector<fulcrum::index_type> mine;
      for (std::size_t j = 0; j < m; ++j) {
        std::vector<fulcrum::index_type> got;
        for (const auto i : d.micro_batches[j]) got.push_back(d.ids[i].global);
        const auto expected = want.micro_batch(me, j);
        CHECK(got == std::vector<fulcrum::index_type>(expected.begin(), expected.end()));
        mine.insert(mine.end(), got.begin(), got.end());
      }
      std::sort(mine.begin(), mine.end());
      const auto rank_items = want.ranks.parts[me];
      CHECK(mine == std::vector<fulcrum::index_type>(rank_items.begin(), rank_items.end()));
      // The rank-major layout is taken only through its named conversion, with the same result.
      std::vector<std::vector<fulcrum::index_type>> rank_major;
      for (std::size_t r = 0; r < p; ++r)
        for (std::size_t j = 0; j < m; ++j) {
          const auto mb = want.micro_batch(r, j);
          rank_major.emplace_back(mb.begin(), mb.end());
        }
      auto named = [&](const fulcrum::planning_input<multimodal_sample>& in) {
        return fulcrum::step_grid::from_rank_major(fulcrum::grouping::from_groups(rank_major), in.micro_batches, in.ranks);
      };
      const auto e = fulcrum::dispatch(c, local, llm_cost, o, named);
      CHECK(e.plan == d.plan);
    });
  }

  TEST_CASE("a planner that drops or duplicates a sample is rejected with invalid_input") {
    fc::single_rank c;
    const auto local = ft::w1_local_batch(10, 0, 1, small_payload);
    auto drops = [](const fulcrum::planning_input<multimodal_sample>& in) {
      std::vector<std::vector<fulcrum::index_type>> bins(in.ranks);
      for (std::size_t g = 1; g < in.costs.size(); ++g) bins[0].push_back(static_cast<fulcrum::index_type>(g));
      return fulcrum::dispatch_plan{fulcrum::step_grid(fulcrum::grouping::from_groups(bins), 1, in.ranks)};
    };
    CHECK_THROWS_AS((void)fulcrum::dispatch(c, local, llm_cost, {}, drops), fulcrum::invalid_input);
    auto twice = [](const fulcrum::planning_input<multimodal_sample>& in) {
      std::vector<std::vector<fulcrum::index_type>> bins(in.ranks);
      for (std::size_t g = 0; g < in.costs.size(); ++g) bins[0].push_back(static_cast<fulcrum::index_type>(g));
      bins[0].push_back(0);
      return fulcrum::dispatch_plan{fulcrum::step_grid(fulcrum::grouping::from_groups(bins), 1, in.ranks)};
    };
    CHECK_THROWS_AS((void)fulcrum::dispatch(c, local, llm_cost, {}, twice), fulcrum::invalid_input);
    fulcrum::dispatch_options zero;
    zero.micro_batches = 0;
    CHECK_THROWS_AS((void)fulcrum::dispatch(c, local, llm_cost, zero), fulcrum::invalid_input);
  }

  TEST_CASE("ranks that compute different plans all get comm_error") {
    const std::size_t p = 4;
    fc::thread_world world(p, patient());
    const auto errors = world.try_run([&](endpoint& c) {
      const auto local = ft::w1_local_batch(40, c.rank(), p, small_payload);
      auto skewed = [&](const fulcrum::planning_input<multimodal_sample>& in) {
        auto plan = fulcrum::lpt(in.costs, in.ranks);
        std::vector<std::vector<fulcrum::index_type>> bins(in.ranks);
        for (std::size_t r = 0; r < in.ranks; ++r) bins[r].assign(plan.parts[r].begin(), plan.parts[r].end());
        if (c.rank() == 3) std::swap(bins[0], bins[1]);  // rank 3 disagrees
        return fulcrum::dispatch_plan{fulcrum::step_grid(fulcrum::grouping::from_groups(bins), 1, in.ranks)};
      };
      (void)fulcrum::dispatch(c, local, llm_cost, {}, skewed);
    });
    for (std::size_t r = 0; r < p; ++r) {
      CAPTURE(r);
      REQUIRE(errors[r]);
      CHECK_THROWS_AS(std::rethrow_exception(errors[r]), fulcrum::comm_error);
    }
  }

  TEST_CASE("return_results sends each result back to its origin (or to a next-phase owner)") {
    const std::size_t p = 6, n = 150;
    fc::thread_world world(p, patient());
    world.run([&](endpoint& c) {
      const auto local = ft::w1_local_batch(n, c.rank(), p, small_payload);
      const auto d = fulcrum::dispatch(c, local, llm_cost, 2);
      // "Embedding" of a sample: its global id, then its payload reversed (length differs per sample).
      auto embed = [](std::uint64_t g, std::span<const std::byte> payload) {
        std::vector<std::byte> e(sizeof g);
        std::memcpy(e.data(), &g, sizeof g);
        e.insert(e.end(), payload.rbegin(), payload.rend());
        return e;
      };
      fulcrum::byte_table results;
      for (std::size_t i = 0; i < d.samples.size(); ++i) results.push_back(embed(d.ids[i].global, d.samples.payload(i)));
      const auto back = fulcrum::return_results(c, d, results);
      REQUIRE(back.global.size() == local.size());
      const auto start = ft::skewed_split(n, p);
      for (std::size_t i = 0; i < local.size(); ++i) {
        CHECK(back.global[i] == start[c.rank()] + i);
        const auto want = embed(start[c.rank()] + i, local.payload(i));
        const auto have = back.results[i];
        CHECK(std::equal(have.begin(), have.end(), want.begin(), want.end()));
      }
      // Next phase owned round-robin by global index.
      std::vector<fulcrum::index_type> owner(n);
      for (std::size_t g = 0; g < n; ++g) owner[g] = static_cast<fulcrum::index_type>((g * 7) % p);
      const auto next = fulcrum::return_results(c, d, results, owner);
      std::size_t expected = 0;
      for (std::size_t g = 0; g < n; ++g) expected += owner[g] == c.rank();
      REQUIRE(next.global.size() == expected);
      const auto all = ft::generate_w1(n);
      for (std::size_t i = 0; i < next.global.size(); ++i) {
        const auto g = next.global[i];
        CHECK(owner[g] == c.rank());
        const auto want = embed(g, ft::synthetic_payload(g, small_payload(g)));
        const auto have = next.results[i];
        CHECK(std::equal(have.begin(), have.end(), want.begin(), want.end()));
      }
    });
  }
}
