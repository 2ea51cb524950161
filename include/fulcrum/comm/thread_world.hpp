// SPDX-License-Identifier: Apache-2.0
/// @file comm/thread_world.hpp
/// `thread_world`: N threads of one process act as N ranks with real collective semantics (the
/// design of PyTorch's threaded process group). For tests, examples and benchmarks of
/// distributed code without MPI.
///
/// How: `world.run(f)` starts one thread per rank and calls `f(endpoint&)` on each. A collective
/// is two rendezvous: every rank publishes its input in its slot and meets the others (1); each
/// rank then reads the slots it needs into its own output, checks that every rank called the
/// same collective with consistent arguments, and meets the others again (2), after which inputs
/// may be reused. Reductions fold in rank order, so results are deterministic.
///
/// Failures never hang: an exception escaping `f` on any rank, an explicit `abort(reason)`, a
/// mismatch between ranks (different collective, different length) or a wait longer than
/// `options::timeout` sets the world's abort flag, which wakes every waiting rank with
/// `comm_error` (and every later collective throws it too). `run` joins all threads, then
/// rethrows the exception of the rank that failed first; `try_run` returns each rank's.
/// Cost per collective: two condition-variable rendezvous plus O(bytes received) copying.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/comm/detail/deadline.hpp"
#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum::comm {


/// Options of a thread_world.
struct thread_world_options {
  /// Longest a rank waits for its peers in one collective before the world is aborted. A value
  /// too large for the steady clock (e.g. `std::chrono::milliseconds::max()`) means no timeout.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

class thread_world {
  struct state;

 public:
  using options = thread_world_options;

  /// A world of `ranks` threads (>= 1).
  explicit thread_world(std::size_t ranks, options opts = {}) : state_(ranks, opts) {
    if (ranks == 0) throw invalid_input(fulcrum::detail::describe("thread_world", "ranks", ranks, "need at least one rank"));
  }

  [[nodiscard]] std::size_t size() const noexcept { return state_.n; }
  [[nodiscard]] const options& config() const noexcept { return state_.opts; }

  /// One rank's communicator; valid inside `run`. Models fulcrum::communicator.
  class endpoint {
   public:
    [[nodiscard]] std::size_t rank() const noexcept { return rank_; }
    [[nodiscard]] std::size_t size() const noexcept { return s_->n; }

    void barrier() {
      slot_for(op::barrier);
      collective([](endpoint&) {});
    }
    void broadcast(std::span<std::byte> buf, std::size_t root) {
      auto& me = slot_for(op::broadcast);
      me.in = buf;
      me.root = root;
      collective([&](endpoint& self) {
        self.require_same_root();
        self.require_same_length();
        if (self.rank_ != root && !buf.empty()) std::memcpy(buf.data(), self.s_->slots[root].in.data(), buf.size());
      });
    }
    void all_gather(std::span<const std::byte> in, std::span<std::byte> out) {
      auto& me = slot_for(op::all_gather);
      me.in = in;
      collective([&](endpoint& self) {
        self.require_same_length();
        for (std::size_t r = 0; r < self.s_->n; ++r)
          if (!in.empty()) std::memcpy(out.data() + r * in.size(), self.s_->slots[r].in.data(), in.size());
      });
    }
    void all_gather_v(std::span<const std::byte> in, std::span<std::byte> out, std::span<const std::size_t> counts) {
      auto& me = slot_for(op::all_gather_v);
      me.in = in;
      collective([&](endpoint& self) {
        std::size_t at = 0;
        for (std::size_t r = 0; r < self.s_->n; ++r) {
          const auto src = self.s_->slots[r].in;
          if (src.size() != counts[r]) self.mismatch("all_gather_v", "counts", r, counts[r], src.size());
          if (!src.empty()) std::memcpy(out.data() + at, src.data(), src.size());
          at += src.size();
        }
      });
    }
    void all_reduce(std::span<const std::byte> in, std::span<std::byte> out, datatype dt, reduce_kind kind) {
      auto& me = slot_for(op::all_reduce);
      me.in = in;
      me.dt = dt;
      me.kind = kind;
      collective([&](endpoint& self) {
        self.require_same_length();
        std::vector<std::span<const std::byte>> ins(self.s_->n);
        for (std::size_t r = 0; r < self.s_->n; ++r) {
          const auto& sl = self.s_->slots[r];
          if (sl.dt != dt || sl.kind != kind)
            self.mismatch("all_reduce", "datatype/op", r, static_cast<unsigned>(sl.dt), static_cast<unsigned>(dt));
          ins[r] = sl.in;
        }
        detail::reduce_bytes(ins, out, dt, kind);
      });
    }
    void all_to_all_v(std::span<const std::byte> in, std::span<const std::size_t> send_counts, std::span<std::byte> out,
                      std::span<const std::size_t> recv_counts) {
      auto& me = slot_for(op::all_to_all_v);
      me.in = in;
      me.counts = send_counts;
      collective([&](endpoint& self) {
        std::size_t at = 0;
        for (std::size_t r = 0; r < self.s_->n; ++r) {
          const auto& sl = self.s_->slots[r];
          std::size_t off = 0;
          for (std::size_t d = 0; d < self.rank_; ++d) off += sl.counts[d];
          const std::size_t len = sl.counts[self.rank_];
          if (len != recv_counts[r]) self.mismatch("all_to_all_v", "recv_counts", r, recv_counts[r], len);
          if (len) std::memcpy(out.data() + at, sl.in.data() + off, len);
          at += len;
        }
      });
    }
    /// Marks the world failed: every rank waiting now or calling a collective later gets comm_error.
    void abort(std::string_view reason) noexcept {
      try {
        std::ostringstream os;
        os << "thread_world: rank " << rank_ << " aborted: " << reason;
        s_->set_abort(rank_, os.str());
      } catch (...) {
        s_->set_abort(rank_, "thread_world: abort");
      }
    }
    /// Number of collectives this rank has entered.
    [[nodiscard]] std::uint64_t collectives() const noexcept { return seq_; }

