// SPDX-License-Identifier: Apache-2.0
/// @file comm/mpi.hpp
/// `mpi_communicator`: the MPI backend (component fulcrum::mpi; the only header that includes
/// mpi.h). Works with any MPI-3 implementation, e.g. OpenMPI's `mpirun -np 4 ./trainer`.
///
/// Every collective is the nonblocking MPI call (MPI_Iallgatherv, MPI_Iallreduce, MPI_Ialltoallv,
/// ...) followed by a test loop that also watches (a) a deadline (`mpi_options::timeout`) and
/// (b) an abort channel: a second communicator on which every rank keeps one receive posted, and
/// on which `abort(reason)` sends the reason to every peer. So a peer that stalls gives
/// comm_error after the timeout and a peer that fails gives comm_error at once, never a hang.
/// MPI errors (MPI_ERRORS_RETURN) become comm_error with MPI's error string.
///
/// Buffers: data goes through staging buffers owned by the communicator, so that a collective
/// abandoned on timeout can never write into the caller's memory later; after a failure the
/// communicator is poisoned (every call throws comm_error) and its MPI resources are kept alive
/// until the process ends. To retry, every rank constructs a fresh mpi_communicator.
/// Counts above INT_MAX bytes per rank are rejected with invalid_input (MPI's int counts).
/// Poll loop: MPI_Test, then sleeps growing from 1 us to 500 us, so waiting ranks leave the CPU
/// to others.
///
/// Nodes (for the node-wise all-to-all, comm/hierarchical.hpp, and node-aware planning): at
/// construction each rank learns its node, from, in order, mpi_options::ranks_per_node, the
/// environment variable FULCRUM_RANKS_PER_NODE (simulated nodes of that many consecutive ranks on
/// one machine: `mpirun -x FULCRUM_RANKS_PER_NODE=4 -np 8 ...`), or MPI_Comm_split_type
/// (MPI_COMM_TYPE_SHARED: ranks sharing memory share a node; one MPI_Allreduce on that split and
/// one MPI_Allgather of the node leaders). `ranks_per_node()` is what the node-wise exchange needs
/// (ranks r = node x ranks_per_node + local): the node size when every node holds the same number
/// of consecutive ranks (mpirun's default block placement, `--map-by ppr:N:node` or `--map-by
/// core`), else 0 (e.g. `--map-by node`, round-robin: use the flat exchange); `node()` is this
/// rank's node either way (nodes numbered by their lowest rank). `node_source()` says which.
#pragma once

// fulcrum uses MPI's C API only: skip the deprecated C++ bindings (they warn under -Wextra).
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "fulcrum/comm/detail/blocks.hpp"
#include "fulcrum/comm/detail/deadline.hpp"
#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum::comm {

struct mpi_options {
  /// Longest a collective waits for its peers before it throws comm_error. A value too large for
  /// the steady clock (e.g. `std::chrono::milliseconds::max()`) means no timeout.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  /// Ranks per node: 0 = FULCRUM_RANKS_PER_NODE if set, else MPI_COMM_TYPE_SHARED (see the file
  /// comment); otherwise nodes of this many consecutive ranks (must divide the size).
  std::size_t ranks_per_node = 0;
};

namespace detail {

inline std::string mpi_error_string(int code) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<std::size_t>(len));
}

inline MPI_Datatype mpi_type(datatype t) {
  switch (t) {
    case datatype::int8:
      return MPI_INT8_T;
    case datatype::uint8:
      return MPI_UINT8_T;
    case datatype::int16:
      return MPI_INT16_T;
    case datatype::uint16:
      return MPI_UINT16_T;
    case datatype::int32:
      return MPI_INT32_T;
    case datatype::uint32:
      return MPI_UINT32_T;
    case datatype::int64:
      return MPI_INT64_T;
    case datatype::uint64:
      return MPI_UINT64_T;
    case datatype::float32:
      return MPI_FLOAT;
    case datatype::float64:
      return MPI_DOUBLE;
  }
  return MPI_BYTE;
}

