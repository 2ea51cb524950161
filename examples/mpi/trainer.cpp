// A trainer loop over MPI: run with `mpirun -np 4 ./mpi_trainer`.
//
// Each iteration, every rank reads its own shard of a multimodal batch (uneven, as data loaders
// produce), then:
//   1. fulcrum::dispatch balances the vision phase: samples (with their pixel payloads) move to
//      the ranks the LPT plan picks, 2 micro-batches per rank, the same plan on every rank;
//   2. each rank "encodes" its micro-batches (a stand-in for the ViT forward pass);
//   3. fulcrum::return_results sends each embedding back to the rank that owns the sample for
//      the LLM phase (here: its origin), as OrchMLLM's orchestrator does between phases.
// Any failure (a crashed peer, a timeout, ranks disagreeing on the plan) surfaces as
// fulcrum::comm_error on every rank instead of a hang.
#include <cstdio>
#include <cstring>
#include <vector>

#include <fulcrum/comm/mpi.hpp>
#include <fulcrum/dispatch/dispatch.hpp>
#include <fulcrum/dispatch/return_results.hpp>
#include <fulcrum/testing/dispatch_checks.hpp>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int status = 0;
  try {
    fulcrum::comm::mpi_communicator comm;  // duplicates MPI_COMM_WORLD
    const std::size_t p = comm.size(), me = comm.rank();
    // Vision cost: images dominate (ViT over 576-token tiles); add the text for the projector.
    const auto cost = fulcrum::projected_cost{fulcrum::attention_cost{}, fulcrum::tokens_of{}};
    for (std::uint64_t step = 0; step < 3; ++step) {
      const auto local = fulcrum::testing::w1_local_batch(64 * p, me, p, [](std::size_t) { return 1024; },
                                                          fulcrum::default_seed + step);
      const auto batch = fulcrum::dispatch(comm, local, cost, 2);
      double work = 0;
      fulcrum::byte_table embeddings;
      for (std::size_t mb = 0; mb < batch.micro_batches.size(); ++mb)
        for (auto i : batch.micro_batches[mb]) {
          work += cost(batch.samples.meta(i));
          const auto h = fulcrum::testing::payload_checksum(batch.samples.payload(i));  // "encode"
          std::vector<std::byte> e(sizeof h);
          std::memcpy(e.data(), &h, sizeof h);
          embeddings.push_back(e);
        }
      const auto mine = fulcrum::return_results(comm, batch, embeddings);
      // Every embedding came back to its owner and matches its own pixels.
      bool ok = mine.global.size() == local.size();
      for (std::size_t i = 0; ok && i < local.size(); ++i) {
        std::uint64_t h = 0;
        std::memcpy(&h, mine.results[i].data(), sizeof h);
        ok = h == fulcrum::testing::payload_checksum(local.payload(i));
      }
      const double max_work = fulcrum::comm::all_reduce(comm, work, fulcrum::max_op{});
      const double sum_work = fulcrum::comm::all_reduce(comm, work, std::plus<>{});
      const int all_ok = fulcrum::comm::all_reduce(comm, static_cast<int>(ok), fulcrum::min_op{});
      if (me == 0)
        std::printf("step %llu: %zu samples, vision work max/mean %.4f, %llu payload bytes moved, embeddings back: %s\n",
                    static_cast<unsigned long long>(step), batch.origin.size(), max_work / (sum_work / double(p)),
                    static_cast<unsigned long long>(batch.traffic.bytes_moved), all_ok ? "ok" : "MISSING");
      if (!all_ok) status = 1;
    }
    if (me == 0 && status == 0) std::printf("mpi trainer: done\n");
  } catch (const fulcrum::comm_error& e) {
    std::fprintf(stderr, "communication failed: %s\n", e.what());
    status = 2;
  }
  MPI_Finalize();
  return status;
}