   private:
    friend class thread_world;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"  // g++ 12 takes scoped enumerators for shadows of the collectives
#endif
    enum class op : std::uint8_t { barrier, broadcast, all_gather, all_gather_v, all_reduce, all_to_all_v };
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    static constexpr const char* op_name(op o) noexcept {
      switch (o) {
        case op::barrier: return "barrier";
        case op::broadcast: return "broadcast";
        case op::all_gather: return "all_gather";
        case op::all_gather_v: return "all_gather_v";
        case op::all_reduce: return "all_reduce";
        case op::all_to_all_v: return "all_to_all_v";
      }
      return "?";
    }
    struct slot {
      op kind_of_op = op::barrier;
      std::uint64_t seq = 0;
      std::span<const std::byte> in{};
      std::span<const std::size_t> counts{};
      std::size_t root = 0;
      datatype dt = datatype::uint8;
      reduce_kind kind = reduce_kind::sum;
    };
    endpoint(state* s, std::size_t rank) : s_(s), rank_(rank) {}

    slot& slot_for(op o) {
      auto& me = s_->slots[rank_];
      me = slot{};
      me.kind_of_op = o;
      me.seq = seq_++;
      return me;
    }
    /// Rendezvous, body (read peers' slots), rendezvous. Throws comm_error on abort/timeout/mismatch.
    template <class Body>
    void collective(Body&& body) {
      const auto& me = s_->slots[rank_];
      s_->arrive_and_wait(rank_, op_name(me.kind_of_op), me.seq);
      for (std::size_t r = 0; r < s_->n; ++r) {
        const auto& sl = s_->slots[r];
        if (sl.kind_of_op != me.kind_of_op || sl.seq != me.seq) {
          std::ostringstream os;
          os << "thread_world: collectives differ between ranks: rank " << rank_ << " called " << op_name(me.kind_of_op)
             << " #" << me.seq << ", rank " << r << " called " << op_name(sl.kind_of_op) << " #" << sl.seq;
          fail(os.str());
        }
      }
      try {
        body(*this);
      } catch (const comm_error&) {
        throw;
      } catch (const std::exception& e) {
        fail(std::string("thread_world: ") + e.what());
      }
      s_->arrive_and_wait(rank_, op_name(me.kind_of_op), me.seq);
    }
    [[noreturn]] void fail(const std::string& msg) {
      s_->set_abort(rank_, msg);
      throw comm_error(msg);
    }
    template <class A, class B>
    [[noreturn]] void mismatch(const char* what, const char* field, std::size_t r, A mine, B theirs) {
      std::ostringstream os;
      os << "thread_world: " << what << ": " << field << "[" << r << "] = " << mine << " on rank " << rank_
         << " but rank " << r << " has " << theirs;
      fail(os.str());
    }
    void require_same_length() {
      const auto& me = s_->slots[rank_];
      for (std::size_t r = 0; r < s_->n; ++r)
        if (s_->slots[r].in.size() != me.in.size())
          mismatch(op_name(me.kind_of_op), "length", r, me.in.size(), s_->slots[r].in.size());
    }
    void require_same_root() {
      const auto& me = s_->slots[rank_];
      for (std::size_t r = 0; r < s_->n; ++r)
        if (s_->slots[r].root != me.root) mismatch("broadcast", "root", r, me.root, s_->slots[r].root);
    }

