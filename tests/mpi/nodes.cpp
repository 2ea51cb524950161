// mpi_communicator's nodes (run with mpirun -np 4 on one machine): derived from
// MPI_COMM_TYPE_SHARED, checked independently against the processor names; overridden by
// mpi_options::ranks_per_node and FULCRUM_RANKS_PER_NODE (simulated nodes), whose bad values are
// invalid_input naming the setting; a sub-communicator of every other rank (not consecutive in
// the world, but consecutive in itself) gets its own nodes; the node-wise exchange over the derived
// nodes passes the conformance suite.
#include <cstdlib>
#include <string>
#include <vector>

#include <fulcrum/comm/hierarchical.hpp>
#include <fulcrum/comm/mpi.hpp>
#include <fulcrum/testing/communicator_conformance.hpp>

#include "mpi_test_main.hpp"

namespace {

// Independent node count: ranks with the same processor name share a node.
std::vector<std::string> processor_names(MPI_Comm comm) {
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  MPI_Get_processor_name(name, &len);
  int p = 0;
  MPI_Comm_size(comm, &p);
  std::vector<char> all(static_cast<std::size_t>(p) * MPI_MAX_PROCESSOR_NAME);
  MPI_Allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR, comm);
  std::vector<std::string> out;
  for (int r = 0; r < p; ++r) out.emplace_back(all.data() + static_cast<std::size_t>(r) * MPI_MAX_PROCESSOR_NAME);
  return out;
}

template <class F>
bool throws_naming(F&& f, const std::string& what) {
  try {
    f();
  } catch (const fulcrum::invalid_input& e) {
    return std::string(e.what()).find(what) != std::string::npos;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  return run_mpi_test(argc, argv, "mpi nodes", [] {
    unsetenv("FULCRUM_RANKS_PER_NODE");
    fulcrum::comm::mpi_communicator c;
    const std::size_t p = c.size(), me = c.rank();
    // Derived from shared memory: one machine here, all ranks one node (checked by host name).
    const auto names = processor_names(MPI_COMM_WORLD);
    bool one_host = true;
    for (const auto& n : names) one_host = one_host && n == names[0];
    MPI_CHECK(c.node_source() == "MPI_COMM_TYPE_SHARED");
    if (one_host) {
      MPI_CHECK(c.ranks_per_node() == p);
      MPI_CHECK(c.node() == 0);
    }
    {
      fulcrum::comm::hierarchical_communicator<fulcrum::comm::mpi_communicator> h(c, c.ranks_per_node());
      MPI_CHECK(fulcrum::testing::run_communicator_conformance(h) > 40);
    }
    // The option: simulated nodes of 2.
    fulcrum::comm::mpi_options two;
    two.ranks_per_node = 2;
    fulcrum::comm::mpi_communicator c2(MPI_COMM_WORLD, two);
    MPI_CHECK(c2.ranks_per_node() == 2);
    MPI_CHECK(c2.node() == me / 2);
    MPI_CHECK(c2.node_source() == "mpi_options::ranks_per_node");
    {
      fulcrum::comm::hierarchical_communicator<fulcrum::comm::mpi_communicator> h(c2, c2.ranks_per_node());
      MPI_CHECK(fulcrum::testing::run_communicator_conformance(h) > 40);
    }
    // The environment variable (every rank sets it alike, as mpirun -x does).
    setenv("FULCRUM_RANKS_PER_NODE", "2", 1);
    {
      fulcrum::comm::mpi_communicator ce;
      MPI_CHECK(ce.ranks_per_node() == 2);
      MPI_CHECK(ce.node() == me / 2);
      MPI_CHECK(ce.node_source() == "FULCRUM_RANKS_PER_NODE");
    }
    // Bad values: invalid_input on every rank alike, naming the setting, before any collective.
    setenv("FULCRUM_RANKS_PER_NODE", "3", 1);
    MPI_CHECK(throws_naming([] { fulcrum::comm::mpi_communicator bad; }, "FULCRUM_RANKS_PER_NODE = 3"));
    setenv("FULCRUM_RANKS_PER_NODE", "two", 1);
    MPI_CHECK(throws_naming([] { fulcrum::comm::mpi_communicator bad; }, "FULCRUM_RANKS_PER_NODE = 'two'"));
    setenv("FULCRUM_RANKS_PER_NODE", "0", 1);
    MPI_CHECK(throws_naming([] { fulcrum::comm::mpi_communicator bad; }, "FULCRUM_RANKS_PER_NODE"));
    unsetenv("FULCRUM_RANKS_PER_NODE");
    fulcrum::comm::mpi_options three;
    three.ranks_per_node = p + 1;
    MPI_CHECK(throws_naming([&] { fulcrum::comm::mpi_communicator bad(MPI_COMM_WORLD, three); },
                            "mpi_options::ranks_per_node = " + std::to_string(p + 1)));
    // A sub-communicator (even / odd world ranks) derives its own nodes.
    MPI_Comm half;
    MPI_Comm_split(MPI_COMM_WORLD, static_cast<int>(me % 2), static_cast<int>(me), &half);
    {
      fulcrum::comm::mpi_communicator h(half);
      if (one_host) MPI_CHECK(h.ranks_per_node() == h.size());
      MPI_CHECK(h.node() == 0 || !one_host);
    }
    MPI_Comm_free(&half);
  });
}
