// SPDX-License-Identifier: Apache-2.0
/// @file cuda/detail/batched_launch.cuh
/// The launch and staging code shared by the batched balancers (cuda/lpt.cuh,
/// cuda/karmarkar_karp.cuh): offsets validation, the staged per-problem order (device offsets +
/// items by (problem, cost descending, index)), and the front doors' bodies for one problem, a
/// batch given by offsets and a batch of equal-sized problems. A solver is passed as
/// `into(policy, costs, offsets, k, part_of, loads, makespan, lower_bound, where)` writing into
/// device arrays.
#pragma once

#include "fulcrum/cuda/detail/check.cuh"  // first: configuration (nvcc / host backend) before Thrust

#include <thrust/device_vector.h>

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/cuda/cost.cuh"
#include "fulcrum/cuda/detail/runtime.cuh"
#include "fulcrum/cuda/detail/sort.cuh"
#include "fulcrum/cuda/policy.cuh"

namespace fulcrum::cuda::detail {

/// Throws invalid_input unless offsets are problems+1 non-decreasing entries from 0 to n.
inline void require_offsets(std::string_view where, std::span<const std::size_t> offsets, std::size_t n) {
  if (offsets.empty())
    throw invalid_input(fulcrum::detail::describe(where, "offsets.size()", 0, "need problems+1 offsets"));
  if (offsets.front() != 0)
    throw invalid_input(fulcrum::detail::describe(where, "offsets", 0, offsets.front(), "must be 0"));
  for (std::size_t p = 1; p < offsets.size(); ++p)
    if (offsets[p] < offsets[p - 1])
      throw invalid_input(
          fulcrum::detail::describe(where, "offsets", p, offsets[p], "is smaller than the previous offset"));
  if (offsets.back() != n)
    throw invalid_input(fulcrum::detail::describe(where, "offsets", offsets.size() - 1, offsets.back(),
                                                  "last offset must equal the number of costs"));
}

/// The problems staged on the device: their offsets, and every item ordered by (problem, cost
/// descending, index), the order both LPT and Karmarkar-Karp start from.
struct staged_problems {
  std::size_t problems;
  buffer<std::size_t> offsets;
  buffer<index_type> order;

  staged_problems(const execution_policy& policy, device_span<const cost_t> costs,
                  std::span<const std::size_t> host_offsets, std::string_view where)
      : problems(host_offsets.size() - 1), offsets(policy, host_offsets.size()), order(policy, costs.size()) {
    copy_to_device(policy, host_offsets.data(), host_offsets.size(), offsets.data());
    order_by_cost_descending(policy, costs, offsets.data(), problems, order.span(), where);
  }
};

/// One problem on device costs: validates like the CPU (k == 0, NaN/infinite/negative cost),
/// runs `into` on the single problem and returns the device result.
template <class Result, class Into>
[[nodiscard]] Result solve_one(const execution_policy& policy, device_span<const cost_t> costs, std::size_t k,
                               std::string_view where, Into into) {
  fulcrum::detail::require_parts(where, k, costs.size());
  validate_costs(policy, costs, where);
  Result out;
  out.part_of.resize(costs.size());
  out.loads.resize(k);
  thrust::device_vector<cost_t> scalars(2);
  settle_default_stream(where);
  const std::size_t offsets[2] = {0, costs.size()};
  into(policy, costs, std::span<const std::size_t>(offsets), k, thrust::raw_pointer_cast(out.part_of.data()),
       thrust::raw_pointer_cast(out.loads.data()), thrust::raw_pointer_cast(scalars.data()),
       thrust::raw_pointer_cast(scalars.data()) + 1, where);
  const std::vector<cost_t> values = to_host(scalars);
  out.makespan = values[0];
  out.lower_bound = values[1];
  out.proven_optimal = out.makespan <= out.lower_bound;
  return out;
}

/// A batch given by host offsets: validates, sizes the result and runs `into` on every problem.
template <class Result, class Into>
[[nodiscard]] Result solve_batch(const execution_policy& policy, device_span<const cost_t> costs,
                                 std::span<const std::size_t> offsets, std::size_t k, std::string_view where,
                                 Into into) {
  fulcrum::detail::require_parts(where, k, costs.size());
  require_offsets(where, offsets, costs.size());
  validate_costs(policy, costs, where);
  Result out;
  out.k = k;
  out.offsets.assign(offsets.begin(), offsets.end());
  const std::size_t problems = out.problems();
  out.part_of.resize(costs.size());
  out.loads.resize(checked_mul(problems, k, "problems*k"));
  out.makespan.resize(problems);
  out.lower_bound.resize(problems);
  settle_default_stream(where);
  into(policy, costs, offsets, k, thrust::raw_pointer_cast(out.part_of.data()),
       thrust::raw_pointer_cast(out.loads.data()), thrust::raw_pointer_cast(out.makespan.data()),
       thrust::raw_pointer_cast(out.lower_bound.data()), where);
  return out;
}

/// Offsets of costs.size() / problem_size equal problems; throws invalid_input unless
/// problem_size is positive and divides n.
[[nodiscard]] inline std::vector<std::size_t> equal_offsets(std::string_view where, std::size_t n,
                                                            std::size_t problem_size) {
  if (problem_size == 0 || n % problem_size != 0)
    throw invalid_input(fulcrum::detail::describe(where, "problem_size", problem_size,
                                                  "must be positive and divide the number of costs"));
  std::vector<std::size_t> offsets(n / problem_size + 1);
  for (std::size_t p = 0; p < offsets.size(); ++p) offsets[p] = p * problem_size;
  return offsets;
}

}  // namespace fulcrum::cuda::detail
