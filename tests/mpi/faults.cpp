// Fault injection at every collective of a dispatch over MPI: a notified failure (peers fail at
// once through the abort channel), a silent failure and a dropped rank (peers fail after the
// timeout). Every rank must get comm_error, and a retry on a fresh communicator must deliver
// every sample exactly once.
#include <chrono>

#include <fulcrum/comm/fault_injecting.hpp>
#include <fulcrum/comm/mpi.hpp>
#include <fulcrum/dispatch/dispatch.hpp>
#include <fulcrum/testing/dispatch_checks.hpp>

#include "mpi_test_main.hpp"

namespace fc = fulcrum::comm;
namespace ft = fulcrum::testing;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  return run_mpi_test(argc, argv, "mpi faults", [] {
    const auto cost = fulcrum::projected_cost{fulcrum::attention_cost{}, fulcrum::tokens_of{}};
    int world = 0, me = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    const std::size_t p = static_cast<std::size_t>(world), n = 120;
    const auto local = ft::w1_local_batch(n, static_cast<std::size_t>(me), p, [](std::size_t g) { return 8 + g % 31; });
    const std::uint64_t collectives = 4;  // all_gather, all_gather_v, all_reduce, all_to_all_v
    for (auto kind : {fc::fault_kind::fail, fc::fault_kind::drop}) {
      for (bool notify : {true, false}) {
        if (kind == fc::fault_kind::drop && notify) continue;
        for (std::uint64_t at = 0; at < collectives; ++at) {
          fc::mpi_options opts;
          opts.timeout = notify ? 60s : 500ms;
          fc::fault_plan plan;
          plan.kind = kind;
          plan.rank = static_cast<std::size_t>(at % p);
          plan.at = at;
          plan.notify = notify;
          plan.delay = 700ms;
          bool failed = false;
          const auto t0 = std::chrono::steady_clock::now();
          {
            fc::mpi_communicator c(MPI_COMM_WORLD, opts);
            fc::fault_injecting<fc::mpi_communicator> f(c, plan);
            try {
              (void)fulcrum::dispatch(f, local, cost, 2);
            } catch (const fulcrum::comm_error&) {
              failed = true;
            }
          }
          MPI_CHECK(failed);
          MPI_CHECK(std::chrono::steady_clock::now() - t0 < 20s);
          // Retry on a fresh communicator: everything exactly once.
          fc::mpi_communicator fresh(MPI_COMM_WORLD, fc::mpi_options{});
          const auto r = fulcrum::dispatch(fresh, local, cost, 2);
          const auto verdict = ft::check_dispatch(fresh, local, r);
          if (!verdict) std::fprintf(stderr, "%s\n", verdict.message.c_str());
          MPI_CHECK(verdict);
        }
      }
    }
    // A straggler within the timeout is harmless.
    fc::mpi_communicator c(MPI_COMM_WORLD, fc::mpi_options{});
    fc::fault_plan slow;
    slow.kind = fc::fault_kind::delay;
    slow.rank = 1 % p;
    slow.at = 2;
    slow.delay = 50ms;
    fc::fault_injecting<fc::mpi_communicator> f(c, slow);
    const auto r = fulcrum::dispatch(f, local, cost, 2);
    MPI_CHECK(ft::check_dispatch(c, local, r));
  });
}
