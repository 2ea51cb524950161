// SPDX-License-Identifier: Apache-2.0
/// @file nccl/nccl_communicator.hpp
/// `fulcrum::nccl::nccl_communicator`: the NCCL backend (component fulcrum::nccl). Needs
/// cuda_runtime.h and nccl.h (CUDA toolkit + NCCL), not nvcc; this folder is the only place
/// that includes them. One rank per process and GPU (NCCL cannot put two ranks on one GPU).
///
/// Host spans (the communicator concept's buffers: balancing metadata, O(samples)) are staged
/// through a device scratch buffer owned by the communicator: copy in, run the NCCL collective on
/// the communicator's stream, copy out, then synchronize. Device-resident data uses the
/// `*_device` members (pointers to device memory, enqueued on the stream, no synchronization).
///
/// Collectives: all_reduce -> ncclAllReduce (int8/uint8/int32/uint32/int64/uint64/float/double;
/// 16-bit integers go through all_gather + a host fold); broadcast -> ncclBroadcast; all_gather ->
/// ncclAllGather; all_gather_v -> one ncclBroadcast per rank in a group; all_to_all_v ->
/// ncclSend/ncclRecv pairs in a group; barrier -> a one-element all_reduce.
///
/// Errors never hang (the RAFT pattern plus a deadline): the communicator is created in NCCL's
/// nonblocking mode; `synchronize()` polls ncclCommGetAsyncError and cudaStreamQuery, sleeping
/// between polls; an NCCL or CUDA error, or a wait longer than `nccl_options::timeout`, aborts
/// the NCCL communicator (ncclCommAbort) and throws fulcrum::comm_error. A failed communicator
/// throws comm_error on every later call; create a new one to retry.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/comm/detail/blocks.hpp"
#include "fulcrum/comm/detail/deadline.hpp"
#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum::nccl {

struct nccl_options {
  /// Longest a collective (or the communicator's creation) may take before comm_error. A value
  /// too large for the steady clock (e.g. `std::chrono::milliseconds::max()`) means no timeout.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

/// The cudaStream_t behind an opaque fulcrum::stream_handle, and back.
[[nodiscard]] inline cudaStream_t to_cuda(stream_handle s) noexcept { return static_cast<cudaStream_t>(s.native); }
[[nodiscard]] inline stream_handle from_cuda(cudaStream_t s) noexcept { return stream_handle{static_cast<void*>(s)}; }

/// A fresh NCCL unique id (rank 0 creates it and shares it, e.g. with MPI_Bcast).
[[nodiscard]] inline ncclUniqueId make_unique_id() {
  ncclUniqueId id;
  const ncclResult_t r = ncclGetUniqueId(&id);
  if (r != ncclSuccess) throw comm_error(std::string("nccl: ncclGetUniqueId failed: ") + ncclGetErrorString(r));
  return id;
}

namespace detail {
[[nodiscard]] inline bool nccl_type(datatype t, ncclDataType_t& out) noexcept {
  switch (t) {
    case datatype::int8: out = ncclInt8; return true;
    case datatype::uint8: out = ncclUint8; return true;
    case datatype::int32: out = ncclInt32; return true;
    case datatype::uint32: out = ncclUint32; return true;
    case datatype::int64: out = ncclInt64; return true;
    case datatype::uint64: out = ncclUint64; return true;
    case datatype::float32: out = ncclFloat32; return true;
    case datatype::float64: out = ncclFloat64; return true;
    case datatype::int16: case datatype::uint16: return false;
  }
  return false;
}
[[nodiscard]] inline ncclRedOp_t nccl_op(reduce_kind k) {
  switch (k) {
    case reduce_kind::sum: return ncclSum;
    case reduce_kind::max: return ncclMax;
    case reduce_kind::min: return ncclMin;
    case reduce_kind::custom: break;
  }
  throw invalid_input("nccl_communicator: custom ops are reduced by the generic fold, not by NCCL");
}
}  // namespace detail

class nccl_communicator {
 public:
  /// Rank `rank` of `nranks`, all holding the same `id`, on the calling thread's current CUDA
  /// device, enqueuing on `stream` (default: the legacy default stream). Collective over the
  /// ranks; throws comm_error if creation fails or exceeds the timeout.
  nccl_communicator(int nranks, const ncclUniqueId& id, int rank, stream_handle stream = {}, nccl_options opts = {})
      : stream_(to_cuda(stream)), opts_(opts) {
    if (nranks <= 0 || rank < 0 || rank >= nranks)
      throw invalid_input(fulcrum::detail::describe("nccl_communicator", "rank", rank, "must be in [0, nranks)"));
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;  // nonblocking: creation and collectives can be polled and timed out
    check(ncclCommInitRankConfig(&comm_, nranks, id, rank, &config), "ncclCommInitRankConfig");
    wait_ready("ncclCommInitRankConfig");
    rank_ = static_cast<std::size_t>(rank);
    size_ = static_cast<std::size_t>(nranks);
  }
  nccl_communicator(const nccl_communicator&) = delete;
  nccl_communicator& operator=(const nccl_communicator&) = delete;
  nccl_communicator(nccl_communicator&& o) noexcept { swap(o); }
  nccl_communicator& operator=(nccl_communicator&& o) noexcept {
    if (this != &o) {
      release();
      swap(o);
    }
    return *this;
  }
  ~nccl_communicator() { release(); }

