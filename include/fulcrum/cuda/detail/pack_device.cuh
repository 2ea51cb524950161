// SPDX-License-Identifier: Apache-2.0
/// @file cuda/detail/pack_device.cuh
/// The device pipeline shared by fulcrum::cuda::histogram_pack and best_fit_decreasing:
///  1. validate (capacity, item count, oversize: the CPU's messages);
///  2. stable radix sort of the sizes, descending (16/32/64-bit keys by capacity), ties by index;
///  3. run-length encoding of the sorted sizes: the size histogram (distinct sizes + counts);
///  4. on the host, best fit on the histogram in bulk (bulk_best_fit.hpp): O(distinct sizes +
///     bin segments), independent of n, producing runs of (bins, items per bin);
///  5. parallel expansion of the runs into item -> bin, then the CSR (stable sort by bin) and the
///     bin loads (segmented sum), all on the device; L2 from the histogram.
#pragma once

#include "fulcrum/cuda/detail/check.cuh"  // first: configuration (nvcc / host backend) before Thrust

#include <thrust/binary_search.h>
#include <thrust/device_vector.h>
#include <thrust/find.h>
#include <thrust/for_each.h>
#include <thrust/functional.h>
#include <thrust/iterator/constant_iterator.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/discard_iterator.h>
#include <thrust/iterator/permutation_iterator.h>
#include <thrust/iterator/transform_iterator.h>
#include <thrust/reduce.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>
#include <thrust/transform.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/stats.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/cuda/detail/bulk_best_fit.hpp"
#include "fulcrum/cuda/detail/runtime.cuh"
#include "fulcrum/cuda/policy.cuh"
#include "fulcrum/packing/bounds.hpp"
#include "fulcrum/packing/packing.hpp"

namespace fulcrum::cuda {

/// A packing whose bins stay on the device (CSR: bin b holds indices[offsets[b] .. offsets[b+1])).
struct device_packing {
  thrust::device_vector<std::size_t> offsets;        ///< bins+1
  thrust::device_vector<index_type> indices;         ///< n: items, bin by bin, increasing index within a bin
  thrust::device_vector<index_type> bin_of;          ///< n: bin of item i
  thrust::device_vector<std::uint64_t> loads;        ///< bins: total size per bin
  std::uint64_t lower_bound = 0;                     ///< L2 (as the CPU)
  bool proven_optimal = false;                       ///< bins == lower_bound
  pack_algorithm algorithm = pack_algorithm::automatic;

  device_packing() : offsets(1, std::size_t{0}) {}

  [[nodiscard]] std::size_t bin_count() const noexcept { return loads.size(); }
  /// (bins - lower_bound) / lower_bound: 0 when proven optimal (as fulcrum::packing::gap).
  [[nodiscard]] double gap() const noexcept {
    return result_gap(static_cast<double>(bin_count()), static_cast<double>(lower_bound), proven_optimal);
  }

