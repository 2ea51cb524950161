// Node-aware dispatch (post_balance planner): exactly once, balanced within the tolerance, and
// far fewer bytes across nodes than a plain LPT re-dispatch.
#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>

#include <fulcrum/comm/thread_world.hpp>
#include <fulcrum/dispatch/dispatch.hpp>
#include <fulcrum/dispatch/node_aware.hpp>
#include <fulcrum/testing/dispatch_checks.hpp>

namespace fc = fulcrum::comm;
namespace ft = fulcrum::testing;
using endpoint = fc::thread_world::endpoint;

TEST_SUITE("dispatch") {
  TEST_CASE("node-aware dispatch moves fewer bytes between nodes than a plain re-dispatch") {
    const std::size_t nodes = 2, per_node = 4, p = nodes * per_node, n = 400;
    const auto cost = fulcrum::projected_cost{fulcrum::attention_cost{}, fulcrum::tokens_of{}};
    fc::thread_world world(p);
    const auto traffic = world.run([&](endpoint& c) {
      const auto local = ft::w1_local_batch(n, c.rank(), p, [](std::size_t g) { return 16 + g % 48; });
      fulcrum::dispatch_options o;
      o.micro_batches = 2;
      o.ranks_per_node = per_node;
      const auto plain = fulcrum::dispatch(c, local, cost, o);
      const auto aware = fulcrum::dispatch(c, local, cost, o, fulcrum::node_aware_planner{});
      for (const auto* r : {&plain, &aware}) {
        const auto verdict = ft::check_dispatch(c, local, *r);
        if (!verdict) throw std::runtime_error(verdict.message);
        if (r->micro_batches.size() != 2) throw std::runtime_error("wrong number of micro-batches");
      }
      // Per-rank loads of the node-aware plan stay within 1% of LPT's makespan over ranks.
      std::vector<double> rank_load(p, 0), lpt_rank(p, 0);
      for (std::size_t r = 0; r < p; ++r)
        for (auto mb : aware.plan.bins.rank_groups(r))
          for (auto g : mb) rank_load[r] += aware.costs[g];
      const auto ref = fulcrum::lpt(std::span<const double>(aware.costs), p);
      const double cap = ref.makespan * 1.01 + 1e-9;
      for (double l : rank_load)
        if (l > cap) throw std::runtime_error("node-aware plan over the post_balance cap");
      return std::pair{plain.traffic, aware.traffic};
    });
    const auto [plain, aware] = traffic[0];
    MESSAGE("inter-node bytes: plain " << plain.bytes_inter_node << ", node-aware " << aware.bytes_inter_node);
    CHECK(plain.bytes_total == aware.bytes_total);
    CHECK(aware.bytes_inter_node < plain.bytes_inter_node);
    CHECK(aware.bytes_moved < plain.bytes_moved);
  }
}
