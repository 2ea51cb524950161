// NCCL across processes, bootstrapped with MPI: one rank per process and GPU (device =
// rank % devices). Runs the conformance suite (also through the node-wise all-to-all) and a dispatch. Label "nccl"
// (needs GPUs).
#include <mpi.h>

#include <cstdio>

#include <cuda_runtime.h>

#include <fulcrum/comm/hierarchical.hpp>
#include <fulcrum/dispatch/dispatch.hpp>
#include <fulcrum/nccl/nccl_communicator.hpp>
#include <fulcrum/testing/communicator_conformance.hpp>
#include <fulcrum/testing/dispatch_checks.hpp>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 0, devices = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int failed = 0;
  try {
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) throw std::runtime_error("no CUDA device");
    cudaSetDevice(rank % devices);
    ncclUniqueId id;
    if (rank == 0) id = fulcrum::nccl::make_unique_id();
    MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD);
    fulcrum::nccl::nccl_communicator c(size, id, rank);
    fulcrum::testing::run_communicator_conformance(c);
    // The node-wise all-to-all's two hops over NCCL (host-staged): simulated nodes of 1 and 2 GPUs.
    for (const int g : {1, 2})
      if (size >= 2 * g && size % g == 0) {
        fulcrum::comm::hierarchical_communicator<fulcrum::nccl::nccl_communicator> h(c, static_cast<std::size_t>(g));
        fulcrum::testing::run_communicator_conformance(h);
      }
    const auto cost = fulcrum::projected_cost{fulcrum::attention_cost{}, fulcrum::tokens_of{}};
    const auto local =
        fulcrum::testing::w1_local_batch(400, c.rank(), c.size(), [](std::size_t g) { return 32 + g % 90; });
    const auto r = fulcrum::dispatch(c, local, cost, 2);
    const auto verdict = fulcrum::testing::check_dispatch(c, local, r);
    if (!verdict) throw std::runtime_error(verdict.message);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[rank %d] %s\n", rank, e.what());
    failed = 1;
  }
  int total = 0;
  MPI_Allreduce(&failed, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) std::printf("nccl mpi: %s\n", total ? "FAIL" : "PASS");
  MPI_Finalize();
  return total ? 1 : 0;
}
