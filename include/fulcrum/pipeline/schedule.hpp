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

namespace detail {

struct sim_op {
  bool forward;
  std::size_t mb, q;
};

/// Operation order of device d (virtual stages q = chunk * p + d).
inline std::vector<sim_op> schedule_order(pipeline_schedule kind, std::size_t d, std::size_t p, std::size_t v,
                                          std::size_t m) {
  std::vector<sim_op> ops;
  ops.reserve(2 * m * v);
  if (kind == pipeline_schedule::gpipe) {
    for (std::size_t i = 0; i < m; ++i) ops.push_back({true, i, d});
    for (std::size_t i = 0; i < m; ++i) ops.push_back({false, i, d});
    return ops;
  }
  if (kind == pipeline_schedule::one_f_one_b) {
    const std::size_t warm = std::min(p - d - 1, m);
    for (std::size_t i = 0; i < warm; ++i) ops.push_back({true, i, d});
    for (std::size_t i = 0; i + warm < m; ++i) ops.push_back({true, warm + i, d}), ops.push_back({false, i, d});
    for (std::size_t i = m - warm; i < m; ++i) ops.push_back({false, i, d});
    return ops;
  }
  // interleaved (Megatron): k-th forward / backward of the device
  const std::size_t total = m * v, group = p * v;
  auto op = [&](std::size_t k, bool fwd) {
    std::size_t chunk = (k % group) / p;
    if (!fwd) chunk = v - 1 - chunk;
    const std::size_t mb = (k / group) * p + k % p;
    return sim_op{fwd, mb, chunk * p + d};
  };
  const std::size_t warm = std::min((p - d - 1) * 2 + (v - 1) * p, total);
  for (std::size_t k = 0; k < warm; ++k) ops.push_back(op(k, true));
  for (std::size_t k = 0; k + warm < total; ++k) ops.push_back(op(warm + k, true)), ops.push_back(op(k, false));
  for (std::size_t k = total - warm; k < total; ++k) ops.push_back(op(k, false));
  return ops;
}

}  // namespace detail

/// Simulates one training iteration. `forward[q]`, `backward[q]`: time of one micro-batch on
/// virtual stage q (q = chunk * devices + device; for GPipe / 1F1B simply the stage). The number
/// of devices is forward.size() / virtual_stages.
/// Errors (invalid_input, naming field and value): sizes differ or are 0, negative / NaN times,
/// m == 0, v == 0, v > 1 without the interleaved schedule, interleaved with m % devices != 0.
[[nodiscard]] inline schedule_result simulate_schedule(std::span<const double> forward, std::span<const double> backward,
                                                       const schedule_options& opts) {
  constexpr std::string_view where = "simulate_schedule";
  using detail::describe;
  const std::size_t Q = forward.size(), m = opts.micro_batches, v = opts.virtual_stages;
  if (Q == 0) throw invalid_input(describe(where, "forward.size()", Q, "need at least one stage"));
  if (backward.size() != Q)
    throw invalid_input(describe(where, "backward.size()", backward.size(), "must equal forward.size()"));
  if (m == 0) throw invalid_input(describe(where, "micro_batches", m, "need at least one micro-batch"));
  if (v == 0) throw invalid_input(describe(where, "virtual_stages", v, "must be at least 1"));
  if (v > 1 && opts.kind != pipeline_schedule::interleaved_1f1b)
    throw invalid_input(describe(where, "virtual_stages", v, "only the interleaved schedule has virtual stages"));
  if (Q % v != 0) throw invalid_input(describe(where, "forward.size()", Q, "must be a multiple of virtual_stages"));
  const std::size_t p = Q / v;
  if (opts.kind == pipeline_schedule::interleaved_1f1b && m % p != 0)
    throw invalid_input(describe(where, "micro_batches", m, "interleaved 1F1B needs a multiple of the number of devices"));
  for (std::size_t q = 0; q < Q; ++q) {
    detail::require_non_negative(where, "forward", q, forward[q]);
    detail::require_non_negative(where, "backward", q, backward[q]);
  }
  detail::require_non_negative(where, "p2p_time", 0, opts.p2p_time);
  if (!opts.activation_memory.empty()) {
    if (opts.activation_memory.size() != Q)
      throw invalid_input(describe(where, "activation_memory.size()", opts.activation_memory.size(), "must equal forward.size()"));
    for (std::size_t q = 0; q < Q; ++q) detail::require_non_negative(where, "activation_memory", q, opts.activation_memory[q]);
  }

  constexpr double not_done = -1.0;
  std::vector<double> f_end(Q * m, not_done), b_end(Q * m, not_done);
  std::vector<std::vector<detail::sim_op>> order(p);
  for (std::size_t d = 0; d < p; ++d) order[d] = detail::schedule_order(opts.kind, d, p, v, m);
  std::vector<std::size_t> next(p, 0);
  std::vector<double> free_at(p, 0.0);
  schedule_result r;
  r.busy_time.assign(p, 0.0);
  r.peak_in_flight.assign(p, 0);
  if (!opts.activation_memory.empty()) r.peak_activation_memory.assign(p, 0.0);
  if (opts.record_timeline) r.timeline.assign(p, {});
  std::vector<std::size_t> in_flight(p, 0);
  std::vector<double> held(p, 0.0);
  const double c = opts.p2p_time;
  auto device_of = [p](std::size_t q) { return q % p; };

  std::size_t remaining = 2 * m * Q;
  while (remaining > 0) {
    bool progress = false;
    for (std::size_t d = 0; d < p; ++d) {
      while (next[d] < order[d].size()) {
        const auto& o = order[d][next[d]];
        double ready = free_at[d];
        if (o.forward) {
          if (o.q > 0) {
            const double dep = f_end[(o.q - 1) * m + o.mb];
            if (dep == not_done) break;
            ready = std::max(ready, dep + (device_of(o.q - 1) == d ? 0.0 : c));
          }
        } else {
          const double own = f_end[o.q * m + o.mb];
          if (own == not_done) break;
          ready = std::max(ready, own);
          if (o.q + 1 < Q) {
            const double dep = b_end[(o.q + 1) * m + o.mb];
            if (dep == not_done) break;
            ready = std::max(ready, dep + (device_of(o.q + 1) == d ? 0.0 : c));
          }
        }
        const double dur = o.forward ? forward[o.q] : backward[o.q];
        const double end = ready + dur;
        (o.forward ? f_end : b_end)[o.q * m + o.mb] = end;
        free_at[d] = end;
        r.busy_time[d] += dur;
        if (o.forward) {
          ++in_flight[d];
          r.peak_in_flight[d] = std::max(r.peak_in_flight[d], in_flight[d]);
          if (!opts.activation_memory.empty()) {
            held[d] += opts.activation_memory[o.q];
            r.peak_activation_memory[d] = std::max(r.peak_activation_memory[d], held[d]);
          }
        } else {
          --in_flight[d];
          if (!opts.activation_memory.empty()) held[d] -= opts.activation_memory[o.q];
        }
        if (opts.record_timeline) r.timeline[d].push_back({o.forward, o.mb, o.q, ready, end});
        ++next[d];
        --remaining;
        progress = true;
      }
    }
    if (!progress) throw std::logic_error("simulate_schedule: internal error: schedule deadlocks");
  }
  for (std::size_t d = 0; d < p; ++d) r.iteration_time = std::max(r.iteration_time, free_at[d]);
  double busy = 0;
  for (double b : r.busy_time) busy += b;
  r.bubble_fraction = r.iteration_time > 0 ? 1.0 - busy / (static_cast<double>(p) * r.iteration_time) : 0.0;
  return r;
}

}  // namespace fulcrum
