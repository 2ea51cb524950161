// SPDX-License-Identifier: Apache-2.0
/// @file concepts/communicator.hpp
/// The `communicator` concept and its vocabulary: transferable element types, reduction ops and
/// their traits, the byte-level datatype tags, and the opaque stream handle.
///
/// A communicator is a group of `size()` ranks that call the same collectives in the same order.
/// fulcrum's algorithms take `communicator auto&` and call the customization-point objects in
/// fulcrum/comm/collectives.hpp (fulcrum::comm::all_reduce, ...), which call a backend's member
/// when it has one and fall back to a generic implementation otherwise.
///
/// communicator<C> requires (the smallest set every other collective can be built from):
///   1. `c.rank()` and `c.size()` on a const C, convertible to std::size_t, rank() < size();
///   2. `c.all_gather_v(std::span<const std::byte> in, std::span<std::byte> out,
///      std::span<const std::size_t> counts)`: rank r contributes counts[r] bytes; every rank
///      receives the concatenation in rank order (out.size() == sum of counts).
/// Optional byte-level members a backend may add to go faster (detected by the CPOs):
///   `barrier()`, `broadcast(std::span<std::byte> buf, std::size_t root)`,
///   `all_gather(std::span<const std::byte> in, std::span<std::byte> out)`,
///   `all_reduce(std::span<const std::byte> in, std::span<std::byte> out, datatype, reduce_kind)`,
///   `all_to_all_v(std::span<const std::byte> in, std::span<const std::size_t> send_counts,
///                 std::span<std::byte> out, std::span<const std::size_t> recv_counts)`,
///   `abort(std::string_view reason) noexcept` (tell the peers this rank failed).
/// Failures of a collective (peer failed, timeout, inconsistent calls) throw fulcrum::comm_error.
///
/// Element types are `transferable` (trivially copyable, sent as raw bytes; every rank must share
/// the byte layout, as MPI_BYTE transfers do). Reductions take an op whose `reduce_op_traits`
/// names the backend op: std::plus<> (sum), fulcrum::max_op, fulcrum::min_op are built in; a user
/// op opts in by specializing reduce_op_traits with `kind = reduce_kind::custom` (it is then
/// folded left in rank order after an all_gather, deterministic on every backend).
/// @see fulcrum/comm/collectives.hpp, fulcrum/testing/communicator_conformance.hpp, docs/communicator.md
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "fulcrum/core/enum_names.hpp"

namespace fulcrum {

/// Element types a collective can move: trivially copyable objects (sent as bytes).
template <class T>
concept transferable = std::is_object_v<T> && !std::is_const_v<T> && std::is_trivially_copyable_v<T>;

/// max(a, b); ties return a. Commutative and associative for totally ordered T.
struct max_op {
  template <class T>
  [[nodiscard]] constexpr T operator()(const T& a, const T& b) const {
    return a < b ? b : a;
  }
};

/// min(a, b); ties return a.
struct min_op {
  template <class T>
  [[nodiscard]] constexpr T operator()(const T& a, const T& b) const {
    return b < a ? b : a;
  }
};

/// The reduction a backend is asked to perform.
enum class reduce_kind : std::uint8_t { sum, max, min, custom };
/// Names of reduce_kind in declaration order (core/enum_names.hpp: to_string, parse_enum).
[[nodiscard]] constexpr enum_names_table<reduce_kind, 4> enum_table(reduce_kind) noexcept {
  return {"reduce_kind", {"sum", "max", "min", "custom"}};
}

/// Maps a reduction op to a backend op (Boost.MPI's is_mpi_op). Specialize for user ops:
///   template <> struct fulcrum::reduce_op_traits<my_op> {
///     static constexpr reduce_kind kind = reduce_kind::custom; static constexpr bool commutative = false; };
/// Custom ops are applied as a left fold in rank order: out = in_0 op in_1 op ... op in_{p-1}.
template <class Op>
struct reduce_op_traits;  // undefined: an op without traits is rejected by `reduce_op_for`

template <>
struct reduce_op_traits<std::plus<>> {
  static constexpr reduce_kind kind = reduce_kind::sum;
  static constexpr bool commutative = true;
};
template <class T>
struct reduce_op_traits<std::plus<T>> {
  static constexpr reduce_kind kind = reduce_kind::sum;
  static constexpr bool commutative = true;
};
template <>
struct reduce_op_traits<max_op> {
  static constexpr reduce_kind kind = reduce_kind::max;
  static constexpr bool commutative = true;
};
template <>
struct reduce_op_traits<min_op> {
  static constexpr reduce_kind kind = reduce_kind::min;
  static constexpr bool commutative = true;
};

/// Op is a reduction for T: (1) reduce_op_traits<Op> names its kind; (2) `op(a, b)` on const T&
/// returns something convertible to T.
template <class Op, class T>
concept reduce_op_for = requires {
  { reduce_op_traits<std::remove_cvref_t<Op>>::kind } -> std::convertible_to<reduce_kind>;
} && std::is_invocable_r_v<T, const Op&, const T&, const T&>;

/// Element types that backends reduce natively (MPI_INT32_T, ncclFloat64, ...).
enum class datatype : std::uint8_t { int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64 };
/// Names of datatype in declaration order (core/enum_names.hpp: to_string, parse_enum).
[[nodiscard]] constexpr enum_names_table<datatype, 10> enum_table(datatype) noexcept {
  return {"datatype", {"int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"}};
}

/// The datatype tag of T, or nullopt for types only the generic fallback reduces.
template <class T>
[[nodiscard]] constexpr std::optional<datatype> datatype_of() noexcept {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, float>) return datatype::float32;
  else if constexpr (std::is_same_v<U, double>) return datatype::float64;
  else if constexpr (std::is_integral_v<U> && !std::is_same_v<U, bool>) {
    if constexpr (sizeof(U) == 1) return std::is_signed_v<U> ? datatype::int8 : datatype::uint8;
    else if constexpr (sizeof(U) == 2) return std::is_signed_v<U> ? datatype::int16 : datatype::uint16;
    else if constexpr (sizeof(U) == 4) return std::is_signed_v<U> ? datatype::int32 : datatype::uint32;
    else if constexpr (sizeof(U) == 8) return std::is_signed_v<U> ? datatype::int64 : datatype::uint64;
    else return std::nullopt;
  } else {
    return std::nullopt;
  }
}

/// Size in bytes of one element of a datatype.
[[nodiscard]] constexpr std::size_t size_of(datatype t) noexcept {
  switch (t) {
    case datatype::int8: case datatype::uint8: return 1;
    case datatype::int16: case datatype::uint16: return 2;
    case datatype::int32: case datatype::uint32: case datatype::float32: return 4;
    case datatype::int64: case datatype::uint64: case datatype::float64: return 8;
  }
  return 0;
}

/// An opaque handle to a device stream (a cudaStream_t on the NCCL backend). CPU code passes it
/// around without seeing CUDA types; only fulcrum/nccl/ converts it back.
struct stream_handle {
  void* native = nullptr;  ///< nullptr = the backend's default stream
  friend constexpr bool operator==(stream_handle, stream_handle) = default;
};

/// See the file comment for the numbered requirements.
template <class C>
concept communicator = requires(const C& cc, C& c, std::span<const std::byte> in, std::span<std::byte> out,
                                std::span<const std::size_t> counts) {
  { cc.rank() } -> std::convertible_to<std::size_t>;
  { cc.size() } -> std::convertible_to<std::size_t>;
  c.all_gather_v(in, out, counts);
};

}  // namespace fulcrum
