// SPDX-License-Identifier: Apache-2.0
/// @file comm/collectives.hpp
/// Customization-point objects for collectives on any `fulcrum::communicator`:
///   rank, size, barrier, broadcast, all_gather, all_gather_v, all_reduce, all_to_all_v, abort.
/// Each takes typed contiguous ranges (std::vector, std::array, std::span) of `transferable`
/// elements, validates sizes locally (invalid_input naming the field and value), then calls the
/// backend's byte-level member when it has one, or a generic fallback built on all_gather_v:
///
/// | CPO          | member used if present                     | fallback                                  |
/// |--------------|--------------------------------------------|-------------------------------------------|
/// | barrier      | barrier()                                  | all_gather_v of one byte per rank         |
/// | broadcast    | broadcast(bytes, root)                     | all_gather_v, only the root contributes   |
/// | all_gather   | all_gather(bytes, bytes)                   | all_gather_v with equal counts            |
/// | all_reduce   | typed all_reduce(in, out, op), else byte   | all_gather, then a left fold in rank order|
/// |              | all_reduce(.., datatype, kind) (sum/min/max|                                           |
/// |              | on int/float types)                        |                                           |
/// | all_to_all_v | all_to_all_v(bytes, counts, bytes, counts) | all_gather of the counts matrix + all data|
/// | abort        | abort(reason) noexcept                     | nothing                                   |
///
/// Counts are in elements. Collectives must be called by every rank in the same order with
/// consistent arguments (same buffer length for broadcast and all_reduce; matching counts for
/// all_to_all_v). Input and output ranges must not overlap. Complexity is the backend's; the
/// fallbacks move O(p * n) bytes per rank.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <exception>
#include <functional>
#include <numeric>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/config.hpp"
#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum::comm {

/// Result of the collectives that return variable-length data: values of rank r are
/// values[offsets[r] .. offsets[r+1]).
template <class T>
struct gathered {
  std::vector<T> values;
  std::vector<std::size_t> offsets;  ///< size() + 1 entries
  [[nodiscard]] std::span<const T> of(std::size_t r) const {
    return std::span<const T>(values).subspan(offsets[r], offsets[r + 1] - offsets[r]);
  }
  [[nodiscard]] std::size_t ranks() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }
};

namespace detail {

template <class R>
concept input_buffer = std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
                       transferable<std::ranges::range_value_t<R>>;
template <class R>
concept output_buffer = input_buffer<R> && std::is_same_v<std::remove_reference_t<std::ranges::range_reference_t<R>>,
                                                           std::ranges::range_value_t<R>>;
template <class R>
using elem_t = std::ranges::range_value_t<R>;

template <class R>
std::span<const elem_t<R>> cspan(R&& r) {
  return std::span<const elem_t<R>>(std::ranges::data(r), std::ranges::size(r));
}
template <class R>
std::span<elem_t<R>> mspan(R&& r) {
  return std::span<elem_t<R>>(std::ranges::data(r), std::ranges::size(r));
}
template <class T>
std::span<const std::byte> bytes_of(std::span<const T> s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size_bytes()};
}
template <class T>
std::span<std::byte> bytes_of(std::span<T> s) noexcept {
  return {reinterpret_cast<std::byte*>(s.data()), s.size_bytes()};
}

inline std::size_t bytes_for(std::string_view where, std::size_t count, std::size_t elem) {
  return checked_mul(count, elem, where);
}

inline void require_count(std::string_view where, std::string_view field, std::size_t got, std::size_t want) {
  if (got != want) {
    std::string reason = "expected ";
    reason += std::to_string(want);
    throw invalid_input(fulcrum::detail::describe(where, field, got, reason));
  }
}

template <class T>
bool overlaps(std::span<const T> a, std::span<T> b) noexcept {
  if (a.empty() || b.empty()) return false;
  const auto* a0 = reinterpret_cast<const std::byte*>(a.data());
  const auto* b0 = reinterpret_cast<const std::byte*>(b.data());
  return std::less<>{}(a0, b0 + b.size_bytes()) && std::less<>{}(b0, a0 + a.size_bytes());
}

template <class C>
std::size_t rank_of(const C& c) {
  return static_cast<std::size_t>(c.rank());
}
template <class C>
std::size_t size_of_comm(const C& c) {
  return static_cast<std::size_t>(c.size());
}

