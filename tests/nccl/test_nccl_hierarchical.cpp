// The node-wise all-to-all and the route exchange over nccl_communicator (label "nccl": needs a
// GPU to run; CPU-only builds with -DFULCRUM_ENABLE_NCCL=ON compile and link it). Both go through
// the communicator concept's host spans, i.e. nccl_communicator's host-staged path (copy into
// device scratch, ncclSend/ncclRecv, copy out). With one GPU the node-wise exchange has one node
// and is the flat one; its two hops over NCCL run in nccl.mpi with 2 or more GPUs.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include <fulcrum/comm/hierarchical.hpp>
#include <fulcrum/dispatch/orchestrator.hpp>
#include <fulcrum/dispatch/route_exchange.hpp>
#include <fulcrum/nccl/nccl_communicator.hpp>
#include <fulcrum/testing/communicator_conformance.hpp>
#include <fulcrum/testing/multimodal_step.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace fn = fulcrum::nccl;

static_assert(fulcrum::communicator<fulcrum::comm::hierarchical_communicator<fn::nccl_communicator>>);

TEST_SUITE("nccl") {
  TEST_CASE("hierarchical_communicator over a one-rank nccl_communicator passes the conformance suite") {
    fn::nccl_communicator c(1, fn::make_unique_id(), 0);
    fulcrum::comm::hierarchical_communicator<fn::nccl_communicator> h(c, 1);
    CHECK(fulcrum::testing::run_communicator_conformance(h) > 40);
  }

  TEST_CASE("orchestrator routes move their payloads over nccl flat node-wise and nonblocking") {
    fn::nccl_communicator c(1, fn::make_unique_id(), 0);
    const std::size_t n = 64;
    const auto samples = fulcrum::testing::generate_w1(n);
    const auto audio = fulcrum::testing::generate_w1_audio(n);
    fulcrum::testing::multimodal_step_options so;
    so.bytes_divisor = 4096;
    const auto phases = fulcrum::testing::multimodal_phases(samples, audio, so);
    const auto plan = fulcrum::orchestrate_distributed(c, n, phases, {});
    for (const auto& rt : plan.routes) {
      auto payload = [&](fulcrum::index_type i) {
        std::vector<std::byte> v(static_cast<std::size_t>(rt.item_bytes[i]));
        for (std::size_t j = 0; j < v.size(); ++j) v[j] = static_cast<std::byte>((i * 131 + j) & 0xff);
        return v;
      };
      std::vector<std::byte> buf;
      auto of = [&](fulcrum::index_type i) {
        buf = payload(i);
        return std::span<const std::byte>(buf);
      };
      for (const auto method : {fulcrum::comm::exchange_method::flat, fulcrum::comm::exchange_method::hierarchical}) {
        const auto got = fulcrum::exchange_along(c, rt, of, method, 1);
        std::size_t items = 0;
        for (std::size_t x = 0; x < got.items.size(); ++x) {
          const auto want = payload(got.items[x]);
          CHECK(std::equal(want.begin(), want.end(), got.payloads[x].begin(), got.payloads[x].end()));
          ++items;
        }
        CHECK(items == rt.between(0, 0).size());
      }
      fulcrum::pending_route_exchange pending;
      fulcrum::start_exchange_along(c, rt, of, pending, fulcrum::comm::exchange_method::hierarchical, 1);
      const auto got = pending.wait();
      CHECK(got.items.size() == rt.between(0, 0).size());
    }
  }
}