  [[nodiscard]] std::size_t rank() const noexcept { return rank_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] ncclComm_t native() const noexcept { return comm_; }
  [[nodiscard]] stream_handle stream() const noexcept { return from_cuda(stream_); }
  [[nodiscard]] bool failed() const noexcept { return failed_; }

  // ---- host spans, staged through device scratch (the communicator concept) ----
  void barrier() {
    begin("barrier");
    auto* d = scratch(sizeof(int));
    check_cuda(cudaMemsetAsync(d, 0, sizeof(int), stream_), "cudaMemsetAsync");
    check(ncclAllReduce(d, d, 1, ncclInt32, ncclSum, comm_, stream_), "ncclAllReduce");
    synchronize();
  }
  void broadcast(std::span<std::byte> buf, std::size_t root) {
    begin("broadcast");
    auto* d = scratch(buf.size());
    upload(d, buf.data(), buf.size());
    check(ncclBroadcast(d, d, buf.size(), ncclUint8, static_cast<int>(root), comm_, stream_), "ncclBroadcast");
    download(buf.data(), d, buf.size());
    synchronize();
  }
  void all_gather(std::span<const std::byte> in, std::span<std::byte> out) {
    begin("all_gather");
    auto* d = scratch(in.size() + out.size());
    upload(d, in.data(), in.size());
    check(ncclAllGather(d, d + in.size(), in.size(), ncclUint8, comm_, stream_), "ncclAllGather");
    download(out.data(), d + in.size(), out.size());
    synchronize();
  }
  void all_gather_v(std::span<const std::byte> in, std::span<std::byte> out, std::span<const std::size_t> counts) {
    begin("all_gather_v");
    auto* d = scratch(in.size() + out.size());
    upload(d, in.data(), in.size());
    check(ncclGroupStart(), "ncclGroupStart");
    comm::detail::for_each_block(counts.first(size_), [&](std::size_t r, std::size_t count, std::size_t at) {
      check(ncclBroadcast(d, d + in.size() + at, count, ncclUint8, static_cast<int>(r), comm_, stream_),
            "ncclBroadcast");
    });
    check(ncclGroupEnd(), "ncclGroupEnd");
    download(out.data(), d + in.size(), out.size());
    synchronize();
  }
  void all_reduce(std::span<const std::byte> in, std::span<std::byte> out, datatype dt, reduce_kind kind) {
    ncclDataType_t t;
    if (!detail::nccl_type(dt, t)) {  // 16-bit integers: gather, then fold on the host in rank order
      std::vector<std::byte> all(in.size() * size_);
      all_gather(in, all);
      std::vector<std::span<const std::byte>> ins(size_);
      for (std::size_t r = 0; r < size_; ++r) ins[r] = std::span<const std::byte>(all).subspan(r * in.size(), in.size());
      comm::detail::reduce_bytes(ins, out, dt, kind);
      return;
    }
    begin("all_reduce");
    auto* d = scratch(2 * in.size());
    upload(d, in.data(), in.size());
    check(ncclAllReduce(d, d + in.size(), in.size() / size_of(dt), t, detail::nccl_op(kind), comm_, stream_),
          "ncclAllReduce");
    download(out.data(), d + in.size(), out.size());
    synchronize();
  }
  void all_to_all_v(std::span<const std::byte> in, std::span<const std::size_t> send_counts, std::span<std::byte> out,
                    std::span<const std::size_t> recv_counts) {
    begin("all_to_all_v");
    auto* d = scratch(in.size() + out.size());
    upload(d, in.data(), in.size());
    check(ncclGroupStart(), "ncclGroupStart");
    comm::detail::for_each_exchange(
        send_counts.first(size_), recv_counts.first(size_),
        [&](std::size_t r, std::size_t send, std::size_t sa, std::size_t recv, std::size_t ra) {
          if (send) check(ncclSend(d + sa, send, ncclUint8, static_cast<int>(r), comm_, stream_), "ncclSend");
          if (recv)
            check(ncclRecv(d + in.size() + ra, recv, ncclUint8, static_cast<int>(r), comm_, stream_), "ncclRecv");
        });
    check(ncclGroupEnd(), "ncclGroupEnd");
    download(out.data(), d + in.size(), out.size());
    synchronize();
  }
  /// Aborts the NCCL communicator (peers' pending collectives fail through NCCL's own error
  /// propagation or their timeout) and poisons this object. Never throws.
  void abort(std::string_view reason) noexcept {
    if (!failed_) {
      try {
        reason_ = "nccl_communicator: rank " + std::to_string(rank_) + " aborted: " + std::string(reason);
      } catch (...) {
      }
    }
    abort_comm();
  }