/// std::vector<T>, spelled as a type that depends on the communicator C: the fallback paths below
/// (taken only for a backend without the member) then instantiate nothing until they are used.
template <class T, class C>
using buffer = typename fulcrum::detail::dependent_type<std::vector<T>, C>::type;

/// Byte-level all_gather_v with counts in bytes (the one required member).
template <communicator C>
void gather_v_bytes(C& c, std::span<const std::byte> in, std::span<std::byte> out, std::span<const std::size_t> counts) {
  c.all_gather_v(in, out, counts);
}

/// Byte-level all_gather (equal counts).
template <communicator C>
void gather_bytes(C& c, std::span<const std::byte> in, std::span<std::byte> out) {
  if constexpr (requires { c.all_gather(in, out); }) {
    c.all_gather(in, out);
  } else {
    const buffer<std::size_t, C> counts(size_of_comm(c), in.size());
    c.all_gather_v(in, out, std::span<const std::size_t>(counts));
  }
}

/// Byte-level all_to_all_v (counts in bytes).
template <communicator C>
void all_to_all_v_bytes(C& c, std::span<const std::byte> in, std::span<const std::size_t> send_counts,
                        std::span<std::byte> out, std::span<const std::size_t> recv_counts) {
  if constexpr (requires { c.all_to_all_v(in, send_counts, out, recv_counts); }) {
    c.all_to_all_v(in, send_counts, out, recv_counts);
  } else {
    // Fallback: everyone learns the whole count matrix and all data, then picks its own part.
    const std::size_t p = size_of_comm(c), me = rank_of(c);
    buffer<std::size_t, C> matrix(p * p);
    gather_bytes(c, bytes_of(send_counts), bytes_of(std::span<std::size_t>(matrix)));
    buffer<std::size_t, C> totals(p, 0);
    for (std::size_t r = 0; r < p; ++r)
      for (std::size_t d = 0; d < p; ++d) totals[r] = checked_add(totals[r], matrix[r * p + d], "all_to_all_v");
    const std::size_t all = std::accumulate(totals.begin(), totals.end(), std::size_t{0},
                                            [](std::size_t a, std::size_t b) { return checked_add(a, b, "all_to_all_v"); });
    buffer<std::byte, C> everything(all);
    c.all_gather_v(in, std::span<std::byte>(everything), std::span<const std::size_t>(totals));
    std::size_t base = 0, at = 0;
    for (std::size_t r = 0; r < p; ++r) {
      std::size_t off = base;
      for (std::size_t d = 0; d < me; ++d) off += matrix[r * p + d];
      const std::size_t n = matrix[r * p + me];
      if (n != recv_counts[r])
        throw comm_error(fulcrum::detail::describe("all_to_all_v", "recv_counts", r, recv_counts[r],
                                                   "does not match what the sender sends"));
      if (n) std::memcpy(out.data() + at, everything.data() + off, n);
      at += n;
      base += totals[r];
    }
  }
}


/// out[j] = in_0[j] op in_1[j] op ... for a built-in datatype and op (rank order). Defined in
/// comm/detail/collectives_impl.hpp (header-only) or in fulcrum::compiled.
FULCRUM_WORKER_TEMPLATE
FULCRUM_WORKER void reduce_bytes(std::span<const std::span<const std::byte>> ins, std::span<std::byte> out, datatype dt,
                                 reduce_kind kind);


/// Byte-level barrier.
template <communicator C>
void barrier_bytes(C& c) {
  if constexpr (requires { c.barrier(); }) {
    c.barrier();
  } else {
    const std::byte one{1};
    buffer<std::byte, C> sink(size_of_comm(c));
    gather_bytes(c, std::span<const std::byte>(&one, 1), std::span<std::byte>(sink));
  }
}

/// Byte-level broadcast (same buffer length on every rank).
template <communicator C>
void broadcast_bytes(C& c, std::span<std::byte> bytes, std::size_t root) {
  if constexpr (requires { c.broadcast(bytes, root); }) {
    c.broadcast(bytes, root);
  } else {
    buffer<std::size_t, C> counts(size_of_comm(c), 0);
    counts[root] = bytes.size();
    buffer<std::byte, C> out(bytes.size());
    const bool is_root = rank_of(c) == root;
    c.all_gather_v(is_root ? std::span<const std::byte>(bytes) : std::span<const std::byte>(), std::span<std::byte>(out),
                   std::span<const std::size_t>(counts));
    if (!is_root && !out.empty()) std::memcpy(bytes.data(), out.data(), out.size());
  }
}

