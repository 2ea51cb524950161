// SPDX-License-Identifier: Apache-2.0
/// @file recompute/budget.hpp
/// Per-stage activation budgets of a 1F1B pipeline.
///
/// In 1F1B, stage s (0-based) of p holds the activations of min(m, p - s) micro-batches at its
/// peak (its warm-up forwards plus one); GPipe holds all m. What is left of the device memory
/// after parameters, gradients and optimizer state ("static memory") is shared by them, so the
/// activation memory a stage may keep per micro-batch is
///     floor((device_memory - static_memory) / in_flight).
/// O(1). Errors: static memory above the device memory -> infeasible naming the stage.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fulcrum/core/error.hpp"
#include "fulcrum/pipeline/schedule.hpp"

namespace fulcrum {

/// Micro-batches whose activations stage `stage` of `stages` holds at its peak.
[[nodiscard]] inline std::size_t in_flight_micro_batches(std::size_t stage, std::size_t stages, std::size_t micro_batches,
                                                         pipeline_schedule kind = pipeline_schedule::one_f_one_b) {
  if (stage >= stages) throw invalid_input(detail::describe("in_flight_micro_batches", "stage", stage, "must be below stages"));
  if (micro_batches == 0) throw invalid_input(detail::describe("in_flight_micro_batches", "micro_batches", micro_batches, "must be positive"));
  if (kind == pipeline_schedule::gpipe) return micro_batches;
  if (kind == pipeline_schedule::interleaved_1f1b)
    throw invalid_input(detail::describe("in_flight_micro_batches", "kind", std::string("interleaved_1f1b"),
                                         "depends on the chunk layout; use simulate_schedule's peak_in_flight"));
  return std::min(micro_batches, stages - stage);
}

/// Activation memory stage `stage` may keep per micro-batch (see file docs).
[[nodiscard]] inline std::uint64_t stage_activation_budget(std::uint64_t device_memory, std::uint64_t static_memory,
                                                           std::size_t stage, std::size_t stages, std::size_t micro_batches,
                                                           pipeline_schedule kind = pipeline_schedule::one_f_one_b) {
  const std::size_t k = in_flight_micro_batches(stage, stages, micro_batches, kind);
  if (static_memory > device_memory)
    throw infeasible(detail::describe("stage_activation_budget", "static_memory", stage, static_memory,
                                      "parameters and optimizer state of this stage exceed the device memory (" +
                                          std::to_string(device_memory) + ")"));
  return (device_memory - static_memory) / k;
}

}  // namespace fulcrum