  // ---- device pointers (enqueued on stream(); call synchronize() before reading results) ----
  void all_reduce_device(const void* in, void* out, std::size_t count, datatype dt, reduce_kind kind) {
    begin("all_reduce_device");
    ncclDataType_t t;
    if (!detail::nccl_type(dt, t)) throw invalid_input("nccl_communicator::all_reduce_device: NCCL has no 16-bit integer type");
    check(ncclAllReduce(in, out, count, t, detail::nccl_op(kind), comm_, stream_), "ncclAllReduce");
  }
  void broadcast_device(void* buf, std::size_t bytes, std::size_t root) {
    begin("broadcast_device");
    check(ncclBroadcast(buf, buf, bytes, ncclUint8, static_cast<int>(root), comm_, stream_), "ncclBroadcast");
  }
  void all_gather_device(const void* in, void* out, std::size_t bytes_per_rank) {
    begin("all_gather_device");
    check(ncclAllGather(in, out, bytes_per_rank, ncclUint8, comm_, stream_), "ncclAllGather");
  }

  /// Waits for everything enqueued on the stream, polling NCCL's asynchronous error state; on an
  /// error or after the timeout, aborts the communicator and throws comm_error.
  void synchronize() {
    const auto deadline = fulcrum::comm::detail::deadline_after(opts_.timeout);
    std::chrono::microseconds nap{1};
    for (;;) {
      ncclResult_t async = ncclSuccess;
      const ncclResult_t r = ncclCommGetAsyncError(comm_, &async);
      if (r != ncclSuccess) fail(std::string("ncclCommGetAsyncError: ") + ncclGetErrorString(r));
      if (async != ncclSuccess && async != ncclInProgress)
        fail(std::string("asynchronous NCCL error: ") + ncclGetErrorString(async) + ": " + ncclGetLastError(comm_));
      if (async == ncclSuccess) {
        const cudaError_t q = cudaStreamQuery(stream_);
        if (q == cudaSuccess) return;
        if (q != cudaErrorNotReady) fail(std::string("cudaStreamQuery: ") + cudaGetErrorString(q));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        std::ostringstream os;
        os << "timed out after " << opts_.timeout.count() << " ms waiting for the collective to complete";
        fail(os.str());
      }
      std::this_thread::sleep_for(nap);
      nap = std::min(nap * 2, std::chrono::microseconds{500});
    }
  }

