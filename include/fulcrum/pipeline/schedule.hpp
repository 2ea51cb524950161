// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/schedule.hpp
/// A pipeline schedule simulator: GPipe, 1F1B (PipeDream-flush, Megatron's default) and
/// interleaved 1F1B (Megatron's virtual pipeline, v model chunks per device).
///
/// What: every device runs its forward (F) and backward (B) operations in the fixed order of the
/// schedule; an operation starts as soon as its device is free and its inputs have arrived
/// (F of micro-batch i on virtual stage q needs F(q-1, i) plus one point-to-point transfer;
/// B(q, i) needs B(q+1, i) plus a transfer, and F(q, i)). The result is the iteration time, the
/// bubble fraction (idle share of device time), and per device the peak number of micro-batch
/// activations held (F done, B not yet) and, when given, the peak activation memory.
/// Stage times may differ per stage (heterogeneous partitions, recompute added to B).
/// Complexity: O(m v p) operations, each scheduled once; O(m v p) memory.
/// Closed forms it reproduces on uniform stages with no transfer time (tested):
///   1F1B and GPipe: (m + p - 1)(f + b);  interleaved: (m + (p - 1) / v)(f + b) when m % p == 0,
///   where f, b are a device's whole forward / backward time (each chunk f/v, b/v).
/// Peak in-flight micro-batches on device d: GPipe m, 1F1B min(m, p - d).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum {

enum class pipeline_schedule {
  gpipe,             ///< all forwards, then all backwards
  one_f_one_b,       ///< warm-up of p - d - 1 forwards, then alternate F and B, then cool-down
  interleaved_1f1b,  ///< Megatron's interleaved schedule over v model chunks per device
};

/// Names of pipeline_schedule in declaration order (core/enum_names.hpp: to_string, parse_enum).
[[nodiscard]] constexpr enum_names_table<pipeline_schedule, 3> enum_table(pipeline_schedule) noexcept {
  return {"pipeline_schedule", {"gpipe", "one_f_one_b", "interleaved_1f1b"}};
}

struct schedule_options {
  pipeline_schedule kind = pipeline_schedule::one_f_one_b;
  std::size_t micro_batches = 1;       ///< m
  std::size_t virtual_stages = 1;      ///< v: model chunks per device (interleaved only; else 1)
  double p2p_time = 0;                 ///< time of one point-to-point transfer between devices
  std::vector<double> activation_memory;  ///< optional, per virtual stage: activation of one micro-batch
  bool record_timeline = false;        ///< fill schedule_result::timeline
};

/// One scheduled operation (timeline entry).
struct scheduled_op {
  bool forward = true;
  std::size_t micro_batch = 0;
  std::size_t virtual_stage = 0;
  double start = 0, end = 0;
};

struct schedule_result {
  double iteration_time = 0;                 ///< end of the last operation
  double bubble_fraction = 0;                ///< 1 - busy / (devices * iteration_time)
  std::vector<double> busy_time;             ///< per device: sum of its operation times
  std::vector<std::size_t> peak_in_flight;   ///< per device: most micro-batch activations held at once
  std::vector<double> peak_activation_memory;  ///< per device (empty unless activation_memory given)
  std::vector<std::vector<scheduled_op>> timeline;  ///< per device, in order (if record_timeline)
};

/// Simulates one training iteration. `forward[q]`, `backward[q]`: time of one micro-batch on
/// virtual stage q (q = chunk * devices + device; for GPipe / 1F1B simply the stage). The number
/// of devices is forward.size() / virtual_stages.
/// Errors (invalid_input, naming field and value): sizes differ or are 0, negative / NaN times,
/// m == 0, v == 0, v > 1 without the interleaved schedule, interleaved with m % devices != 0.
FULCRUM_WORKER_TEMPLATE
[[nodiscard]] FULCRUM_WORKER schedule_result simulate_schedule(std::span<const double> forward, std::span<const double> backward,
                                                       const schedule_options& opts);

}  // namespace fulcrum

#if !defined(FULCRUM_COMPILED)
#include "fulcrum/pipeline/detail/schedule_impl.hpp"
#endif
