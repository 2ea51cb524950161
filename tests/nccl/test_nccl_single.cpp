// NCCL backend, one rank in one process (needs a GPU; label "nccl", excluded on CPU-only CI):
// the conformance suite, the dispatcher, device-pointer collectives, and abort -> comm_error.
#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <fulcrum/comm/collectives.hpp>
#include <fulcrum/dispatch/dispatch.hpp>
#include <fulcrum/nccl/nccl_communicator.hpp>
#include <fulcrum/testing/communicator_conformance.hpp>
#include <fulcrum/testing/dispatch_checks.hpp>

namespace fn = fulcrum::nccl;

namespace {
fn::nccl_communicator one_rank() {
  const auto id = fn::make_unique_id();
  return fn::nccl_communicator(1, id, 0);
}
}  // namespace

TEST_SUITE("nccl") {
  TEST_CASE("nccl_communicator with one rank passes the conformance suite") {
    auto c = one_rank();
    CHECK(c.size() == 1);
    CHECK(fulcrum::testing::run_communicator_conformance(c) > 40);
  }

  TEST_CASE("dispatch over a one-rank nccl_communicator") {
    auto c = one_rank();
    const auto cost = fulcrum::projected_cost{fulcrum::attention_cost{}, fulcrum::tokens_of{}};
    const auto local = fulcrum::testing::w1_local_batch(300, 0, 1, [](std::size_t g) { return 64 + g % 100; });
    const auto r = fulcrum::dispatch(c, local, cost, 3);
    CHECK(fulcrum::testing::check_dispatch(c, local, r));
    CHECK(r.micro_batches.size() == 3);
  }

  TEST_CASE("device-pointer collectives on the communicator's stream") {
    cudaStream_t s;
    REQUIRE(cudaStreamCreate(&s) == cudaSuccess);
    {
      const auto id = fn::make_unique_id();
      fn::nccl_communicator c(1, id, 0, fn::from_cuda(s));
      double* d = nullptr;
      REQUIRE(cudaMalloc(&d, 2 * sizeof(double)) == cudaSuccess);
      const double h[2] = {1.5, -2.0};
      REQUIRE(cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice) == cudaSuccess);
      c.all_reduce_device(d, d + 1, 1, fulcrum::datatype::float64, fulcrum::reduce_kind::sum);
      c.synchronize();
      double back[2] = {0, 0};
      REQUIRE(cudaMemcpy(back, d, sizeof back, cudaMemcpyDeviceToHost) == cudaSuccess);
      CHECK(back[1] == 1.5);
      cudaFree(d);
    }
    cudaStreamDestroy(s);
  }

  TEST_CASE("after abort every collective throws comm_error") {
    auto c = one_rank();
    c.abort("test");
    CHECK(c.failed());
    std::vector<int> in{1}, out(1);
    CHECK_THROWS_AS(fulcrum::comm::all_reduce(c, in, out, std::plus<>{}), fulcrum::comm_error);
    CHECK_THROWS_AS(fulcrum::comm::barrier(c), fulcrum::comm_error);
  }
}
