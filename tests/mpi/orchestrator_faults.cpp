// A whole orchestrated multimodal step over MPI (plan + every route forward and backward, flat and
// node-wise exchanges, ranks in 2 simulated nodes): it passes its own checks; then a failure or a
// dropped rank injected at every collective of the step gives comm_error on every rank, in bounded
// time; a retry on a fresh communicator passes again.
#include <chrono>

#include <fulcrum/comm/fault_injecting.hpp>
#include <fulcrum/comm/hierarchical.hpp>
#include <fulcrum/comm/mpi.hpp>
#include <fulcrum/testing/orchestrated_step.hpp>

#include "mpi_test_main.hpp"

namespace fc = fulcrum::comm;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  return run_mpi_test(argc, argv, "mpi orchestrator faults", [] {
    int world = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    const std::size_t p = static_cast<std::size_t>(world), g = p >= 4 ? p / 2 : 1;
    for (auto method : {fc::exchange_method::flat, fc::exchange_method::hierarchical}) {
      std::uint64_t collectives = 0;
      {
        fc::mpi_communicator c(MPI_COMM_WORLD, fc::mpi_options{});
        fc::fault_injecting<fc::mpi_communicator> f(c, {});
        MPI_CHECK(fulcrum::testing::run_checked_step(f, g, method, 5));
        collectives = f.collectives();
      }
      MPI_CHECK(collectives > 10);
      for (auto kind : {fc::fault_kind::fail, fc::fault_kind::drop}) {
        for (std::uint64_t at = 0; at < collectives; ++at) {
          if (kind == fc::fault_kind::drop && at % 4 != 1) continue;  // drops cost a timeout each: a sample of them
          fc::mpi_options opts;
          opts.timeout = kind == fc::fault_kind::fail ? 60s : 500ms;
          fc::fault_plan plan;
          plan.kind = kind;
          plan.rank = static_cast<std::size_t>(at % p);
          plan.at = at;
          plan.notify = true;
          plan.delay = 700ms;
          bool failed = false;
          const auto t0 = std::chrono::steady_clock::now();
          {
            fc::mpi_communicator c(MPI_COMM_WORLD, opts);
            fc::fault_injecting<fc::mpi_communicator> f(c, plan);
            try {
              (void)fulcrum::testing::run_checked_step(f, g, method, 5);
            } catch (const fulcrum::comm_error&) {
              failed = true;
            }
          }
          if (!failed)
            std::fprintf(stderr, "no comm_error: fault %d at collective %llu of %llu\n", static_cast<int>(kind),
                         static_cast<unsigned long long>(at), static_cast<unsigned long long>(collectives));
          MPI_CHECK(failed);
          MPI_CHECK(std::chrono::steady_clock::now() - t0 < 20s);
        }
      }
    }
    fc::mpi_communicator fresh(MPI_COMM_WORLD, fc::mpi_options{});
    MPI_CHECK(fulcrum::testing::run_checked_step(fresh, g, fc::exchange_method::hierarchical, 6));
  });
}