inline MPI_Op mpi_op(reduce_kind k) {
  switch (k) {
    case reduce_kind::sum:
      return MPI_SUM;
    case reduce_kind::max:
      return MPI_MAX;
    case reduce_kind::min:
      return MPI_MIN;
    case reduce_kind::custom:
      break;
  }
  throw invalid_input("mpi_communicator: custom ops are reduced by the generic fold, not by MPI");
}

inline int mpi_count(std::string_view where, std::string_view field, std::size_t index, std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX))
    throw invalid_input(fulcrum::detail::describe(where, field, index, n, "exceeds MPI's int count (INT_MAX bytes)"));
  return static_cast<int>(n);
}

/// Buffers and requests of operations that may still be in flight after a failure: kept alive
/// until the process ends so MPI never writes into freed memory.
struct mpi_leftovers {
  std::vector<std::shared_ptr<void>> keep;
  std::vector<MPI_Comm> comms;
  static mpi_leftovers& instance() {
    static auto* all = new mpi_leftovers();  // deliberately never destroyed
    return *all;
  }
};

}  // namespace detail

class mpi_communicator {
 public:
  /// Duplicates `parent` (collective over parent: every rank must construct it together).
  /// Throws invalid_input naming mpi_options::ranks_per_node or FULCRUM_RANKS_PER_NODE if it is not
  /// a positive integer dividing the size (on every rank alike, before any MPI call but MPI_Comm_size).
  explicit mpi_communicator(MPI_Comm parent = MPI_COMM_WORLD, mpi_options opts = {}) : opts_(opts) {
    const std::size_t requested = requested_ranks_per_node(parent, opts.ranks_per_node, node_source_);
    check(MPI_Comm_dup(parent, &comm_), "MPI_Comm_dup");
    check(MPI_Comm_dup(parent, &ctrl_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(ctrl_, MPI_ERRORS_RETURN);
    int r = 0, s = 0;
    check(MPI_Comm_rank(comm_, &r), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &s), "MPI_Comm_size");
    rank_ = static_cast<std::size_t>(r);
    size_ = static_cast<std::size_t>(s);
    abort_buf_ = std::make_shared<std::vector<char>>(abort_message_max);
    check(MPI_Irecv(abort_buf_->data(), static_cast<int>(abort_message_max), MPI_CHAR, MPI_ANY_SOURCE, abort_tag, ctrl_,
                    &abort_req_),
          "MPI_Irecv");
    detect_nodes(requested);
  }
  mpi_communicator(const mpi_communicator&) = delete;
  mpi_communicator& operator=(const mpi_communicator&) = delete;
  mpi_communicator(mpi_communicator&& o) noexcept { swap(o); }
  mpi_communicator& operator=(mpi_communicator&& o) noexcept {
    if (this != &o) {
      release();
      swap(o);
    }
    return *this;
  }
  ~mpi_communicator() { release(); }

  [[nodiscard]] std::size_t rank() const noexcept { return rank_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] MPI_Comm native() const noexcept { return comm_; }
  [[nodiscard]] const mpi_options& options() const noexcept { return opts_; }
  /// Ranks per node for the node-wise exchange, 0 if the nodes are not equal blocks of consecutive
  /// ranks (see the file comment).
  [[nodiscard]] std::size_t ranks_per_node() const noexcept { return ranks_per_node_; }
  /// This rank's node (nodes numbered in order of their lowest rank).
  [[nodiscard]] std::size_t node() const noexcept { return node_; }
  /// Where the nodes came from: "mpi_options::ranks_per_node", "FULCRUM_RANKS_PER_NODE" or
  /// "MPI_COMM_TYPE_SHARED".
  [[nodiscard]] const std::string& node_source() const noexcept { return node_source_; }
  /// True once a collective failed, timed out or an abort was seen: every later call throws.
  [[nodiscard]] bool failed() const noexcept { return failed_; }

  void barrier() {
    begin("barrier");
    auto op = std::make_shared<pending>();
    check(MPI_Ibarrier(comm_, &op->req), "MPI_Ibarrier");
    finish(op, "barrier");
  }
  void broadcast(std::span<std::byte> buf, std::size_t root) {
    begin("broadcast");
    auto op = std::make_shared<pending>();
    op->out.assign(buf.begin(), buf.end());
    check(MPI_Ibcast(op->out.data(), detail::mpi_count("broadcast", "buf.size()", 0, buf.size()), MPI_BYTE,
                     static_cast<int>(root), comm_, &op->req),
          "MPI_Ibcast");
    finish(op, "broadcast");
    std::copy(op->out.begin(), op->out.end(), buf.begin());
  }
  void all_gather(std::span<const std::byte> in, std::span<std::byte> out) {
    begin("all_gather");
    const auto op = stage(in, out.size());
    const int n = detail::mpi_count("all_gather", "in.size()", rank_, in.size());
    check(MPI_Iallgather(op->in.data(), n, MPI_BYTE, op->out.data(), n, MPI_BYTE, comm_, &op->req), "MPI_Iallgather");
    finish_into(op, out, "all_gather");
  }
  void all_gather_v(std::span<const std::byte> in, std::span<std::byte> out, std::span<const std::size_t> counts) {
    begin("all_gather_v");
    const auto op = stage(in, out.size());
    op->counts_a.resize(size_);
    op->displs_a.resize(size_);
    comm::detail::for_each_block(counts.first(size_), [&](std::size_t r, std::size_t count, std::size_t at) {
      op->counts_a[r] = detail::mpi_count("all_gather_v", "counts", r, count);
      op->displs_a[r] = detail::mpi_count("all_gather_v", "displacement", r, at);
    });
    check(MPI_Iallgatherv(op->in.data(), detail::mpi_count("all_gather_v", "in.size()", rank_, in.size()), MPI_BYTE,
                          op->out.data(), op->counts_a.data(), op->displs_a.data(), MPI_BYTE, comm_, &op->req),
          "MPI_Iallgatherv");
    finish_into(op, out, "all_gather_v");
  }
  void all_reduce(std::span<const std::byte> in, std::span<std::byte> out, datatype dt, reduce_kind kind) {
    begin("all_reduce");
    const auto op = stage(in, out.size());
    const int n = detail::mpi_count("all_reduce", "elements", rank_, in.size() / size_of(dt));
    check(MPI_Iallreduce(op->in.data(), op->out.data(), n, detail::mpi_type(dt), detail::mpi_op(kind), comm_, &op->req),
          "MPI_Iallreduce");
    finish_into(op, out, "all_reduce");
  }
  void all_to_all_v(std::span<const std::byte> in, std::span<const std::size_t> send_counts, std::span<std::byte> out,
                    std::span<const std::size_t> recv_counts) {
    begin("all_to_all_v");
    const auto op = stage(in, out.size());
    op->counts_a.resize(size_);
    op->displs_a.resize(size_);
    op->counts_b.resize(size_);
    op->displs_b.resize(size_);
    comm::detail::for_each_exchange(
        send_counts.first(size_), recv_counts.first(size_),
        [&](std::size_t r, std::size_t send, std::size_t sa, std::size_t recv, std::size_t ra) {
          op->counts_a[r] = detail::mpi_count("all_to_all_v", "send_counts", r, send);
          op->displs_a[r] = detail::mpi_count("all_to_all_v", "send displacement", r, sa);
          op->counts_b[r] = detail::mpi_count("all_to_all_v", "recv_counts", r, recv);
          op->displs_b[r] = detail::mpi_count("all_to_all_v", "recv displacement", r, ra);
        });
    check(MPI_Ialltoallv(op->in.data(), op->counts_a.data(), op->displs_a.data(), MPI_BYTE, op->out.data(),
                         op->counts_b.data(), op->displs_b.data(), MPI_BYTE, comm_, &op->req),
          "MPI_Ialltoallv");
    finish_into(op, out, "all_to_all_v");
  }

  /// Tells every peer that this rank failed (their pending and next collectives throw
  /// comm_error with `reason`) and poisons this communicator. Never throws, never blocks.
  void abort(std::string_view reason) noexcept {
    if (comm_ == MPI_COMM_NULL) return;
    try {
      std::ostringstream os;
      os << "mpi_communicator: rank " << rank_ << " aborted: " << reason;
      auto msg = std::make_shared<std::string>(os.str().substr(0, abort_message_max - 1));
      auto reqs = std::make_shared<std::vector<MPI_Request>>(size_, MPI_REQUEST_NULL);
      for (std::size_t r = 0; r < size_; ++r)
        if (r != rank_)
          MPI_Isend(msg->data(), static_cast<int>(msg->size() + 1), MPI_CHAR, static_cast<int>(r), abort_tag, ctrl_,
                    &(*reqs)[r]);
      keep_alive(msg);
      keep_alive(reqs);
      if (!failed_) reason_ = os.str();
    } catch (...) {
    }
    failed_ = true;
  }

 private:
  static constexpr int abort_tag = 0x6675;  // "fu"
  static constexpr std::size_t abort_message_max = 512;

  struct pending {
    MPI_Request req = MPI_REQUEST_NULL;
    std::vector<std::byte> in, out;
    std::vector<int> counts_a, displs_a, counts_b, displs_b;
  };

  void check(int code, const char* call) {
    if (code != MPI_SUCCESS) {
      failed_ = true;
      reason_ = std::string("mpi_communicator: ") + call + " failed: " + detail::mpi_error_string(code);
      throw comm_error(reason_);
    }
  }
  void begin(const char* what) {
    if (comm_ == MPI_COMM_NULL)
      throw comm_error(std::string("mpi_communicator: ") + what + " on a moved-from communicator");
    if (failed_) throw comm_error(std::string("mpi_communicator: ") + what + " after an earlier failure: " + reason_);
    poll_abort();
  }
  /// Throws comm_error if a peer has sent an abort message.
  /// The explicit ranks per node (option, else environment), validated; 0 = derive from MPI.
  static std::size_t requested_ranks_per_node(MPI_Comm parent, std::size_t option, std::string& source) {
    int s = 0;
    MPI_Comm_size(parent, &s);
    const auto ranks = static_cast<std::size_t>(s);
    std::size_t want = option;
    source = "mpi_options::ranks_per_node";
    if (want == 0) {
      const char* env = std::getenv("FULCRUM_RANKS_PER_NODE");
      if (env == nullptr || *env == '\0') {
        source = "MPI_COMM_TYPE_SHARED";
        return 0;
      }
      source = "FULCRUM_RANKS_PER_NODE";
      char* end = nullptr;
      const unsigned long long v = std::strtoull(env, &end, 10);
      if (*end != '\0' || v == 0 || env[0] == '-')
        throw invalid_input("mpi_communicator: FULCRUM_RANKS_PER_NODE = '" + std::string(env) +
                            "': must be a positive integer (ranks per simulated node)");
      want = static_cast<std::size_t>(v);
    }
    if (ranks % want != 0)
      throw invalid_input("mpi_communicator: " + source + " = " + std::to_string(want) +
                          ": must divide the communicator size " + std::to_string(ranks));
    return want;
  }
  void detect_nodes(std::size_t requested) {
    if (requested != 0) {
      ranks_per_node_ = requested;
      node_ = rank_ / requested;
      return;
    }
    MPI_Comm shared = MPI_COMM_NULL;
    const int me = static_cast<int>(rank_);
    check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, me, MPI_INFO_NULL, &shared), "MPI_Comm_split_type");
    MPI_Comm_set_errhandler(shared, MPI_ERRORS_RETURN);
    int leader = me;
    const int code = MPI_Allreduce(&me, &leader, 1, MPI_INT, MPI_MIN, shared);
    MPI_Comm_free(&shared);
    check(code, "MPI_Allreduce");
    std::vector<int> leaders(size_, 0);
    check(MPI_Allgather(&leader, 1, MPI_INT, leaders.data(), 1, MPI_INT, comm_), "MPI_Allgather");
    std::vector<int> distinct(leaders);
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    node_ = static_cast<std::size_t>(std::lower_bound(distinct.begin(), distinct.end(), leader) - distinct.begin());
    const std::size_t g = size_ / distinct.size();
    bool blocks = size_ % distinct.size() == 0;
    for (std::size_t r = 0; blocks && r < size_; ++r) blocks = leaders[r] == static_cast<int>(r / g * g);
    ranks_per_node_ = blocks ? g : 0;
  }
  void poll_abort() {
    int flag = 0;
    MPI_Status st;
    if (MPI_Test(&abort_req_, &flag, &st) != MPI_SUCCESS || !flag) return;
    failed_ = true;
    abort_req_ = MPI_REQUEST_NULL;
    reason_ = std::string(abort_buf_->data(), strnlen(abort_buf_->data(), abort_message_max));
    throw comm_error(reason_);
  }
  /// A nonblocking collective's staging: a copy of the input (MPI reads it after the call returns)
  /// and room for the output, kept alive by the shared pointer if the collective is abandoned.
  [[nodiscard]] static std::shared_ptr<pending> stage(std::span<const std::byte> in, std::size_t out_size) {
    auto op = std::make_shared<pending>();
    op->in.assign(in.begin(), in.end());
    op->out.resize(out_size);
    return op;
  }
  /// Waits for the collective (see finish), then copies the staged output to `out`.
  void finish_into(const std::shared_ptr<pending>& op, std::span<std::byte> out, const char* what) {
    finish(op, what);
    std::copy(op->out.begin(), op->out.end(), out.begin());
  }
  void finish(const std::shared_ptr<pending>& op, const char* what) {
    const auto deadline = fulcrum::comm::detail::deadline_after(opts_.timeout);  // saturates: max() = none
    std::chrono::microseconds nap{1};
    for (;;) {
      int flag = 0;
      const int code = MPI_Test(&op->req, &flag, MPI_STATUS_IGNORE);
      if (code != MPI_SUCCESS) {
        keep_alive(op);
        check(code, what);
      }
      if (flag) return;
      try {
        poll_abort();
      } catch (...) {
        keep_alive(op);
        throw;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        keep_alive(op);
        failed_ = true;
        std::ostringstream os;
        os << "mpi_communicator: rank " << rank_ << " timed out after " << opts_.timeout.count() << " ms in " << what
           << " waiting for its peers";
        abort(os.str());  // peers stuck in the same collective fail at once instead of timing out too
        reason_ = os.str();
        throw comm_error(reason_);
      }
      std::this_thread::sleep_for(nap);
      nap = std::min(nap * 2, std::chrono::microseconds{500});
    }
  }
  void keep_alive(std::shared_ptr<void> p) { detail::mpi_leftovers::instance().keep.push_back(std::move(p)); }

  void release() noexcept {
    if (comm_ == MPI_COMM_NULL) return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) {
      if (!failed_) {
        if (abort_req_ != MPI_REQUEST_NULL) {
          MPI_Cancel(&abort_req_);
          MPI_Wait(&abort_req_, MPI_STATUS_IGNORE);
        }
        MPI_Comm_free(&comm_);
        MPI_Comm_free(&ctrl_);
      } else {
        // Operations may still be pending on these communicators: keep everything alive.
        keep_alive(abort_buf_);
        detail::mpi_leftovers::instance().comms.push_back(comm_);
        detail::mpi_leftovers::instance().comms.push_back(ctrl_);
      }
    }
    comm_ = MPI_COMM_NULL;
    ctrl_ = MPI_COMM_NULL;
  }
  void swap(mpi_communicator& o) noexcept {
    std::swap(comm_, o.comm_);
    std::swap(ctrl_, o.ctrl_);
    std::swap(rank_, o.rank_);
    std::swap(size_, o.size_);
    std::swap(opts_, o.opts_);
    std::swap(failed_, o.failed_);
    std::swap(reason_, o.reason_);
    std::swap(abort_req_, o.abort_req_);
    std::swap(abort_buf_, o.abort_buf_);
    std::swap(ranks_per_node_, o.ranks_per_node_);
    std::swap(node_, o.node_);
    std::swap(node_source_, o.node_source_);
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  MPI_Comm ctrl_ = MPI_COMM_NULL;
  std::size_t rank_ = 0;
  std::size_t size_ = 0;
  mpi_options opts_{};
  bool failed_ = false;
  std::string reason_;
  MPI_Request abort_req_ = MPI_REQUEST_NULL;
  std::shared_ptr<std::vector<char>> abort_buf_;
  std::size_t ranks_per_node_ = 0;
  std::size_t node_ = 0;
  std::string node_source_;
};

static_assert(communicator<mpi_communicator>);

}  // namespace fulcrum::comm
