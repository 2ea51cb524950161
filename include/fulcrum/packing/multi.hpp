// SPDX-License-Identifier: Apache-2.0
/// @file packing/multi.hpp
/// Multi-constraint (vector) bin packing: every item has D sizes (e.g. {tokens, images}), every bin
/// a capacity per dimension, and a bin is feasible only if every dimension fits.
///
/// Algorithms (all deterministic; bins in opening order, items within a bin in index order):
/// - `multi_next_fit`: one open bin, index order. O(nD).
/// - `multi_first_fit`: index order, lowest-index bin where every dimension fits.
/// - `multi_first_fit_decreasing`: items sorted by their dominant normalised size max_d s_d / C_d
///   descending (exact for capacities < 2^24), then by the sum of normalised sizes descending, then
///   by lower index; then first fit.
/// - `multi_best_fit_decreasing` (the default of pack()): the same order; each item goes to the
///   feasible open bin with the least normalised residual sum_d (room_d - s_d) / C_d. Bins are
///   bucketed by their room in dimensions 1..D-1 (a class, e.g. the image slots left) and, inside a
///   class, by room in dimension 0 (successor bitmap + stacks), so a query inspects one bucket per
///   class: O(K + log_64 C_0) per item for K = prod_{d>=1} (C_d + 1) <= 1024 classes. Among equal
///   scores the lowest class key wins, inside a bucket the most recently updated bin. When the
///   classes do not apply (a large capacity beyond dimension 0) it falls back to a bounded FFD:
///   each item's first-fit query inspects at most 512 tree nodes, then the 16 most recently
///   opened bins, then opens a bin. Worst case O(n log n + n D 528) (the plain first-fit query is
///   O(D B) on near-complementary items: 20 s at n = 160k). Same plan as FFD whenever the first
///   promising subtree holds a fitting bin (the usual case).
/// Worst-case time of the default (pack() with automatic = multi_best_fit_decreasing):
///   O(n log n + n (K + log C_0)) with classes, O(n log n + 528 n D) without.
/// First fit uses a tournament tree holding, per node, the largest room of each dimension over its
/// bins; the search descends only into subtrees whose per-dimension maxima all admit the item (a
/// necessary condition), so the answer is exactly the textbook lowest feasible bin. One query is
/// O(D log B) when the first promising subtree holds a feasible bin, O(D B) in the worst case
/// (multi_first_fit and multi_first_fit_decreasing by name keep the textbook answer).
/// Lower bound: max over dimensions of Martello–Toth L2 of that dimension's sizes (vector packing
/// needs at least as many bins as its hardest projection).
/// Errors: a zero capacity in any dimension is `invalid_input` naming capacity[d]; an item larger
/// than the capacity in some dimension is `infeasible` naming sizes[i][d] (pack() offers the
/// oversize policies). Empty input gives 0 bins.
///
/// `multi_pack_flat` takes row-major sizes with a runtime dimension count (dimension mismatches are
/// `invalid_input`), for callers whose D is only known at run time (D = 1..4 supported).
/// Compile cost: the algorithms are defined in packing/detail/multi_impl.hpp, included here in
/// header-only mode; with FULCRUM_COMPILED (fulcrum::compiled) they are built once for D = 1..8.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/packing.hpp"

namespace fulcrum {

template <std::size_t D>
using size_vector = std::array<std::uint64_t, D>;

template <std::size_t D>
using multi_packing = basic_packing<size_vector<D>>;

/// Multi-constraint next fit (see the file comment).
template <std::size_t D>
[[nodiscard]] multi_packing<D> multi_next_fit(std::span<const size_vector<D>> sizes, const size_vector<D>& capacity);

/// Multi-constraint first fit: the lowest-index feasible bin (see the file comment).
template <std::size_t D>
[[nodiscard]] multi_packing<D> multi_first_fit(std::span<const size_vector<D>> sizes, const size_vector<D>& capacity);

/// First fit in dominant-size order (see the file comment).
template <std::size_t D>
[[nodiscard]] multi_packing<D> multi_first_fit_decreasing(std::span<const size_vector<D>> sizes,
                                                          const size_vector<D>& capacity);

/// Best fit in dominant-size order, the default of pack() (see the file comment).
template <std::size_t D>
[[nodiscard]] multi_packing<D> multi_best_fit_decreasing(std::span<const size_vector<D>> sizes,
                                                         const size_vector<D>& capacity);

/// Lower bound for vector packing: max over dimensions of L2. O(D (n + C) ) or O(D n log n).
template <std::size_t D>
[[nodiscard]] std::uint64_t multi_lower_bound(std::span<const size_vector<D>> sizes, const size_vector<D>& capacity);

/// Runtime-dimension front end: `sizes` row-major (item i's dimension d at sizes[i * dims + d]),
/// capacity.size() == dims, 1 <= dims <= 4. Result loads are flattened the same way.
struct flat_multi_packing {
  grouping bins;
  std::vector<std::uint64_t> loads;  ///< bins.size() * dims, row-major
  std::size_t dims = 0;
  std::uint64_t lower_bound = 0;
  bool proven_optimal = false;

  /// (bins - lower_bound) / lower_bound: 0 when proven optimal.
  [[nodiscard]] double gap() const noexcept {
    return result_gap(static_cast<double>(bins.size()), static_cast<double>(lower_bound), proven_optimal);
  }
};

FULCRUM_WORKER_TEMPLATE
[[nodiscard]] FULCRUM_WORKER flat_multi_packing multi_pack_flat(std::span<const std::uint64_t> sizes, std::size_t dims,
                                                                std::span<const std::uint64_t> capacity);

#if defined(FULCRUM_COMPILED)
// Built once in fulcrum::compiled (src/pack.cpp) for D = 1..multi_compiled_max_dims; a TU that needs
// another D includes <fulcrum/packing/detail/multi_impl.hpp>.
#define FULCRUM_MULTI_EXTERN(D)                                                                                      \
  extern template multi_packing<D> multi_next_fit<D>(std::span<const size_vector<D>>, const size_vector<D>&);       \
  extern template multi_packing<D> multi_first_fit<D>(std::span<const size_vector<D>>, const size_vector<D>&);      \
  extern template multi_packing<D> multi_first_fit_decreasing<D>(std::span<const size_vector<D>>,                   \
                                                                 const size_vector<D>&);                            \
  extern template multi_packing<D> multi_best_fit_decreasing<D>(std::span<const size_vector<D>>,                    \
                                                                const size_vector<D>&);                             \
  extern template std::uint64_t multi_lower_bound<D>(std::span<const size_vector<D>>, const size_vector<D>&);
FULCRUM_MULTI_EXTERN(1)
FULCRUM_MULTI_EXTERN(2)
FULCRUM_MULTI_EXTERN(3)
FULCRUM_MULTI_EXTERN(4)
FULCRUM_MULTI_EXTERN(5)
FULCRUM_MULTI_EXTERN(6)
FULCRUM_MULTI_EXTERN(7)
FULCRUM_MULTI_EXTERN(8)
#undef FULCRUM_MULTI_EXTERN
#endif

/// Dimension counts built into fulcrum::compiled (pack() and pack_for_ranks() accept 1..8 there).
inline constexpr std::size_t multi_compiled_max_dims = 8;

}  // namespace fulcrum

#if !defined(FULCRUM_COMPILED)
#include "fulcrum/packing/detail/multi_flat_impl.hpp"
#include "fulcrum/packing/detail/multi_impl.hpp"
#endif