/// Byte-level all_reduce of a built-in datatype and op (sum/max/min): the member, or all_gather
/// followed by a left fold in rank order.
template <communicator C>
void all_reduce_bytes(C& c, std::span<const std::byte> in, std::span<std::byte> out, datatype dt, reduce_kind kind) {
  if constexpr (requires { c.all_reduce(in, out, dt, kind); }) {
    c.all_reduce(in, out, dt, kind);
  } else {
    const std::size_t p = size_of_comm(c);
    buffer<std::byte, C> all(checked_mul(in.size(), p, "all_reduce"));
    gather_bytes(c, in, std::span<std::byte>(all));
    buffer<std::span<const std::byte>, C> ins(p);
    for (std::size_t r = 0; r < p; ++r) ins[r] = std::span<const std::byte>(all).subspan(r * in.size(), in.size());
    reduce_bytes(ins, out, dt, kind);
  }
}

}  // namespace detail

/// rank(c): this rank's index in [0, size(c)).
struct rank_t {
  template <communicator C>
  [[nodiscard]] std::size_t operator()(const C& c) const {
    return detail::rank_of(c);
  }
};
inline constexpr rank_t rank{};

/// size(c): the number of ranks.
struct size_t_ {
  template <communicator C>
  [[nodiscard]] std::size_t operator()(const C& c) const {
    return detail::size_of_comm(c);
  }
};
inline constexpr size_t_ size{};

/// barrier(c): returns on a rank only after every rank has entered it.
struct barrier_t {
  template <communicator C>
  void operator()(C& c) const {
    detail::barrier_bytes(c);
  }
};
inline constexpr barrier_t barrier{};

/// broadcast(c, buf, root): every rank's buf receives root's buf (same length on every rank).
struct broadcast_t {
  template <communicator C, detail::output_buffer Buf>
  void operator()(C& c, Buf&& buf, std::size_t root) const {
    const std::size_t p = detail::size_of_comm(c);
    if (root >= p) throw invalid_input(fulcrum::detail::describe("broadcast", "root", root, "is not a rank"));
    auto s = detail::mspan(buf);
    detail::broadcast_bytes(c, detail::bytes_of(s), root);
  }
};
inline constexpr broadcast_t broadcast{};

/// all_gather(c, in, out): out = in of rank 0, in of rank 1, ... (same in.size() on every rank;
/// out.size() == size * in.size()). all_gather(c, in) returns the vector.
struct all_gather_t {
  template <communicator C, detail::input_buffer In, detail::output_buffer Out>
    requires std::is_same_v<detail::elem_t<In>, detail::elem_t<Out>>
  void operator()(C& c, In&& in, Out&& out) const {
    auto i = detail::cspan(in);
    auto o = detail::mspan(out);
    detail::require_count("all_gather", "out.size()", o.size(),
                          checked_mul(i.size(), detail::size_of_comm(c), "all_gather"));
    if (detail::overlaps(i, o)) throw invalid_input("all_gather: in and out overlap");
    detail::gather_bytes(c, detail::bytes_of(i), detail::bytes_of(o));
  }
  template <communicator C, detail::input_buffer In>
  [[nodiscard]] std::vector<detail::elem_t<In>> operator()(C& c, In&& in) const {
    auto i = detail::cspan(in);
    std::vector<detail::elem_t<In>> out(checked_mul(i.size(), detail::size_of_comm(c), "all_gather"));
    (*this)(c, i, out);
    return out;
  }
};
inline constexpr all_gather_t all_gather{};

