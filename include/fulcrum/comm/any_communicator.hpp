// SPDX-License-Identifier: Apache-2.0
/// @file comm/any_communicator.hpp
/// `any_communicator`: a communicator whose backend is chosen at run time (RAFT's two layers).
/// `communicator_interface` is the byte-level virtual interface (buffers as std::byte spans,
/// element types as `datatype`, ops as `reduce_kind`); `any_communicator` owns (or references)
/// one implementation and is itself a `fulcrum::communicator`, so the typed CPOs
/// (fulcrum::comm::all_reduce, ...) are its typed facade; the typed member templates below are
/// the same calls spelled RAFT-style (`comm.all_reduce(in, out, std::plus<>{})`).
/// Cost: one virtual call per collective on top of the backend.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum::comm {

/// The byte-level interface a run-time backend implements. Counts are in bytes.
class communicator_interface {
 public:
  virtual ~communicator_interface() = default;
  [[nodiscard]] virtual std::size_t rank() const = 0;
  [[nodiscard]] virtual std::size_t size() const = 0;
  virtual void barrier() = 0;
  virtual void broadcast(std::span<std::byte> buf, std::size_t root) = 0;
  virtual void all_gather(std::span<const std::byte> in, std::span<std::byte> out) = 0;
  virtual void all_gather_v(std::span<const std::byte> in, std::span<std::byte> out,
                            std::span<const std::size_t> counts) = 0;
  virtual void all_reduce(std::span<const std::byte> in, std::span<std::byte> out, datatype dt, reduce_kind op) = 0;
  virtual void all_to_all_v(std::span<const std::byte> in, std::span<const std::size_t> send_counts,
                            std::span<std::byte> out, std::span<const std::size_t> recv_counts) = 0;
  virtual void abort(std::string_view reason) noexcept = 0;
};

namespace detail {
template <class C>
class communicator_model final : public communicator_interface {
 public:
  template <class... Args>
  explicit communicator_model(Args&&... args) : c_(std::forward<Args>(args)...) {}
  std::size_t rank() const override { return rank_of(get()); }
  std::size_t size() const override { return size_of_comm(get()); }
  void barrier() override { barrier_bytes(get()); }
  void broadcast(std::span<std::byte> buf, std::size_t root) override { broadcast_bytes(get(), buf, root); }
  void all_gather(std::span<const std::byte> in, std::span<std::byte> out) override { gather_bytes(get(), in, out); }
  void all_gather_v(std::span<const std::byte> in, std::span<std::byte> out,
                    std::span<const std::size_t> counts) override {
    gather_v_bytes(get(), in, out, counts);
  }
  void all_reduce(std::span<const std::byte> in, std::span<std::byte> out, datatype dt, reduce_kind op) override {
    all_reduce_bytes(get(), in, out, dt, op);
  }
  void all_to_all_v(std::span<const std::byte> in, std::span<const std::size_t> send_counts, std::span<std::byte> out,
                    std::span<const std::size_t> recv_counts) override {
    all_to_all_v_bytes(get(), in, send_counts, out, recv_counts);
  }
  void abort(std::string_view reason) noexcept override { comm::abort(get(), reason); }

 private:
  auto& get() const {
    if constexpr (std::is_pointer_v<C>) return *c_;
    else return const_cast<C&>(c_);
  }
  C c_;
};
}  // namespace detail

class any_communicator {
 public:
  /// Owns a copy (or the moved) backend.
  template <communicator C>
    requires(!std::is_same_v<std::remove_cvref_t<C>, any_communicator>)
  explicit any_communicator(C&& backend)
      : impl_(std::make_unique<detail::communicator_model<std::remove_cvref_t<C>>>(std::forward<C>(backend))) {}
  /// References a backend that outlives this object: any_communicator(std::ref(endpoint)).
  template <communicator C>
  explicit any_communicator(std::reference_wrapper<C> backend)
      : impl_(std::make_unique<detail::communicator_model<C*>>(&backend.get())) {}
  /// Takes a user implementation of the byte-level interface.
  explicit any_communicator(std::unique_ptr<communicator_interface> impl) : impl_(std::move(impl)) {
    if (!impl_) throw invalid_input("any_communicator: null implementation");
  }

  [[nodiscard]] std::size_t rank() const { return impl_->rank(); }
  [[nodiscard]] std::size_t size() const { return impl_->size(); }
  void barrier() { impl_->barrier(); }
  void broadcast(std::span<std::byte> buf, std::size_t root) { impl_->broadcast(buf, root); }
  void all_gather(std::span<const std::byte> in, std::span<std::byte> out) { impl_->all_gather(in, out); }
  void all_gather_v(std::span<const std::byte> in, std::span<std::byte> out, std::span<const std::size_t> counts) {
    impl_->all_gather_v(in, out, counts);
  }
  void all_reduce(std::span<const std::byte> in, std::span<std::byte> out, datatype dt, reduce_kind op) {
    impl_->all_reduce(in, out, dt, op);
  }
  void all_to_all_v(std::span<const std::byte> in, std::span<const std::size_t> send_counts, std::span<std::byte> out,
                    std::span<const std::size_t> recv_counts) {
    impl_->all_to_all_v(in, send_counts, out, recv_counts);
  }
  void abort(std::string_view reason) noexcept { impl_->abort(reason); }

  // ---- typed facade (the CPOs, as members) ----
  template <transferable T, class Op>
    requires reduce_op_for<Op, T>
  void all_reduce(std::span<const T> in, std::span<T> out, Op op) {
    constexpr auto kind = reduce_op_traits<std::remove_cvref_t<Op>>::kind;
    constexpr auto dt = datatype_of<T>();
    comm::detail::require_count("all_reduce", "out.size()", out.size(), in.size());
    if constexpr (kind != reduce_kind::custom && dt.has_value())
      impl_->all_reduce(comm::detail::bytes_of(in), comm::detail::bytes_of(out), *dt, kind);
    else
      all_reduce_t::fold(*this, in, out, op);
  }
  template <transferable T>
  void broadcast(std::span<T> buf, std::size_t root) {
    comm::broadcast(*this, buf, root);
  }

  /// The implementation (for backend-specific calls).
  [[nodiscard]] communicator_interface& implementation() noexcept { return *impl_; }

 private:
  std::unique_ptr<communicator_interface> impl_;
};

static_assert(communicator<any_communicator>);

}  // namespace fulcrum::comm
