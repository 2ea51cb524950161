// SPDX-License-Identifier: Apache-2.0
/// @file recompute/detail/joint_impl.hpp
/// Definitions of the joint partition + recompute workers declared in recompute/joint.hpp:
/// included by joint.hpp in header-only mode, compiled once into fulcrum::compiled otherwise
/// (src/pipeline.cpp).
#pragma once

#include <cstddef>
#include <limits>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/pipeline/detail/search_impl.hpp"
#include "fulcrum/pipeline/detail/stage_search.hpp"
#include "fulcrum/pipeline/plan.hpp"
#include "fulcrum/pipeline/profile.hpp"
#include "fulcrum/recompute/concepts.hpp"
#include "fulcrum/recompute/detail/joint_engine.hpp"
#include "fulcrum/recompute/joint.hpp"

namespace fulcrum::detail {

/// The validated layers and the least-recompute inner model: what every joint front door starts from.
struct joint_input {
  std::vector<pipeline_layer> layers;
  least_recompute inner;
};

template <class = void>
inline joint_input make_joint_input(std::string_view where, std::span<const pipeline_layer> layers,
                                    const std::vector<std::vector<recompute_option>>& layer_options) {
  auto in = validated_layers(where, layers);
  least_recompute inner(joint_options(where, layer_options, in.size()));
  return {std::move(in), std::move(inner)};
}

/// Joint search (see file docs): the least simulated iteration time over all partitions and
/// recompute choices.
FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER pipeline_plan joint_partition_recompute_layers(
    std::span<const pipeline_layer> layers, const std::vector<std::vector<recompute_option>>& layer_options,
    const pipeline_search_options& opts) {
  constexpr std::string_view where = "joint_partition_recompute";
  auto [in, inner] = make_joint_input(where, layers, layer_options);
  validate_search_options(where, opts, in.size());
  stage_search_engine<least_recompute> engine(where, std::move(in), std::move(inner), opts,
                                              std::numeric_limits<double>::infinity());
  return engine.solve();
}

/// OmniBal-style balanced search with per-layer recompute options (see file docs).
FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER pipeline_plan search_partition_layers(std::span<const pipeline_layer> layers,
                                                     const std::vector<std::vector<recompute_option>>& layer_options,
                                                     const pipeline_search_options& opts) {
  constexpr std::string_view where = "search_partition";
  auto [in, inner] = make_joint_input(where, layers, layer_options);
  return balanced_search(where, std::move(in), std::move(inner), opts);
}

/// A given partition (boundaries: p + 1 entries from 0 to n, increasing), each stage with its
/// least recompute, simulated. Throws infeasible naming a stage that cannot fit.
FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER pipeline_plan evaluate_pipeline_layers(std::span<const pipeline_layer> layers,
                                                      const std::vector<std::vector<recompute_option>>& layer_options,
                                                      std::span<const std::size_t> boundaries,
                                                      pipeline_search_options opts) {
  constexpr std::string_view where = "evaluate_pipeline";
  auto [in, inner] = make_joint_input(where, layers, layer_options);
  if (boundaries.size() < 2)
    throw invalid_input(describe(where, "boundaries.size()", boundaries.size(), "need at least 2"));
  opts.stages = boundaries.size() - 1;
  validate_search_options(where, opts, in.size());
  if (boundaries.front() != 0) throw invalid_input(describe(where, "boundaries", 0, boundaries.front(), "must be 0"));
  if (boundaries.back() != in.size())
    throw invalid_input(
        describe(where, "boundaries", boundaries.size() - 1, boundaries.back(), "must equal the number of layers"));
  for (std::size_t s = 0; s + 1 < boundaries.size(); ++s)
    if (boundaries[s + 1] <= boundaries[s])
      throw invalid_input(
          describe(where, "boundaries", s + 1, boundaries[s + 1], "stage would be empty (not increasing)"));
  stage_search_engine<least_recompute> engine(where, std::move(in), std::move(inner), opts,
                                              std::numeric_limits<double>::infinity(), false);
  return engine.evaluate(std::vector<std::size_t>(boundaries.begin(), boundaries.end()));
}

}  // namespace fulcrum::detail