  /// The same fulcrum::packing the CPU algorithm returns (copies to the host).
  [[nodiscard]] packing to_host() const {
    packing p;
    p.bins = grouping(detail::to_host(offsets), detail::to_host(indices));
    p.loads = detail::to_host(loads);
    p.lower_bound = lower_bound;
    p.proven_optimal = proven_optimal;
    p.algorithm = algorithm;
    return p;
  }
};

namespace detail {

template <class T>
struct exceeds {
  std::uint64_t capacity;
  FULCRUM_HD bool operator()(T s) const { return static_cast<std::uint64_t>(s) > capacity; }
};

template <class Key, class T>
struct to_key {
  FULCRUM_HD Key operator()(T s) const { return static_cast<Key>(s); }
};

/// Expands runs: the item at sorted position j goes to its run's bin.
struct expand_runs {
  const pack_run* runs;
  std::size_t run_count;
  const index_type* order;
  index_type* bin_of;
  FULCRUM_HD void operator()(std::uint64_t j) const {
    std::size_t lo = 0, hi = run_count;  // last run with first_position <= j
    while (hi - lo > 1) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (runs[mid].first_position <= j) lo = mid;
      else hi = mid;
    }
    const pack_run& r = runs[lo];
    const auto t = static_cast<std::int64_t>((j - r.first_position) / r.per_bin);
    bin_of[order[j]] = static_cast<index_type>(r.first_bin + r.step * t);
  }
};

template <class T>
struct widen {
  FULCRUM_HD std::uint64_t operator()(T s) const { return static_cast<std::uint64_t>(s); }
};

template <class Room, class Key, class T>
void pack_with_keys(const execution_policy& policy, device_span<const T> sizes, std::uint64_t capacity,
                    std::string_view where, device_packing& out) {
  const std::size_t n = sizes.size();
  const auto exec = policy.thrust();
  // 2. Sort (size descending, ties by index).
  buffer<Key> keys(policy, n);
  buffer<index_type> order(policy, n);
  translate_thrust_errors(where, [&] {
    thrust::transform(exec, sizes.begin(), sizes.end(), keys.data(), to_key<Key, T>{});
    thrust::sequence(exec, order.data(), order.data() + n, index_type{0});
    thrust::stable_sort_by_key(exec, keys.data(), keys.data() + n, order.data(), thrust::greater<Key>());
  });
  // 3. Histogram of the sorted sizes.
  buffer<Key> distinct(policy, n);
  buffer<std::uint64_t> counts(policy, n);
  const std::size_t classes = translate_thrust_errors(where, [&] {
    const auto ends = thrust::reduce_by_key(exec, keys.data(), keys.data() + n, thrust::constant_iterator<std::uint64_t>(1),
                                            distinct.data(), counts.data());
    return static_cast<std::size_t>(ends.first - distinct.data());
  });
  std::vector<Key> host_sizes(classes);
  std::vector<std::uint64_t> host_counts(classes);
  copy_to_host(policy, distinct.data(), classes, host_sizes.data());
  copy_to_host(policy, counts.data(), classes, host_counts.data());
  std::vector<std::pair<std::uint64_t, std::uint64_t>> histogram(classes);
  for (std::size_t c = 0; c < classes; ++c) histogram[c] = {static_cast<std::uint64_t>(host_sizes[c]), host_counts[c]};
  // 4. L2 and the bulk best fit, on the histogram.
  if (capacity <= (std::uint64_t{1} << 26)) {
    std::vector<std::uint64_t> count(static_cast<std::size_t>(capacity) + 1, 0);
    for (const auto& [s, c] : histogram) count[static_cast<std::size_t>(s)] = c;
    out.lower_bound = lower_bound_l2_counts(count, capacity);
  } else {
    std::vector<std::uint64_t> expanded;
    expanded.reserve(n);
    for (const auto& [s, c] : histogram) expanded.insert(expanded.end(), static_cast<std::size_t>(c), s);
    out.lower_bound = lower_bound_l2(std::span<const std::uint64_t>(expanded), capacity);
  }
  const bulk_result bulk = bulk_best_fit<Room>(histogram, capacity);
  // 5. Expand, build the CSR and the loads.
  const auto bins = static_cast<std::size_t>(bulk.bins);
  buffer<pack_run> runs(policy, bulk.runs.size());
  copy_to_device(policy, bulk.runs.data(), bulk.runs.size(), runs.data());
  out.bin_of.resize(n);
  out.indices.resize(n);
  out.offsets.resize(bins + 1);
  out.loads.resize(bins);
  settle_default_stream(where);
  index_type* bin_of = thrust::raw_pointer_cast(out.bin_of.data());
  index_type* indices = thrust::raw_pointer_cast(out.indices.data());
  buffer<index_type> sorted_bins(policy, n);
  translate_thrust_errors(where, [&] {
    thrust::for_each(exec, thrust::counting_iterator<std::uint64_t>(0), thrust::counting_iterator<std::uint64_t>(n),
                     expand_runs{runs.data(), bulk.runs.size(), order.data(), bin_of});
    thrust::copy(exec, bin_of, bin_of + n, sorted_bins.data());
    thrust::sequence(exec, indices, indices + n, index_type{0});
    thrust::stable_sort_by_key(exec, sorted_bins.data(), sorted_bins.data() + n, indices, thrust::less<index_type>());
    thrust::lower_bound(exec, sorted_bins.data(), sorted_bins.data() + n, thrust::counting_iterator<index_type>(0),
                        thrust::counting_iterator<index_type>(static_cast<index_type>(bins)),
                        thrust::raw_pointer_cast(out.offsets.data()));
    auto item_sizes = thrust::make_transform_iterator(thrust::make_permutation_iterator(sizes.begin(), indices), widen<T>{});
    thrust::reduce_by_key(exec, sorted_bins.data(), sorted_bins.data() + n, item_sizes, thrust::make_discard_iterator(),
                          thrust::raw_pointer_cast(out.loads.data()));
  });
  const std::size_t total = n;
  copy_to_device(policy, &total, 1, thrust::raw_pointer_cast(out.offsets.data()) + bins);
  policy.synchronize(where);
  out.proven_optimal = bins == out.lower_bound;
}

/// Packs device sizes with best fit decreasing under the given equal-room rule (see file docs).
template <class Room, class T>
[[nodiscard]] device_packing pack_on_device(const execution_policy& policy, device_span<const T> sizes,
                                            std::uint64_t capacity, std::string_view where, pack_algorithm algorithm) {
  using fulcrum::detail::describe;
  if (capacity == 0) throw invalid_input(describe(where, "capacity", capacity, "must be positive"));
  if (sizes.size() > std::numeric_limits<index_type>::max())
    throw invalid_input(describe(where, "items", sizes.size(), "more items than index_type can address"));
  if (capacity < std::numeric_limits<T>::max() && !sizes.empty()) {
    const T* bad = translate_thrust_errors(where, [&] {
      return thrust::find_if(policy.thrust(), sizes.begin(), sizes.end(), exceeds<T>{capacity});
    });
    if (bad != sizes.end()) {
      T value{};
      copy_to_host(policy, bad, 1, &value);
      throw infeasible(describe(where, "sizes", static_cast<std::size_t>(bad - sizes.begin()), static_cast<std::uint64_t>(value),
                                "exceeds the bin capacity (use oversize::truncate or own_bin via pack())"));
    }
  }
  device_packing out;
  out.algorithm = algorithm;
  if (sizes.empty()) {
    out.proven_optimal = true;
    return out;
  }
  if (capacity <= std::numeric_limits<std::uint16_t>::max())
    pack_with_keys<Room, std::uint16_t>(policy, sizes, capacity, where, out);
  else if (capacity <= std::numeric_limits<std::uint32_t>::max())
    pack_with_keys<Room, std::uint32_t>(policy, sizes, capacity, where, out);
  else
    pack_with_keys<Room, std::uint64_t>(policy, sizes, capacity, where, out);
  return out;
}

}  // namespace detail
}  // namespace fulcrum::cuda
