// SPDX-License-Identifier: Apache-2.0
/// @file recompute/detail/select_impl.hpp
/// Definition of select_recompute()'s worker (declared in recompute/select.hpp): included by
/// select.hpp in header-only mode, compiled once into fulcrum::compiled otherwise (src/pipeline.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/recompute/branch_and_bound.hpp"
#include "fulcrum/recompute/detail/instance.hpp"
#include "fulcrum/recompute/frontier_dp.hpp"
#include "fulcrum/recompute/greedy.hpp"
#include "fulcrum/recompute/plan.hpp"
#include "fulcrum/recompute/select.hpp"

namespace fulcrum {

namespace detail {
template <class = void>
inline recompute_plan select_recompute(const recompute_instance& in, const recompute_options& opts) {
  switch (opts.algorithm) {
    case recompute_algorithm::greedy:
      return greedy_recompute(in).plan;
    case recompute_algorithm::branch_and_bound:
      return recompute_bnb(in, opts.limits).solve();
    case recompute_algorithm::dynamic_programming:
      if (auto p = frontier_dp_recompute(in, opts.limits.nodes)) return *p;
      return greedy_recompute(in).plan;
    case recompute_algorithm::automatic:
      break;
  }
  if (auto p = frontier_dp_recompute(in, opts.limits.nodes)) return *p;
  return recompute_bnb(in, opts.limits).solve();
}

FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER recompute_plan select_recompute_layers(const std::vector<std::vector<recompute_option>>& layers,
                                                      std::uint64_t memory_budget, const recompute_options& opts) {
  const auto in = make_recompute_instance("select_recompute", layers, memory_budget);
  return select_recompute(in, opts);
}

}  // namespace detail

}  // namespace fulcrum
