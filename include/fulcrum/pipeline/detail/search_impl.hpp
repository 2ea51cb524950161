// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/detail/search_impl.hpp
/// The balanced search (`detail::balanced_search`, also used by recompute/joint.hpp) and the
/// definition of `search_partition(layers, opts)` declared in pipeline/search.hpp: included by
/// search.hpp in header-only mode, compiled once into fulcrum::compiled otherwise (src/pipeline.cpp).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/pipeline/detail/stage_search.hpp"
#include "fulcrum/pipeline/partition.hpp"
#include "fulcrum/pipeline/plan.hpp"
#include "fulcrum/pipeline/profile.hpp"
#include "fulcrum/pipeline/search.hpp"

namespace fulcrum {

namespace detail {
/// The balanced search over any inner model (the recompute overload uses it too).
template <class Inner>
[[nodiscard]] pipeline_plan balanced_search(std::string_view where, std::vector<pipeline_layer> layers, Inner inner,
                                            const pipeline_search_options& opts) {
  validate_search_options(where, opts, layers.size());
  const auto best = partition_stages(layers, opts.stages, {}, &pipeline_layer::time);
  const double cap =
      best.bottleneck * (1.0 + opts.bottleneck_tolerance) * (1.0 + 1e-12);  // no addition: no contraction
  stage_search_engine<Inner> engine(where, std::move(layers), std::move(inner), opts, cap);
  try {
    return engine.solve();
  } catch (const infeasible&) {
    throw infeasible(describe(where, "bottleneck_tolerance", opts.bottleneck_tolerance,
                              "no partition within this tolerance of the optimal bottleneck fits device_memory = " +
                                  std::to_string(opts.device_memory) + " (raise the tolerance or the memory)"));
  }
}
}  // namespace detail

/// OmniBal-style search without recompute: every layer keeps its activation_memory (see file docs).
FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER pipeline_plan search_partition(std::span<const pipeline_layer> layers,
                                              const pipeline_search_options& opts) {
  constexpr std::string_view where = "search_partition";
  auto in = detail::validated_layers(where, layers);
  detail::keep_all_activations inner(in);
  // the engine keeps its own copy of the layers: the inner model reads `in`, which outlives it
  return detail::balanced_search(where, in, inner, opts);
}

}  // namespace fulcrum