/// all_gather_v(c, in, out, counts): rank r contributes counts[r] elements (its in.size() must
/// equal counts[r]); out = concatenation in rank order. all_gather_v(c, in) first gathers the
/// counts and returns `gathered<T>` (values + per-rank offsets).
struct all_gather_v_t {
  template <communicator C, detail::input_buffer In, detail::output_buffer Out, detail::input_buffer Counts>
    requires std::is_same_v<detail::elem_t<In>, detail::elem_t<Out>> &&
             std::is_same_v<detail::elem_t<Counts>, std::size_t>
  void operator()(C& c, In&& in, Out&& out, Counts&& counts) const {
    using T = detail::elem_t<In>;
    auto i = detail::cspan(in);
    auto o = detail::mspan(out);
    auto n = detail::cspan(counts);
    const std::size_t p = detail::size_of_comm(c), me = detail::rank_of(c);
    detail::require_count("all_gather_v", "counts.size()", n.size(), p);
    detail::require_count("all_gather_v", "in.size()", i.size(), n[me]);
    std::size_t total = 0;
    detail::buffer<std::size_t, C> byte_counts(p);
    for (std::size_t r = 0; r < p; ++r) {
      total = checked_add(total, n[r], "all_gather_v");
      byte_counts[r] = detail::bytes_for("all_gather_v", n[r], sizeof(T));
    }
    detail::require_count("all_gather_v", "out.size()", o.size(), total);
    if (detail::overlaps(i, o)) throw invalid_input("all_gather_v: in and out overlap");
    c.all_gather_v(detail::bytes_of(i), detail::bytes_of(o), std::span<const std::size_t>(byte_counts));
  }
  template <communicator C, detail::input_buffer In>
  [[nodiscard]] gathered<detail::elem_t<In>> operator()(C& c, In&& in) const {
    auto i = detail::cspan(in);
    const std::size_t p = detail::size_of_comm(c);
    const std::size_t mine = i.size();
    detail::buffer<std::size_t, C> counts(p);
    detail::gather_bytes(c, detail::bytes_of(std::span<const std::size_t>(&mine, 1)),
                         detail::bytes_of(std::span<std::size_t>(counts)));
    gathered<detail::elem_t<In>> g;
    g.offsets.assign(p + 1, 0);
    for (std::size_t r = 0; r < p; ++r) g.offsets[r + 1] = checked_add(g.offsets[r], counts[r], "all_gather_v");
    g.values.resize(g.offsets.back());
    (*this)(c, i, g.values, counts);
    return g;
  }
};
inline constexpr all_gather_v_t all_gather_v{};

/// all_reduce(c, in, out, op): out[j] = op-fold over ranks of in[j] (same length everywhere).
/// Built-in ops on int/float elements use the backend's reduction; everything else is a left
/// fold in rank order (in_0 op in_1 op ...), identical on every rank. all_reduce(c, value, op)
/// reduces one value and returns it.
struct all_reduce_t {
  template <communicator C, detail::input_buffer In, detail::output_buffer Out, class Op>
    requires std::is_same_v<detail::elem_t<In>, detail::elem_t<Out>> && reduce_op_for<Op, detail::elem_t<In>>
  void operator()(C& c, In&& in, Out&& out, Op op) const {
    using T = detail::elem_t<In>;
    auto i = detail::cspan(in);
    auto o = detail::mspan(out);
    detail::require_count("all_reduce", "out.size()", o.size(), i.size());
    if (detail::overlaps(i, o)) throw invalid_input("all_reduce: in and out overlap");
    constexpr auto kind = reduce_op_traits<std::remove_cvref_t<Op>>::kind;
    constexpr auto dt = datatype_of<T>();
    if constexpr (requires { c.all_reduce(i, o, op); }) {
      c.all_reduce(i, o, op);
    } else if constexpr (kind != reduce_kind::custom && dt.has_value()) {
      detail::all_reduce_bytes(c, detail::bytes_of(i), detail::bytes_of(o), *dt, kind);
    } else {
      fold(c, i, o, op);
    }
  }
  template <communicator C, transferable T, class Op>
    requires(!detail::input_buffer<T>) && reduce_op_for<Op, T>
  [[nodiscard]] T operator()(C& c, const T& value, Op op) const {
    T out{};
    (*this)(c, std::span<const T>(&value, 1), std::span<T>(&out, 1), op);
    return out;
  }

  /// The generic path: all_gather, then out = in_0 op in_1 op ... in rank order.
  template <communicator C, class T, class Op>
  static void fold(C& c, std::span<const T> in, std::span<T> out, const Op& op) {
    const std::size_t p = detail::size_of_comm(c), n = in.size();
    std::vector<T> all(checked_mul(n, p, "all_reduce"));
    detail::gather_bytes(c, detail::bytes_of(in), detail::bytes_of(std::span<T>(all)));
    for (std::size_t j = 0; j < n; ++j) {
      T acc = all[j];
      for (std::size_t r = 1; r < p; ++r) acc = static_cast<T>(op(acc, all[r * n + j]));
      out[j] = acc;
    }
  }
};
inline constexpr all_reduce_t all_reduce{};

