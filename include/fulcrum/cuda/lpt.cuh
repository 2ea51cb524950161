// SPDX-License-Identifier: Apache-2.0
/// @file cuda/lpt.cuh
/// LPT (longest processing time first) balancing on the GPU: one large problem, or a batch of
/// many independent problems at once (e.g. every step of an epoch: 1,000 steps x 4,096 samples
/// onto 64 ranks), each bit-identical to fulcrum::lpt for that problem.
///
/// What: per problem, items sorted by cost descending (ties: lower index first), each given to
/// the currently lightest part (ties: lower part index); then the part loads are summed in item
/// index order, the makespan and the sound lower bound (balance/detail/sums.hpp) are
/// computed, exactly as the CPU.
/// How: a device-wide stable radix sort of the cost bits (CUB through Thrust) and a second stable
/// sort by problem id give every problem's LPT order; then one block per problem runs the greedy
/// with its k (load, part) pairs as a min-heap in shared memory (k <= 3072, else global memory).
/// Complexity: O(n) sort work (radix) + O(n log k) greedy per problem; batches run in parallel,
/// a single problem's greedy is sequential (each choice depends on all earlier ones), so the GPU
/// pays off for batches and for keeping data on the device.
/// Guarantee: makespan <= (4/3 - 1/(3k)) OPT (Graham); results equal fulcrum::lpt bit for bit.
#pragma once

#include "fulcrum/cuda/detail/check.cuh"  // first: configuration (nvcc / host backend) before Thrust

#include <thrust/copy.h>
#include <thrust/device_vector.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "fulcrum/balance/detail/sums.hpp"
#include "fulcrum/balance/lpt.hpp"
#include "fulcrum/balance/partition.hpp"
#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/cuda/cost.cuh"
#include "fulcrum/cuda/detail/batched_launch.cuh"
#include "fulcrum/cuda/detail/runtime.cuh"
#include "fulcrum/cuda/detail/sort.cuh"
#include "fulcrum/cuda/policy.cuh"

namespace fulcrum::cuda {

/// A partition whose per-item assignment and part loads stay on the device.
struct device_partition {
  thrust::device_vector<index_type> part_of;  ///< n: part of item i
  thrust::device_vector<cost_t> loads;        ///< k: cost of each part, summed in item index order
  cost_t makespan = 0;                        ///< max load
  cost_t lower_bound = 0;                     ///< detail::sound_makespan_lower_bound(costs, k)
  bool proven_optimal = false;                ///< makespan <= lower_bound

  /// (makespan - lower_bound) / lower_bound: 0 when proven optimal (as fulcrum::partition::gap).
  [[nodiscard]] double gap() const noexcept { return result_gap(makespan, lower_bound, proven_optimal); }
  /// The same fulcrum::partition the CPU algorithm returns (copies to the host).
  [[nodiscard]] partition to_host() const {
    const std::vector<index_type> assignment = detail::to_host(part_of);
    partition p;
    p.parts = grouping::from_assignment(assignment, loads.size());
    p.loads = detail::to_host(loads);
    p.makespan = makespan;
    p.lower_bound = lower_bound;
    p.proven_optimal = proven_optimal;
    return p;
  }
};

/// Many independent partitions (problem p covers items offsets[p] .. offsets[p+1]), on the device.
struct batched_partition {
  std::size_t k = 0;                           ///< parts per problem
  std::vector<std::size_t> offsets{0};         ///< problems+1 item offsets (host copy)
  thrust::device_vector<index_type> part_of;   ///< n: part (0..k-1) of item i within its problem
  thrust::device_vector<cost_t> loads;         ///< problems*k: load of part q of problem p at p*k+q
  thrust::device_vector<cost_t> makespan;      ///< problems
  thrust::device_vector<cost_t> lower_bound;   ///< problems

  [[nodiscard]] std::size_t problems() const noexcept { return offsets.size() - 1; }

