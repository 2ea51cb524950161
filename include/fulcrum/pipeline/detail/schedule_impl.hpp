// SPDX-License-Identifier: Apache-2.0
/// @file pipeline/detail/schedule_impl.hpp
/// Definition of the 1F1B / interleaved schedule simulator declared in pipeline/schedule.hpp:
/// included by schedule.hpp in header-only mode, compiled once into fulcrum::compiled otherwise
/// (src/pipeline.cpp).
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
#include "fulcrum/core/error.hpp"
#include "fulcrum/pipeline/schedule.hpp"

namespace fulcrum {

namespace detail {

struct sim_op {
  bool forward;
  std::size_t mb, q;
};

/// Operation order of device d (virtual stages q = chunk * p + d).
template <class = void>
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
FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER schedule_result simulate_schedule(std::span<const double> forward, std::span<const double> backward,
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
    throw invalid_input(
        describe(where, "micro_batches", m, "interleaved 1F1B needs a multiple of the number of devices"));
  for (std::size_t q = 0; q < Q; ++q) {
    detail::require_non_negative(where, "forward", q, forward[q]);
    detail::require_non_negative(where, "backward", q, backward[q]);
  }
  detail::require_non_negative(where, "p2p_time", 0, opts.p2p_time);
  if (!opts.activation_memory.empty()) {
    if (opts.activation_memory.size() != Q)
      throw invalid_input(
          describe(where, "activation_memory.size()", opts.activation_memory.size(), "must equal forward.size()"));
    for (std::size_t q = 0; q < Q; ++q)
      detail::require_non_negative(where, "activation_memory", q, opts.activation_memory[q]);
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