/// all_to_all_v(c, in, send_counts, out, recv_counts): rank r sends in's block d (send_counts[d]
/// elements, blocks in rank order) to rank d; out holds the blocks received from ranks 0..p-1 in
/// rank order (recv_counts[s] elements from s; must equal what s sends). all_to_all_v(c, in,
/// send_counts) first exchanges the counts and returns `gathered<T>` (block s = from rank s).
struct all_to_all_v_t {
  template <communicator C, detail::input_buffer In, detail::input_buffer SendCounts, detail::output_buffer Out,
            detail::input_buffer RecvCounts>
    requires std::is_same_v<detail::elem_t<In>, detail::elem_t<Out>> &&
             std::is_same_v<detail::elem_t<SendCounts>, std::size_t> &&
             std::is_same_v<detail::elem_t<RecvCounts>, std::size_t>
  void operator()(C& c, In&& in, SendCounts&& send_counts, Out&& out, RecvCounts&& recv_counts) const {
    using T = detail::elem_t<In>;
    auto i = detail::cspan(in);
    auto o = detail::mspan(out);
    auto sc = detail::cspan(send_counts);
    auto rc = detail::cspan(recv_counts);
    const std::size_t p = detail::size_of_comm(c);
    detail::require_count("all_to_all_v", "send_counts.size()", sc.size(), p);
    detail::require_count("all_to_all_v", "recv_counts.size()", rc.size(), p);
    detail::buffer<std::size_t, C> sb(p), rb(p);
    std::size_t st = 0, rt = 0;
    for (std::size_t r = 0; r < p; ++r) {
      st = checked_add(st, sc[r], "all_to_all_v");
      rt = checked_add(rt, rc[r], "all_to_all_v");
      sb[r] = detail::bytes_for("all_to_all_v", sc[r], sizeof(T));
      rb[r] = detail::bytes_for("all_to_all_v", rc[r], sizeof(T));
    }
    detail::require_count("all_to_all_v", "in.size()", i.size(), st);
    detail::require_count("all_to_all_v", "out.size()", o.size(), rt);
    if (detail::overlaps(i, o)) throw invalid_input("all_to_all_v: in and out overlap");
    detail::all_to_all_v_bytes(c, detail::bytes_of(i), std::span<const std::size_t>(sb), detail::bytes_of(o),
                               std::span<const std::size_t>(rb));
  }
  template <communicator C, detail::input_buffer In, detail::input_buffer SendCounts>
    requires std::is_same_v<detail::elem_t<SendCounts>, std::size_t>
  [[nodiscard]] gathered<detail::elem_t<In>> operator()(C& c, In&& in, SendCounts&& send_counts) const {
    auto sc = detail::cspan(send_counts);
    const std::size_t p = detail::size_of_comm(c);
    detail::require_count("all_to_all_v", "send_counts.size()", sc.size(), p);
    detail::buffer<std::size_t, C> recv(p);
    const detail::buffer<std::size_t, C> ones(p, 1);
    (*this)(c, sc, ones, recv, ones);
    gathered<detail::elem_t<In>> g;
    g.offsets.assign(p + 1, 0);
    for (std::size_t r = 0; r < p; ++r) g.offsets[r + 1] = checked_add(g.offsets[r], recv[r], "all_to_all_v");
    g.values.resize(g.offsets.back());
    (*this)(c, in, sc, g.values, recv);
    return g;
  }
};
inline constexpr all_to_all_v_t all_to_all_v{};

/// abort(c, reason): tell the peers this rank failed, so their pending and next collectives
/// throw comm_error promptly (no-op on backends without the member). Never throws.
struct abort_t {
  template <communicator C>
  void operator()(C& c, std::string_view reason) const noexcept {
    if constexpr (requires { c.abort(reason); }) c.abort(reason);
  }
};
inline constexpr abort_t abort{};

}  // namespace fulcrum::comm

namespace fulcrum::detail {

/// Runs f(); on any exception other than comm_error, tells the peers (comm::abort; `where` names
/// the caller for an exception that carries no message) and rethrows. One helper for dispatch,
/// return_results and the orchestrator.
template <class C, class F>
decltype(auto) abort_on_error(C& c, F&& f, std::string_view where) {
  try {
    return f();
  } catch (const comm_error&) {
    throw;
  } catch (const std::exception& e) {
    comm::abort(c, e.what());
    throw;
  } catch (...) {
    comm::abort(c, std::string(where) + ": unknown exception");
    throw;
  }
}

}  // namespace fulcrum::detail

#if !defined(FULCRUM_COMPILED)
#include "fulcrum/comm/detail/collectives_impl.hpp"
#endif
