// The communicator conformance suite on mpi_communicator (run with mpirun -np 4), directly and
// through any_communicator, fault_injecting (no fault) and hierarchical_communicator.
#include <fulcrum/comm/any_communicator.hpp>
#include <fulcrum/comm/fault_injecting.hpp>
#include <fulcrum/comm/hierarchical.hpp>
#include <fulcrum/comm/mpi.hpp>
#include <fulcrum/testing/communicator_conformance.hpp>

#include "mpi_test_main.hpp"

int main(int argc, char** argv) {
  return run_mpi_test(argc, argv, "mpi conformance", [] {
    fulcrum::comm::mpi_options opts;
    opts.timeout = std::chrono::seconds(60);
    fulcrum::comm::mpi_communicator c(MPI_COMM_WORLD, opts);
    MPI_CHECK(fulcrum::testing::run_communicator_conformance(c) > 40);
    fulcrum::comm::any_communicator any{std::ref(c)};
    MPI_CHECK(fulcrum::testing::run_communicator_conformance(any) > 40);
    fulcrum::comm::fault_injecting<fulcrum::comm::mpi_communicator> f(c, {});
    MPI_CHECK(fulcrum::testing::run_communicator_conformance(f) > 40);
    // The node-wise all-to-all, ranks grouped into simulated nodes of 2 (and of p / 2).
    for (std::size_t g : {std::size_t{2}, c.size() / 2}) {
      fulcrum::comm::hierarchical_communicator<fulcrum::comm::mpi_communicator> h(c, g);
      MPI_CHECK(fulcrum::testing::run_communicator_conformance(h) > 40);
    }
    // A sub-communicator (even/odd ranks) is a communicator too.
    MPI_Comm half;
    MPI_Comm_split(MPI_COMM_WORLD, static_cast<int>(c.rank() % 2), static_cast<int>(c.rank()), &half);
    {
      fulcrum::comm::mpi_communicator h(half, opts);
      MPI_CHECK(fulcrum::testing::run_communicator_conformance(h) > 40);
    }
    MPI_Comm_free(&half);
  });
}