  /// Problem p as the fulcrum::partition the CPU returns for that problem alone (item indices
  /// local to the problem, 0 .. offsets[p+1]-offsets[p]-1).
  [[nodiscard]] partition to_host(std::size_t p) const {
    if (p >= problems()) throw invalid_input(fulcrum::detail::describe("batched_partition::to_host", "problem", p, "is out of range"));
    const std::vector<index_type> assignment = detail::to_host(part_of, offsets[p], offsets[p + 1] - offsets[p]);
    partition out;
    out.parts = grouping::from_assignment(assignment, k);
    out.loads = detail::to_host(loads, p * k, k);
    out.makespan = detail::to_host(makespan, p, 1)[0];
    out.lower_bound = detail::to_host(lower_bound, p, 1)[0];
    out.proven_optimal = out.makespan <= out.lower_bound;
    return out;
  }
};

namespace detail {

/// A part in the greedy's min-heap, ordered by (load, part).
struct load_entry {
  cost_t load;
  index_type part;
};

FULCRUM_HD inline bool lighter(const load_entry& a, const load_entry& b) {
  return a.load < b.load || (a.load == b.load && a.part < b.part);
}

/// Restores the min-heap property below position `at` (heap of size k).
FULCRUM_HD inline void sift_down(load_entry* heap, std::size_t k, std::size_t at) {
  const load_entry moving = heap[at];
  while (true) {
    std::size_t child = 2 * at + 1;
    if (child >= k) break;
    if (child + 1 < k && lighter(heap[child + 1], heap[child])) ++child;
    if (!lighter(heap[child], moving)) break;
    heap[at] = heap[child];
    at = child;
  }
  heap[at] = moving;
}

/// std::max(a, b) for doubles, with its exact tie semantics (returns a unless a < b).
FULCRUM_HD inline cost_t max_of(cost_t a, cost_t b) { return a < b ? b : a; }

/// fulcrum::detail::make_partition + detail::sound_makespan_lower_bound for one problem of a
/// batch: part loads summed in item index order, the makespan, and the sound bound
/// max(sum/k, max, c_k + c_(k+1)) of balance/detail/sums.hpp, sum in index order, sum/k shrunk
/// by its rounding margin unless every sum is exact (order[] gives the items by cost descending).
FULCRUM_HD inline void summarize_problem(const cost_t* costs, const index_type* order, std::size_t begin, std::size_t end,
                                         std::size_t k, const index_type* part_of, cost_t* load, cost_t* makespan,
                                         cost_t* lower_bound) {
  const std::size_t n = end - begin;
  for (std::size_t q = 0; q < k; ++q) load[q] = 0;
  cost_t sum = 0, largest = 0;
  fulcrum::detail::exact_sums_check exact;
  for (std::size_t i = begin; i < end; ++i) {
    const cost_t c = costs[i];
    load[part_of[i]] += c;
    sum += c;
    largest = max_of(largest, c);
    exact.add(c);
  }
  cost_t worst = load[0];
  for (std::size_t q = 1; q < k; ++q)
    if (worst < load[q]) worst = load[q];
  *makespan = worst;
  const cost_t pair = n > k && k > 1 ? costs[order[begin + k - 1]] + costs[order[begin + k]] : cost_t{0};
  *lower_bound = fulcrum::detail::sound_makespan_bound(sum, largest, pair, n, k, exact.exact(sum));
}

/// The LPT greedy, loads, makespan and lower bound of problem p (one thread).
struct lpt_problem {
  const cost_t* costs;         // global item costs
  const index_type* order;     // global indices, per problem by cost descending
  const std::size_t* offsets;  // problems+1
  std::size_t k;
  index_type* part_of;   // global item -> part within its problem
  cost_t* loads;         // problems*k
  cost_t* makespan;      // problems
  cost_t* lower_bound;   // problems
  load_entry* scratch;   // problems*k (used when no shared memory was granted)

  FULCRUM_HD void operator()(std::size_t p, void* shared) const {
    const std::size_t begin = offsets[p], end = offsets[p + 1];
    load_entry* heap = shared != nullptr ? static_cast<load_entry*>(shared) : scratch + p * k;
    for (std::size_t q = 0; q < k; ++q) heap[q] = load_entry{0.0, static_cast<index_type>(q)};  // a valid heap
    for (std::size_t j = begin; j < end; ++j) {
      const index_type i = order[j];
      part_of[i] = heap[0].part;
      heap[0].load = heap[0].load + costs[i];
      sift_down(heap, k, 0);
    }
    summarize_problem(costs, order, begin, end, k, part_of, loads + p * k, makespan + p, lower_bound + p);
  }
};

/// The batched LPT into caller-provided device arrays (see batched_lpt).
inline void batched_lpt_into(const execution_policy& policy, device_span<const cost_t> costs,
                             std::span<const std::size_t> offsets, std::size_t k, index_type* part_of, cost_t* loads,
                             cost_t* makespan, cost_t* lower_bound, std::string_view where) {
  const staged_problems staged(policy, costs, offsets, where);
  buffer<load_entry> scratch(policy, staged.problems * k);
  const lpt_problem solve{costs.data(), staged.order.data(), staged.offsets.data(), k, part_of, loads,
                          makespan,     lower_bound,         scratch.data()};
  for_each_problem(policy, staged.problems, k * sizeof(load_entry), solve, "fulcrum::cuda::lpt");
  policy.synchronize(where);
}

}  // namespace detail

/// LPT of one problem on device costs; bit-identical to fulcrum::lpt(costs, k).
/// Throws invalid_input like the CPU (k == 0, NaN/infinite/negative cost: same messages).
[[nodiscard]] inline device_partition lpt(const execution_policy& policy, device_span<const cost_t> costs, std::size_t k) {
  return detail::solve_one<device_partition>(policy, costs, k, "lpt", detail::batched_lpt_into);
}

/// Batched LPT: problem p is costs[offsets[p] .. offsets[p+1]) onto k parts; every problem's
/// result equals fulcrum::lpt on that slice. `offsets` (host memory) has problems+1 entries,
/// starts at 0, is non-decreasing and ends at costs.size(); at most 2^32-1 items in all.
[[nodiscard]] inline batched_partition batched_lpt(const execution_policy& policy, device_span<const cost_t> costs,
                                                   std::span<const std::size_t> offsets, std::size_t k) {
  return detail::solve_batch<batched_partition>(policy, costs, offsets, k, "batched_lpt", detail::batched_lpt_into);
}

/// Batched LPT over equal-sized problems: costs.size() / problem_size problems of problem_size
/// items each (costs.size() must be a multiple of problem_size).
[[nodiscard]] inline batched_partition batched_lpt(const execution_policy& policy, device_span<const cost_t> costs,
                                                   std::size_t problem_size, std::size_t k) {
  const auto offsets = detail::equal_offsets("batched_lpt", costs.size(), problem_size);
  return batched_lpt(policy, costs, std::span<const std::size_t>(offsets), k);
}

}  // namespace fulcrum::cuda
