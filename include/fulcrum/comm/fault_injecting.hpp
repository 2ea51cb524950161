// SPDX-License-Identifier: Apache-2.0
/// @file comm/fault_injecting.hpp
/// `fault_injecting<C>`: wraps a communicator and makes one rank misbehave at its n-th collective
/// (counting every byte-level collective this rank enters, from 0), to test that failures become
/// `comm_error` on every rank instead of a hang (PyTorch's FakeProcessGroup error switch, made
/// precise). Faults:
///   - fail:  throw comm_error on that rank; with `notify`, first call the inner communicator's
///            abort() so peers fail at once (a clean crash), otherwise peers find out by timeout;
///   - delay: sleep `delay` before the collective, then take part normally (a straggler);
///   - drop:  stop responding: sleep `delay` without notifying anyone, then throw comm_error;
///            the rank stays dropped (every later collective throws at once).
/// Every other rank forwards to the inner communicator unchanged. O(1) overhead per collective.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum::comm {

enum class fault_kind : std::uint8_t { none, fail, delay, drop };
/// Names of fault_kind in declaration order (core/enum_names.hpp: to_string, parse_enum).
[[nodiscard]] constexpr enum_names_table<fault_kind, 4> enum_table(fault_kind) noexcept {
  return {"fault_kind", {"none", "fail", "delay", "drop"}};
}

struct fault_plan {
  fault_kind kind = fault_kind::none;
  std::size_t rank = 0;                  ///< the rank that misbehaves
  std::uint64_t at = 0;                  ///< index of the collective (0 = the first one)
  std::chrono::milliseconds delay{0};    ///< delay: how long to stall; drop: how long to stay silent
  bool notify = true;                    ///< fail: abort the inner communicator so peers learn at once
};

template <communicator C>
class fault_injecting {
 public:
  /// Wraps `inner` (not owned; must outlive this object).
  fault_injecting(C& inner, fault_plan plan) : inner_(&inner), plan_(plan) {}

  [[nodiscard]] std::size_t rank() const { return detail::rank_of(*inner_); }
  [[nodiscard]] std::size_t size() const { return detail::size_of_comm(*inner_); }
  /// Collectives this rank has entered so far (including a failed one).
  [[nodiscard]] std::uint64_t collectives() const noexcept { return count_; }
  [[nodiscard]] const fault_plan& plan() const noexcept { return plan_; }
  [[nodiscard]] C& inner() noexcept { return *inner_; }

  void barrier() {
    before("barrier");
    detail::barrier_bytes(*inner_);
  }
  void broadcast(std::span<std::byte> buf, std::size_t root) {
    before("broadcast");
    detail::broadcast_bytes(*inner_, buf, root);
  }
  void all_gather(std::span<const std::byte> in, std::span<std::byte> out) {
    before("all_gather");
    detail::gather_bytes(*inner_, in, out);
  }
  void all_gather_v(std::span<const std::byte> in, std::span<std::byte> out, std::span<const std::size_t> counts) {
    before("all_gather_v");
    detail::gather_v_bytes(*inner_, in, out, counts);
  }
  void all_reduce(std::span<const std::byte> in, std::span<std::byte> out, datatype dt, reduce_kind kind) {
    before("all_reduce");
    detail::all_reduce_bytes(*inner_, in, out, dt, kind);
  }
  void all_to_all_v(std::span<const std::byte> in, std::span<const std::size_t> send_counts, std::span<std::byte> out,
                    std::span<const std::size_t> recv_counts) {
    before("all_to_all_v");
    detail::all_to_all_v_bytes(*inner_, in, send_counts, out, recv_counts);
  }
  void abort(std::string_view reason) noexcept {
    if (!dropped_) comm::abort(*inner_, reason);  // a dropped rank tells nobody anything
  }

 private:
  void before(const char* what) {
    const std::uint64_t index = count_++;
    if (dropped_ || failed_) throw comm_error(message(what, index, dropped_ ? "was dropped earlier" : "failed earlier"));
    if (plan_.kind == fault_kind::none || rank() != plan_.rank || index != plan_.at) return;
    switch (plan_.kind) {
      case fault_kind::fail: {
        failed_ = true;
        const auto msg = message(what, index, "injected failure");
        if (plan_.notify) comm::abort(*inner_, msg);
        throw comm_error(msg);
      }
      case fault_kind::delay:
        std::this_thread::sleep_for(plan_.delay);
        return;
      case fault_kind::drop:
        dropped_ = true;
        std::this_thread::sleep_for(plan_.delay);
        throw comm_error(message(what, index, "injected drop: this rank stopped responding"));
      case fault_kind::none:
        return;
    }
  }
  std::string message(const char* what, std::uint64_t index, const char* why) const {
    std::ostringstream os;
    os << "fault_injecting: rank " << rank() << ", " << what << " #" << index << ": " << why;
    return os.str();
  }

  C* inner_;
  fault_plan plan_;
  std::uint64_t count_ = 0;
  bool failed_ = false;
  bool dropped_ = false;
};

}  // namespace fulcrum::comm