    state* s_;
    std::size_t rank_;
    std::uint64_t seq_ = 0;
  };

  /// Runs f(endpoint&) on every rank, each in its own thread; returns when all are done.
  /// If f returns a value, the result is the vector of every rank's value (index = rank).
  /// Throws the exception of the rank that failed first (the others' comm_error are dropped).
  template <class F>
  auto run(F&& f) {
    using R = std::invoke_result_t<F&, endpoint&>;
    if constexpr (std::is_void_v<R>) {
      rethrow_first(try_run(f));
    } else {
      std::vector<std::optional<R>> out(state_.n);
      rethrow_first(try_run([&](endpoint& ep) { out[ep.rank()].emplace(f(ep)); }));
      std::vector<R> values;
      values.reserve(out.size());
      for (auto& v : out) values.push_back(std::move(*v));
      return values;
    }
  }

  /// Runs f on every rank; returns each rank's exception (null where the rank succeeded).
  template <class F>
  std::vector<std::exception_ptr> try_run(F&& f) {
    state_.reset();
    std::vector<std::exception_ptr> errors(state_.n);
    std::vector<std::thread> threads;
    threads.reserve(state_.n);
    auto body = [&](std::size_t r) {
      endpoint ep(&state_, r);
      try {
        f(ep);
      } catch (const std::exception& e) {
        errors[r] = std::current_exception();
        std::ostringstream os;
        os << "thread_world: rank " << r << " failed: " << e.what();
        state_.set_abort(r, os.str());
      } catch (...) {
        errors[r] = std::current_exception();
        state_.set_abort(r, "thread_world: rank failed with a non-standard exception");
      }
    };
    try {
      for (std::size_t r = 0; r < state_.n; ++r) threads.emplace_back(body, r);
    } catch (...) {
      state_.set_abort(0, "thread_world: could not start a rank thread");
      for (auto& t : threads) t.join();
      throw;
    }
    for (auto& t : threads) t.join();
    return errors;
  }

  /// The rank that failed first in the last run (nullopt if none failed).
  [[nodiscard]] std::optional<std::size_t> failed_rank() const {
    std::lock_guard lock(state_.m);
    return state_.aborted ? std::optional<std::size_t>(state_.origin) : std::nullopt;
  }

 private:
  struct state {
    std::size_t n;
    options opts;
    mutable std::mutex m;
    std::condition_variable cv;
    std::size_t arrived = 0;
    std::uint64_t generation = 0;
    bool aborted = false;
    std::size_t origin = 0;
    std::string reason;
    std::vector<endpoint::slot> slots;

    state(std::size_t ranks, options o) : n(ranks), opts(o), slots(ranks) {}

    void reset() {
      std::lock_guard lock(m);
      arrived = 0;
      ++generation;
      aborted = false;
      origin = 0;
      reason.clear();
      slots.assign(n, endpoint::slot{});
    }
    void set_abort(std::size_t who, std::string why) noexcept {
      {
        std::lock_guard lock(m);
        if (!aborted) {
          aborted = true;
          origin = who;
          reason = std::move(why);
        }
      }
      cv.notify_all();
    }
    void arrive_and_wait(std::size_t who, const char* what, std::uint64_t seq) {
      std::unique_lock lock(m);
      if (aborted) throw comm_error(reason);
      const auto gen = generation;
      if (++arrived == n) {
        arrived = 0;
        ++generation;
        lock.unlock();
        cv.notify_all();
        return;
      }
      // A timeout too large for the clock (e.g. milliseconds::max()) means no timeout.
      const auto deadline = detail::deadline_after(opts.timeout);
      const auto woken = [&] { return generation != gen || aborted; };
      if (detail::is_unbounded(deadline)) {
        cv.wait(lock, woken);
      } else if (!cv.wait_until(lock, deadline, woken)) {
        std::ostringstream os;
        os << "thread_world: rank " << who << " timed out after " << opts.timeout.count() << " ms in " << what << " #"
           << seq << " waiting for its peers";
        aborted = true;
        origin = who;
        reason = os.str();
        lock.unlock();
        cv.notify_all();
        throw comm_error(os.str());
      }
      if (generation == gen) throw comm_error(reason);  // woken by the abort flag
    }
  };

  void rethrow_first(const std::vector<std::exception_ptr>& errors) const {
    const auto first = failed_rank();
    if (first && errors[*first]) std::rethrow_exception(errors[*first]);
    for (const auto& e : errors)
      if (e) std::rethrow_exception(e);
  }

  state state_;
};

static_assert(communicator<thread_world::endpoint>);

}  // namespace fulcrum::comm
