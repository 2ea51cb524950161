// Shared scaffolding of the MPI tests: MPI_Init/Finalize, a CHECK that records failures with the
// rank, and a final agreement so the exit status is the same on every rank.
#pragma once

#include <mpi.h>

#include <cstdio>
#include <exception>
#include <string>

namespace mpi_test {
inline int failures = 0;
inline int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
inline void fail(const char* file, int line, const std::string& what) {
  ++failures;
  std::fprintf(stderr, "[rank %d] %s:%d: FAILED: %s\n", world_rank(), file, line, what.c_str());
}
}  // namespace mpi_test

#define MPI_CHECK(cond) \
  do { \
    if (!(cond)) mpi_test::fail(__FILE__, __LINE__, #cond); \
  } while (0)

/// Runs body() on every rank, then agrees on the verdict; rank 0 prints "<name>: PASS" or FAIL.
template <class Body>
int run_mpi_test(int argc, char** argv, const char* name, Body body) {
  MPI_Init(&argc, &argv);
  try {
    body();
  } catch (const std::exception& e) {
    mpi_test::fail(__FILE__, __LINE__, std::string("uncaught exception: ") + e.what());
  }
  int local = mpi_test::failures, total = 0;
  MPI_Allreduce(&local, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (mpi_test::world_rank() == 0) std::printf("%s: %s (%d failed checks)\n", name, total ? "FAIL" : "PASS", total);
  MPI_Finalize();
  return total ? 1 : 0;
}
