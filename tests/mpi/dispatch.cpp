// The dispatcher over MPI: exactly-once delivery with intact bytes (checked collectively), the
// same plan as a single-process LPT, and the reverse exchange back to the origin ranks.
#include <algorithm>
#include <cstring>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/comm/mpi.hpp>
#include <fulcrum/dispatch/dispatch.hpp>
#include <fulcrum/dispatch/return_results.hpp>
#include <fulcrum/testing/dispatch_checks.hpp>

#include "mpi_test_main.hpp"

namespace ft = fulcrum::testing;

int main(int argc, char** argv) {
  return run_mpi_test(argc, argv, "mpi dispatch", [] {
    fulcrum::comm::mpi_communicator c;
    const std::size_t p = c.size(), n = 500;
    const auto cost = fulcrum::projected_cost{fulcrum::attention_cost{}, fulcrum::tokens_of{}};
    auto payload = [](std::size_t g) { return 16 + (g * 13) % 200; };
    const auto local = ft::w1_local_batch(n, c.rank(), p, payload);
    for (std::size_t steps : {1u, 4u}) {
      const auto r = fulcrum::dispatch(c, local, cost, steps);
      const auto verdict = ft::check_dispatch(c, local, r);
      if (!verdict) std::fprintf(stderr, "%s\n", verdict.message.c_str());
      MPI_CHECK(verdict);
      MPI_CHECK(r.micro_batches.size() == steps);
      // Same plan as LPT run in one process on the whole workload.
      const auto all = ft::generate_w1(n);
      const auto costs = fulcrum::evaluate_costs(all, cost);
      const auto ref = fulcrum::lpt(std::span<const double>(costs), p * steps);
      for (std::size_t b = 0; b < p * steps; ++b) {  // LPT part s * p + r
        const auto got = r.plan.bins(b / p, b % p);
        const auto want = ref.parts[b];
        MPI_CHECK(std::equal(got.begin(), got.end(), want.begin(), want.end()));
      }
      // Results back to the origin ranks.
      fulcrum::byte_table results;
      for (std::size_t i = 0; i < r.samples.size(); ++i) {
        auto pl = r.samples.payload(i);
        std::vector<std::byte> e(pl.rbegin(), pl.rend());
        results.push_back(e);
      }
      const auto back = fulcrum::return_results(c, r, results);
      MPI_CHECK(back.global.size() == local.size());
      for (std::size_t i = 0; i < local.size() && i < back.global.size(); ++i) {
        const auto want = local.payload(i);
        const auto have = back.results[i];
        MPI_CHECK(std::equal(have.begin(), have.end(), want.rbegin(), want.rend()));
      }
    }
  });
}
