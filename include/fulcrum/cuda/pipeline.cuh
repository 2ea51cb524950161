// SPDX-License-Identifier: Apache-2.0
/// @file cuda/pipeline.cuh
/// Evaluation of many candidate pipeline partitions in parallel (for searches that score
/// thousands of boundary vectors at once: random restarts, neighbourhoods, schedule sweeps).
///
/// What: candidate c is a boundary vector b = boundaries[c*(p+1) .. c*(p+1)+p] with
/// 0 = b[0] < b[1] < ... < b[p] = n (stage s holds layers [b[s], b[s+1]), never empty). Its stage
/// costs are `fixed[s] + (prefix[b[s+1]] - prefix[b[s]]) / speed[s]` and its bottleneck is the
/// largest one, taken left to right with std::max's tie rule: the formula and order of
/// fulcrum/pipeline (stage_partition.hpp), so the doubles equal the CPU's bit for bit.
/// `prefix` holds n+1 plain prefix sums of the layer costs (prefix[0] = 0), as the CPU builds
/// them; speed and fixed may be empty (1.0 and 0.0 for every stage).
/// Complexity: O(m p) work, one thread per candidate; O(1) extra memory.
/// Errors: invalid_input naming the first bad boundary (boundaries[c*(p+1)+s] = v: reason) or a
/// size mismatch; nothing is returned then.
#pragma once

#include "fulcrum/cuda/detail/check.cuh"  // first: configuration (nvcc / host backend) before Thrust

#include <thrust/device_vector.h>
#include <thrust/extrema.h>
#include <thrust/find.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cstddef>
#include <string_view>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/cuda/detail/runtime.cuh"
#include "fulcrum/cuda/policy.cuh"

namespace fulcrum::cuda {

namespace detail {
struct candidate_view {
  const cost_t* prefix;
  std::size_t n;
  const index_type* boundaries;
  std::size_t stages;
  const cost_t* speed;  // nullptr: 1.0
  const cost_t* fixed;  // nullptr: 0.0

  /// Position (within the candidate) of its first bad boundary, or stages+1 if it is valid.
  FULCRUM_HD std::size_t first_bad(std::size_t c) const {
    const index_type* b = boundaries + c * (stages + 1);
    if (b[0] != 0) return 0;
    for (std::size_t s = 1; s <= stages; ++s)
      if (b[s] <= b[s - 1] || b[s] > n) return s;
    if (b[stages] != n) return stages;
    return stages + 1;
  }

  FULCRUM_HD cost_t bottleneck(std::size_t c) const {
    const index_type* b = boundaries + c * (stages + 1);
    cost_t worst = 0;
    for (std::size_t s = 0; s < stages; ++s) {
      const cost_t f = fixed != nullptr ? fixed[s] : 0.0;
      const cost_t v = speed != nullptr ? speed[s] : 1.0;
      const cost_t stage = f + (prefix[b[s + 1]] - prefix[b[s]]) / v;
      worst = s == 0 ? stage : (worst < stage ? stage : worst);
    }
    return worst;
  }
};

struct is_bad_candidate {
  candidate_view view;
  FULCRUM_HD bool operator()(std::size_t c) const { return view.first_bad(c) <= view.stages; }
};

struct write_bottleneck {
  candidate_view view;
  cost_t* out;
  FULCRUM_HD void operator()(std::size_t c) const { out[c] = view.bottleneck(c); }
};
}  // namespace detail

/// Writes the bottleneck of every candidate boundary vector into `bottleneck` (one per
/// candidate; boundaries.size() must be bottleneck.size() * (stages + 1)). See file docs.
inline void evaluate_partitions(const execution_policy& policy, device_span<const cost_t> prefix,
                                device_span<const index_type> boundaries, std::size_t stages,
                                device_span<cost_t> bottleneck, device_span<const cost_t> speed = {},
                                device_span<const cost_t> fixed = {}) {
  constexpr std::string_view where = "evaluate_partitions";
  using fulcrum::detail::describe;
  if (stages == 0) throw invalid_input(describe(where, "stages", stages, "need at least one stage"));
  if (prefix.empty()) throw invalid_input(describe(where, "prefix.size()", 0, "need n+1 prefix sums"));
  if (boundaries.size() != bottleneck.size() * (stages + 1))
    throw invalid_input(describe(where, "boundaries.size()", boundaries.size(), "must be candidates * (stages + 1)"));
  if (!speed.empty() && speed.size() != stages)
    throw invalid_input(describe(where, "speed.size()", speed.size(), "must be empty or equal the number of stages"));
  if (!fixed.empty() && fixed.size() != stages)
    throw invalid_input(describe(where, "fixed.size()", fixed.size(), "must be empty or equal the number of stages"));
  const std::size_t candidates = bottleneck.size();
  if (candidates == 0) return;
  const detail::candidate_view view{prefix.data(),  prefix.size() - 1,
                                    boundaries.data(), stages,
                                    speed.empty() ? nullptr : speed.data(), fixed.empty() ? nullptr : fixed.data()};
  const thrust::counting_iterator<std::size_t> first(0), last(candidates);
  const auto bad = detail::translate_thrust_errors(where, [&] {
    return thrust::find_if(policy.thrust(), first, last, detail::is_bad_candidate{view});
  });
  if (bad != last) {
    const std::size_t c = *bad;
    const auto host = detail::to_host(policy, boundaries.subspan(c * (stages + 1), stages + 1));
    std::size_t s = 0;
    const char* reason = "the first boundary must be 0";
    if (host[0] == 0) {
      for (s = 1; s <= stages; ++s) {
        if (host[s] <= host[s - 1]) {
          reason = "must be greater than the previous boundary (no empty stage)";
          break;
        }
        if (host[s] > view.n) {
          reason = "exceeds the number of layers";
          break;
        }
      }
      if (s > stages) {
        s = stages;
        reason = "the last boundary must equal the number of layers";
      }
    }
    throw invalid_input(describe(where, "boundaries", c * (stages + 1) + s, host[s], reason));
  }
  detail::translate_thrust_errors(where, [&] {
    thrust::for_each(policy.thrust(), first, last, detail::write_bottleneck{view, bottleneck.data()});
  });
  policy.synchronize(where);
}

/// Returns the bottleneck of every candidate in a new device vector (see above).
[[nodiscard]] inline thrust::device_vector<cost_t> evaluate_partitions(const execution_policy& policy,
                                                                       device_span<const cost_t> prefix,
                                                                       device_span<const index_type> boundaries,
                                                                       std::size_t stages,
                                                                       device_span<const cost_t> speed = {},
                                                                       device_span<const cost_t> fixed = {}) {
  thrust::device_vector<cost_t> out(stages == 0 ? 0 : boundaries.size() / (stages + 1));
  detail::settle_default_stream("evaluate_partitions");
  evaluate_partitions(policy, prefix, boundaries, stages, device_span<cost_t>(out), speed, fixed);
  return out;
}

/// Index of the best candidate: the smallest bottleneck, ties to the lowest index.
/// Throws invalid_input when there are no candidates.
[[nodiscard]] inline std::size_t best_candidate(const execution_policy& policy, device_span<const cost_t> bottleneck) {
  if (bottleneck.empty())
    throw invalid_input(fulcrum::detail::describe("best_candidate", "candidates", 0, "need at least one candidate"));
  const cost_t* best = detail::translate_thrust_errors("best_candidate", [&] {
    return thrust::min_element(policy.thrust(), bottleneck.begin(), bottleneck.end());
  });
  return static_cast<std::size_t>(best - bottleneck.begin());
}

}  // namespace fulcrum::cuda
