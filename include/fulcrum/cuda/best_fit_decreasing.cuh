// SPDX-License-Identifier: Apache-2.0
/// @file cuda/best_fit_decreasing.cuh
/// Best-fit decreasing of device-resident sizes: the same bins as fulcrum::best_fit_decreasing
/// (packing/best_fit_decreasing.hpp), bit for bit.
///
/// What: items by size descending (ties: lower index first), each into the fullest bin that fits,
/// among equally full bins the lowest-numbered one, else a new bin. Bins in opening order, items
/// of a bin in increasing index order, loads, L2 lower bound.
/// How: BFD's sequential dependency is broken by working on the size histogram: a bin visited
/// by size class s takes floor(room / s) items at once and equally full bins are visited in index
/// order, so the pass costs O(distinct sizes + bin segments) on the host while the sort (CUB
/// radix), histogram, expansion, CSR and loads run on the device (detail/pack_device.cuh).
/// Guarantee: BFD <= 11/9 OPT + 6/9. Errors as the CPU (capacity 0, oversize item).
#pragma once

#include "fulcrum/cuda/detail/check.cuh"  // first: configuration (nvcc / host backend) before Thrust

#include <concepts>
#include <cstdint>

#include "fulcrum/cuda/detail/pack_device.cuh"
#include "fulcrum/cuda/policy.cuh"

namespace fulcrum::cuda {

/// Best-fit decreasing of `sizes` (unsigned integers in device memory) into bins of `capacity`.
template <std::unsigned_integral T>
[[nodiscard]] device_packing best_fit_decreasing(const execution_policy& policy, device_span<const T> sizes,
                                                 std::uint64_t capacity) {
  return detail::pack_on_device<detail::lowest_index_room>(policy, sizes, capacity, "best_fit_decreasing",
                                                           pack_algorithm::best_fit_decreasing);
}

template <std::unsigned_integral T, class A>
[[nodiscard]] device_packing best_fit_decreasing(const execution_policy& policy,
                                                 const thrust::device_vector<T, A>& sizes, std::uint64_t capacity) {
  return best_fit_decreasing(policy, device_span<const T>(sizes), capacity);
}

}  // namespace fulcrum::cuda
