// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/profile.hpp
/// A measured layer of a model, as the pipeline planners see it: forward and backward time of
/// one micro-batch, the memory its parameters, gradients and optimizer state take on the device
/// ("static" memory, independent of the micro-batch count) and the activation memory one
/// micro-batch keeps for the backward pass when nothing is recomputed.
#pragma once

#include <cstdint>

namespace fulcrum {

struct pipeline_layer {
  double forward = 0;                   ///< forward time of one micro-batch
  double backward = 0;                  ///< backward time of one micro-batch (without recompute)
  std::uint64_t parameter_memory = 0;   ///< parameters + gradients + optimizer state (any integer unit)
  std::uint64_t activation_memory = 0;  ///< activations kept per micro-batch without recompute (same unit)

  /// forward + backward: the layer's cost for `partition_stages` (pass `&pipeline_layer::time` as projection).
  [[nodiscard]] double time() const noexcept { return forward + backward; }
};

}  // namespace fulcrum
