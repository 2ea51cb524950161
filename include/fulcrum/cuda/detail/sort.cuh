// SPDX-License-Identifier: Apache-2.0
/// @file cuda/detail/sort.cuh
/// Deterministic device sorts shared by the balancing and packing backends.
///
/// order_by_cost_descending: item indices sorted by cost descending, ties by index ascending,
/// within each problem of a batch (offsets), i.e. fulcrum::detail::order_by_cost_descending per
/// problem. Non-negative doubles (validated before) order like their bit patterns as unsigned
/// 64-bit keys, so the sort is a stable radix sort (CUB, through Thrust, on the GPU); -0.0 is
/// mapped to +0.0 first, as the CPU's comparison treats them as equal. Batches are sorted by a
/// second stable sort on the problem id (the classic two-pass segmented sort).
#pragma once

#include "fulcrum/cuda/detail/check.cuh"  // first: configuration (nvcc / host backend) before Thrust

#include <thrust/binary_search.h>
#include <thrust/functional.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>
#include <thrust/transform.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "fulcrum/core/types.hpp"
#include "fulcrum/cuda/detail/runtime.cuh"
#include "fulcrum/cuda/policy.cuh"

namespace fulcrum::cuda::detail {

/// The radix key of a non-negative double: its bits, with -0.0 canonicalised to +0.0.
struct cost_key {
  FULCRUM_HD std::uint64_t operator()(cost_t c) const {
    const cost_t canonical = c + 0.0;
    std::uint64_t bits = 0;
    memcpy(&bits, &canonical, sizeof bits);
    return bits;
  }
};

/// The problem that global position i belongs to, by binary search over offsets (problems+1).
struct problem_of {
  const std::size_t* offsets;
  std::size_t problems;
  FULCRUM_HD index_type operator()(index_type i) const {
    std::size_t lo = 0, hi = problems;  // find the last p with offsets[p] <= i
    while (hi - lo > 1) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (offsets[mid] <= i) lo = mid;
      else hi = mid;
    }
    return static_cast<index_type>(lo);
  }
};

/// order[j] (global indices) sorted by (problem, cost descending, index). `device_offsets`
/// holds problems+1 offsets on the device. Scratch is allocated on the policy's stream.
inline void order_by_cost_descending(const execution_policy& policy, device_span<const cost_t> costs,
                                     const std::size_t* device_offsets, std::size_t problems, device_span<index_type> order,
                                     std::string_view where) {
  const std::size_t n = costs.size();
  if (n == 0) return;
  buffer<std::uint64_t> keys(policy, n);
  translate_thrust_errors(where, [&] {
    const auto exec = policy.thrust();
    thrust::transform(exec, costs.begin(), costs.end(), keys.data(), cost_key{});
    thrust::sequence(exec, order.begin(), order.end(), index_type{0});
    thrust::stable_sort_by_key(exec, keys.data(), keys.data() + n, order.begin(), thrust::greater<std::uint64_t>());
  });
  if (problems <= 1) return;
  buffer<index_type> problem(policy, n);
  translate_thrust_errors(where, [&] {
    const auto exec = policy.thrust();
    thrust::transform(exec, order.begin(), order.end(), problem.data(), problem_of{device_offsets, problems});
    thrust::stable_sort_by_key(exec, problem.data(), problem.data() + n, order.begin(), thrust::less<index_type>());
  });
}

}  // namespace fulcrum::cuda::detail
