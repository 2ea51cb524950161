// SPDX-License-Identifier: Apache-2.0
/// @file cuda/histogram.cuh
/// Histogram packing of device-resident sizes: the same bins as fulcrum::histogram_pack
/// (packing/histogram.hpp), bit for bit.
///
/// What: best-fit decreasing on the size histogram; among open bins with the same least room
/// >= s, the one that entered that room most recently (LIFO), exactly the CPU's rule 2. Bins in
/// opening order, items of a bin in increasing index order, loads, L2 lower bound.
/// How (see detail/pack_device.cuh): CUB radix sort of the sizes (16-bit keys when capacity <
/// 65536), run-length encoding into the histogram, best fit on the histogram in bulk on the host
/// (O(distinct sizes + bin segments), not O(n)), then parallel expansion, CSR and loads on the
/// device. Complexity: O(n) device work + O(C log C)-ish host work on the histogram.
/// Guarantee: BFD's bin count (11/9 OPT + 6/9). Errors as the CPU: capacity 0 -> invalid_input,
/// a size above the capacity -> infeasible naming the first such item.
#pragma once

#include "fulcrum/cuda/detail/check.cuh"  // first: configuration (nvcc / host backend) before Thrust

#include <concepts>
#include <cstdint>

#include "fulcrum/cuda/detail/pack_device.cuh"
#include "fulcrum/cuda/policy.cuh"

namespace fulcrum::cuda {

/// Histogram packing of `sizes` (unsigned integers in device memory) into bins of `capacity`.
template <std::unsigned_integral T>
[[nodiscard]] device_packing histogram_pack(const execution_policy& policy, device_span<const T> sizes,
                                            std::uint64_t capacity) {
  return detail::pack_on_device<detail::lifo_room>(policy, sizes, capacity, "histogram_pack", pack_algorithm::histogram);
}

template <std::unsigned_integral T, class A>
[[nodiscard]] device_packing histogram_pack(const execution_policy& policy, const thrust::device_vector<T, A>& sizes,
                                            std::uint64_t capacity) {
  return histogram_pack(policy, device_span<const T>(sizes), capacity);
}

}  // namespace fulcrum::cuda
