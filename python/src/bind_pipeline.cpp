// SPDX-License-Identifier: Apache-2.0
/// @file python/src/bind_pipeline.cpp
/// `fulcrum._core`: recompute selection (recompute/select.hpp), the joint pipeline + recompute
/// search, the balanced search with recompute and the evaluation of a given split
/// (recompute/joint.hpp), and the pipeline schedule simulator (pipeline/schedule.hpp). Per-layer
/// recompute options come as CSR: option_offsets (layers + 1) over option_memory / option_time.
/// The GIL is released for every solve.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"
#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/pipeline/schedule.hpp"
#include "fulcrum/recompute/joint.hpp"
#include "fulcrum/recompute/select.hpp"

namespace fulcrum_py {

using namespace nb::literals;

namespace {

using options_t = std::vector<std::vector<fulcrum::recompute_option>>;

options_t options_of(const char* where, const in_array<std::uint64_t>& offsets, const in_array<std::uint64_t>& memory,
                     const in_array<double>& time) {
  const auto off = span_of(offsets);
  if (memory.shape(0) != time.shape(0))
    throw fulcrum::invalid_input(
        fulcrum::detail::describe(where, "option_time", time.shape(0), "differs in length from option_memory"));
  if (off.empty() || off.front() != 0 || off.back() != memory.shape(0))
    throw fulcrum::invalid_input(
        fulcrum::detail::describe(where, "recompute_options", off.size(), "malformed option offsets (internal: CSR)"));
  options_t out(off.size() - 1);
  for (std::size_t l = 0; l + 1 < off.size(); ++l) {
    if (off[l + 1] < off[l])
      throw fulcrum::invalid_input(fulcrum::detail::describe(where, "recompute_options", l, "decreasing offsets"));
    for (std::size_t k = off[l]; k < off[l + 1]; ++k) out[l].push_back({memory.data()[k], time.data()[k]});
  }
  return out;
}

nb::dict recompute_select(const in_array<std::uint64_t>& offsets, const in_array<std::uint64_t>& memory,
                          const in_array<double>& time, std::uint64_t budget, const std::string& algorithm,
                          std::optional<std::uint64_t> max_nodes, std::optional<double> time_limit_s) {
  fulcrum::recompute_options opts;
  opts.algorithm = fulcrum::parse_enum<fulcrum::recompute_algorithm>(algorithm, "algorithm");
  if (max_nodes || time_limit_s) {
    const auto l = limits_of(max_nodes, time_limit_s);
    if (max_nodes) opts.limits.nodes = l.nodes;
    if (time_limit_s) opts.limits.time = l.time;
  }
  fulcrum::recompute_plan p;
  {
    nb::gil_scoped_release release;
    const options_t layers = options_of("select_recompute", offsets, memory, time);
    p = fulcrum::select_recompute(layers, budget, opts);
  }
  std::vector<std::uint64_t> choice(p.choice.begin(), p.choice.end());
  nb::dict d;
  d["choice"] = to_numpy(std::move(choice));
  d["memory"] = p.memory;
  d["time"] = p.time;
  d["lower_bound"] = p.lower_bound;
  d["proven_optimal"] = p.proven_optimal;
  d["gap"] = p.gap();
  return d;
}

nb::dict schedule_dict(fulcrum::schedule_result&& s) {
  nb::dict d;
  d["iteration_time"] = s.iteration_time;
  d["bubble_fraction"] = s.bubble_fraction;
  d["busy_time"] = to_numpy(std::move(s.busy_time));
  d["peak_in_flight"] = to_numpy_as<std::uint64_t>(std::span<const std::size_t>(s.peak_in_flight));
  d["peak_activation_memory"] = to_numpy(std::move(s.peak_activation_memory));
  // the timeline, flat: one entry per operation, device by device in order
  std::vector<std::uint64_t> device, micro_batch, virtual_stage;
  std::vector<std::uint8_t> forward;
  std::vector<double> start, end;
  for (std::size_t dev = 0; dev < s.timeline.size(); ++dev)
    for (const auto& op : s.timeline[dev]) {
      device.push_back(dev);
      forward.push_back(op.forward ? 1 : 0);
      micro_batch.push_back(op.micro_batch);
      virtual_stage.push_back(op.virtual_stage);
      start.push_back(op.start);
      end.push_back(op.end);
    }
  d["op_device"] = to_numpy(std::move(device));
  d["op_forward"] = to_numpy(std::move(forward));
  d["op_micro_batch"] = to_numpy(std::move(micro_batch));
  d["op_virtual_stage"] = to_numpy(std::move(virtual_stage));
  d["op_start"] = to_numpy(std::move(start));
  d["op_end"] = to_numpy(std::move(end));
  return d;
}

nb::dict simulate(const in_array<double>& forward, const in_array<double>& backward, const std::string& kind,
                  std::size_t micro_batches, std::size_t virtual_stages, double p2p_time,
                  std::vector<double> activation_memory, bool record_timeline) {
  fulcrum::schedule_options opts;
  opts.kind = fulcrum::parse_enum<fulcrum::pipeline_schedule>(kind, "schedule");
  opts.micro_batches = micro_batches;
  opts.virtual_stages = virtual_stages;
  opts.p2p_time = p2p_time;
  opts.activation_memory = std::move(activation_memory);
  opts.record_timeline = record_timeline;
  const auto f = span_of(forward);
  const auto b = span_of(backward);
  fulcrum::schedule_result s;
  {
    nb::gil_scoped_release release;
    s = fulcrum::simulate_schedule(f, b, opts);
  }
  return schedule_dict(std::move(s));
}

nb::dict pipeline_search(const std::string& mode, const in_array<double>& forward, const in_array<double>& backward,
                         const in_array<std::uint64_t>& parameter_memory,
                         const in_array<std::uint64_t>& activation_memory, const in_array<std::uint64_t>& offsets,
                         const in_array<std::uint64_t>& memory, const in_array<double>& time, std::size_t stages,
                         std::size_t micro_batches, std::optional<std::uint64_t> device_memory, double p2p_time,
                         double bottleneck_tolerance, const in_array<std::uint64_t>& boundaries,
                         std::optional<std::uint64_t> max_nodes, std::optional<double> time_limit_s) {
  const char* where = mode == "joint"    ? "joint_partition_recompute"
                      : mode == "search" ? "search_partition"
                                         : "evaluate_pipeline";
  const std::size_t n = forward.shape(0);
  const std::pair<const char*, std::size_t> lens[] = {{"backward", backward.shape(0)},
                                                      {"parameter_memory", parameter_memory.shape(0)},
                                                      {"activation_memory", activation_memory.shape(0)}};
  for (const auto& [name, len] : lens)
    if (len != n)
      throw fulcrum::invalid_input(fulcrum::detail::describe(where, name, len, "differs in length from forward"));
  fulcrum::pipeline_search_options opts;
  opts.stages = stages;
  opts.micro_batches = micro_batches;
  if (device_memory) opts.device_memory = *device_memory;
  opts.p2p_time = p2p_time;
  opts.bottleneck_tolerance = bottleneck_tolerance;
  if (max_nodes || time_limit_s) {
    const auto l = limits_of(max_nodes, time_limit_s);
    if (max_nodes) opts.limits.nodes = l.nodes;
    if (time_limit_s) opts.limits.time = l.time;
  }
  fulcrum::pipeline_plan p;
  {
    nb::gil_scoped_release release;
    std::vector<fulcrum::pipeline_layer> layers(n);
    for (std::size_t i = 0; i < n; ++i)
      layers[i] = {forward.data()[i], backward.data()[i], parameter_memory.data()[i], activation_memory.data()[i]};
    const options_t options =
        offsets.shape(0) <= 1 ? options_t(n, std::vector<fulcrum::recompute_option>{fulcrum::recompute_option{0, 0.0}})
                              : options_of(where, offsets, memory, time);
    const std::span<const fulcrum::pipeline_layer> ls(layers);
    if (mode == "joint") {
      p = fulcrum::joint_partition_recompute(ls, options, opts);
    } else if (mode == "search") {
      p = fulcrum::search_partition(ls, options, opts);
    } else {
      const std::vector<std::size_t> b(boundaries.data(), boundaries.data() + boundaries.shape(0));
      p = fulcrum::evaluate_pipeline(ls, options, std::span<const std::size_t>(b), opts);
    }
  }
  nb::dict d;
  d["boundaries"] = to_numpy_as<std::uint64_t>(std::span<const std::size_t>(p.partition.boundaries));
  d["stage_costs"] = to_numpy(std::move(p.partition.stage_costs));
  d["bottleneck"] = p.partition.bottleneck;
  d["recompute_choice"] = to_numpy_as<std::uint64_t>(std::span<const std::size_t>(p.recompute_choice));
  d["stage_forward"] = to_numpy(std::move(p.stage_forward));
  d["stage_backward"] = to_numpy(std::move(p.stage_backward));
  d["stage_recompute"] = to_numpy(std::move(p.stage_recompute));
  d["stage_memory"] = to_numpy(std::move(p.stage_memory));
  d["iteration_time"] = p.iteration_time;
  d["lower_bound"] = p.lower_bound;
  d["proven_optimal"] = p.proven_optimal;
  d["gap"] = p.gap();
  d["nodes"] = p.nodes;
  d["schedule"] = schedule_dict(std::move(p.schedule));
  return d;
}

}  // namespace

void bind_pipeline(nb::module_& m) {
  m.def("select_recompute", &recompute_select, "option_offsets"_a, "option_memory"_a, "option_time"_a,
        "memory_budget"_a, "algorithm"_a, "max_nodes"_a.none(), "time_limit"_a.none());
  m.def("simulate_schedule", &simulate, "forward"_a, "backward"_a, "schedule"_a, "micro_batches"_a, "virtual_stages"_a,
        "p2p_time"_a, "activation_memory"_a, "record_timeline"_a);
  m.def("pipeline_search", &pipeline_search, "mode"_a, "forward"_a, "backward"_a, "parameter_memory"_a,
        "activation_memory"_a, "option_offsets"_a, "option_memory"_a, "option_time"_a, "stages"_a, "micro_batches"_a,
        "device_memory"_a.none(), "p2p_time"_a, "bottleneck_tolerance"_a, "boundaries"_a, "max_nodes"_a.none(),
        "time_limit"_a.none());
}

}  // namespace fulcrum_py