 private:
  void begin(const char* what) {
    if (failed_ || comm_ == nullptr)
      throw comm_error(std::string("nccl_communicator: ") + what + " after an earlier failure" +
                       (reason_.empty() ? std::string() : ": " + reason_));
  }
  /// Waits until a nonblocking NCCL call is no longer in progress.
  void wait_ready(const char* what) {
    const auto deadline = fulcrum::comm::detail::deadline_after(opts_.timeout);
    std::chrono::microseconds nap{1};
    for (;;) {
      ncclResult_t async = ncclSuccess;
      const ncclResult_t r = ncclCommGetAsyncError(comm_, &async);
      if (r != ncclSuccess) fail(std::string(what) + ": " + ncclGetErrorString(r));
      if (async == ncclSuccess) return;
      if (async != ncclInProgress) fail(std::string(what) + ": " + ncclGetErrorString(async));
      if (std::chrono::steady_clock::now() > deadline) fail(std::string(what) + ": timed out");
      std::this_thread::sleep_for(nap);
      nap = std::min(nap * 2, std::chrono::microseconds{500});
    }
  }
  void check(ncclResult_t r, const char* call) {
    if (r == ncclSuccess || r == ncclInProgress) return;
    fail(std::string(call) + ": " + ncclGetErrorString(r) + (comm_ ? std::string(": ") + ncclGetLastError(comm_) : std::string()));
  }
  void check_cuda(cudaError_t e, const char* call) {
    if (e != cudaSuccess) fail(std::string(call) + ": " + cudaGetErrorString(e));
  }
  [[noreturn]] void fail(const std::string& what) {
    std::string msg = "nccl_communicator: rank " + std::to_string(rank_) + ": " + what;
    if (!failed_) reason_ = msg;
    abort_comm();
    throw comm_error(msg);
  }
  void abort_comm() noexcept {
    failed_ = true;
    if (comm_ != nullptr) {
      ncclCommAbort(comm_);
      comm_ = nullptr;
    }
  }
  std::byte* scratch(std::size_t bytes) {
    bytes = std::max<std::size_t>(bytes, 1);
    if (bytes > scratch_bytes_) {
      const std::size_t want = std::max(bytes, scratch_bytes_ * 2);
      if (scratch_) check_cuda(cudaFree(scratch_), "cudaFree");
      scratch_ = nullptr;
      scratch_bytes_ = 0;
      void* p = nullptr;
      check_cuda(cudaMalloc(&p, want), "cudaMalloc");
      scratch_ = static_cast<std::byte*>(p);
      scratch_bytes_ = want;
    }
    return scratch_;
  }
  void upload(std::byte* d, const std::byte* h, std::size_t n) {
    if (n) check_cuda(cudaMemcpyAsync(d, h, n, cudaMemcpyHostToDevice, stream_), "cudaMemcpyAsync");
  }
  void download(std::byte* h, const std::byte* d, std::size_t n) {
    if (n) check_cuda(cudaMemcpyAsync(h, d, n, cudaMemcpyDeviceToHost, stream_), "cudaMemcpyAsync");
  }
  void release() noexcept {
    if (comm_ != nullptr && !failed_) {
      // Orderly shutdown (finalize, polled with the timeout); any error falls back to abort.
      ncclResult_t async = ncclCommFinalize(comm_);
      const auto deadline = fulcrum::comm::detail::deadline_after(opts_.timeout);
      while ((async == ncclSuccess || async == ncclInProgress) &&
             ncclCommGetAsyncError(comm_, &async) == ncclSuccess && async == ncclInProgress &&
             std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::microseconds{100});
      if (async == ncclSuccess) ncclCommDestroy(comm_);
      else ncclCommAbort(comm_);
      comm_ = nullptr;
    } else {
      abort_comm();
    }
    if (scratch_) cudaFree(scratch_);
    scratch_ = nullptr;
    scratch_bytes_ = 0;
  }
  void swap(nccl_communicator& o) noexcept {
    std::swap(comm_, o.comm_);
    std::swap(stream_, o.stream_);
    std::swap(opts_, o.opts_);
    std::swap(rank_, o.rank_);
    std::swap(size_, o.size_);
    std::swap(failed_, o.failed_);
    std::swap(reason_, o.reason_);
    std::swap(scratch_, o.scratch_);
    std::swap(scratch_bytes_, o.scratch_bytes_);
  }

  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  nccl_options opts_{};
  std::size_t rank_ = 0;
  std::size_t size_ = 0;
  bool failed_ = false;
  std::string reason_;
  std::byte* scratch_ = nullptr;
  std::size_t scratch_bytes_ = 0;
};

static_assert(communicator<nccl_communicator>);

}  // namespace fulcrum::nccl
