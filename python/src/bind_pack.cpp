// SPDX-License-Identifier: Apache-2.0
/// @file python/src/bind_pack.cpp
/// `fulcrum._core`: pack (1-D and multi-constraint, packing/pack.hpp), one-dimensional
/// pack_for_ranks (packing/rank_packing.hpp), balance (balance/balance.hpp) and partition_stages
/// (pipeline/partition.hpp). Inputs are read in place, the GIL is released for every solve.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"
#include "fulcrum/balance/balance.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/packing/pack.hpp"
#include "fulcrum/packing/rank_packing.hpp"
#include "fulcrum/pipeline/partition.hpp"

namespace fulcrum_py {

using namespace nb::literals;

namespace {

// ---- pack ------------------------------------------------------------------------------------

/// A packing's fields as a dict; `loads` flattened by the caller (one row per bin).
template <class Packing, class Loads>
nb::dict packing_dict(const Packing& p, Loads&& loads) {
  nb::dict d;
  d["offsets"] = to_numpy_as<std::uint64_t>(p.bins.offsets());
  d["indices"] = to_numpy_as<std::uint32_t>(p.bins.indices());
  d["loads"] = to_numpy(std::forward<Loads>(loads));
  d["lower_bound"] = p.lower_bound;
  d["proven_optimal"] = p.proven_optimal;
  d["gap"] = p.gap();
  d["algorithm"] = std::string(fulcrum::to_string(p.algorithm));
  return d;
}

fulcrum::pack_options pack_options_of(const std::string& algorithm, const std::string& oversize,
                                      std::optional<std::uint64_t> max_nodes, std::optional<double> time_limit_s) {
  fulcrum::pack_options opts;
  opts.algorithm = fulcrum::parse_enum<fulcrum::pack_algorithm>(algorithm, "algorithm");
  opts.oversize_policy = fulcrum::parse_enum<fulcrum::oversize>(oversize, "oversize");
  opts.limits = limits_of(max_nodes, time_limit_s);
  return opts;
}

template <class T>
nb::dict pack_1d(const in_array<T>& sizes, std::int64_t capacity, const std::string& algorithm,
                 const std::string& oversize, std::optional<std::uint64_t> max_nodes,
                 std::optional<double> time_limit_s) {
  const fulcrum::pack_options opts = pack_options_of(algorithm, oversize, max_nodes, time_limit_s);
  const auto s = span_of(sizes);
  fulcrum::packing p;
  {
    nb::gil_scoped_release release;
    p = fulcrum::pack(s, capacity, opts);
  }
  return packing_dict(p, std::move(p.loads));
}

template <std::size_t D, class T>
nb::dict pack_multi_d(const in_matrix<T>& sizes, const std::vector<std::int64_t>& capacity,
                      const fulcrum::pack_options& opts) {
  const std::size_t n = sizes.shape(0);
  std::array<std::int64_t, D> cap{};
  for (std::size_t d = 0; d < D; ++d) cap[d] = capacity[d];
  const T* data = sizes.data();
  fulcrum::basic_packing<std::array<std::uint64_t, D>> p;
  {
    nb::gil_scoped_release release;
    std::vector<std::array<T, D>> rows(n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t d = 0; d < D; ++d) rows[i][d] = data[i * D + d];
    p = fulcrum::pack(rows, cap, opts);
  }
  std::vector<std::uint64_t> loads;
  loads.reserve(p.loads.size() * D);
  for (const auto& l : p.loads) loads.insert(loads.end(), l.begin(), l.end());
  return packing_dict(p, std::move(loads));
}

template <class T>
nb::dict pack_nd(const in_matrix<T>& sizes, const std::vector<std::int64_t>& capacity, const std::string& algorithm,
                 const std::string& oversize, std::optional<std::uint64_t> max_nodes,
                 std::optional<double> time_limit_s) {
  const fulcrum::pack_options opts = pack_options_of(algorithm, oversize, max_nodes, time_limit_s);
  const std::size_t dims = sizes.shape(1);
  if (capacity.size() != dims)
    throw fulcrum::invalid_input(
        fulcrum::detail::describe("pack", "capacity", capacity.size(), "needs one entry per size column"));
  switch (dims) {
    case 1:
      return pack_multi_d<1>(sizes, capacity, opts);
    case 2:
      return pack_multi_d<2>(sizes, capacity, opts);
    case 3:
      return pack_multi_d<3>(sizes, capacity, opts);
    case 4:
      return pack_multi_d<4>(sizes, capacity, opts);
    default:
      throw fulcrum::invalid_input(
          fulcrum::detail::describe("pack", "sizes.shape[1]", dims, "the Python binding handles 1 to 4 dimensions"));
  }
}

// ---- pack_for_ranks ----------------------------------------------------------------------------

template <class T>
nb::dict pack_for_ranks_1d(const in_array<T>& sizes, std::int64_t capacity, std::size_t ranks,
                           const std::string& oversize, std::size_t passes, bool shuffle, std::uint64_t seed) {
  fulcrum::rank_pack_options opts;
  opts.oversize_policy = fulcrum::parse_enum<fulcrum::oversize>(oversize, "oversize");
  opts.passes = passes;
  opts.shuffle = shuffle;
  opts.seed = seed;
  const auto s = span_of(sizes);
  fulcrum::rank_packing p;
  {
    nb::gil_scoped_release release;
    p = fulcrum::pack_for_ranks(s, capacity, ranks, opts);
  }
  nb::dict d;
  d["offsets"] = to_numpy_as<std::uint64_t>(p.bins.groups().offsets());
  d["indices"] = to_numpy_as<std::uint32_t>(p.bins.groups().indices());
  d["steps"] = p.steps();
  d["ranks"] = p.ranks();
  d["loads"] = to_numpy(std::move(p.loads));
  d["lower_bound"] = p.lower_bound;
  d["used_bins"] = p.used_bins;
  d["proven_optimal"] = p.proven_optimal;
  d["gap"] = p.gap();
  d["dist"] = p.dist.empty() ? 0.0 : p.dist[0];
  d["pad"] = p.pad.empty() ? 0.0 : p.pad[0];
  return d;
}

// ---- balance -----------------------------------------------------------------------------------

template <class T>
nb::dict balance_arr(const in_array<T>& values, std::size_t k, const std::string& algorithm, bool equal_counts,
                     std::optional<double> part_capacity, std::optional<std::uint64_t> max_nodes,
                     std::optional<double> time_limit_s, const std::string& cost, double a, double b, double c) {
  const auto opts = balance_opts(algorithm, equal_counts, part_capacity, max_nodes, time_limit_s);
  const auto s = span_of(values);
  // One workspace and result per thread, reused by every call (balance/balance.hpp, "Per-step
  // use"): no allocation, and no page faults from memory the allocator gave back, once warm.
  thread_local fulcrum::workspace ws;
  thread_local fulcrum::partition p;
  if (cost == "identity") {
    nb::gil_scoped_release release;
    fulcrum::balance(s, k, ws, p, opts, fulcrum::identity_cost{});
  } else if (cost == "linear") {
    nb::gil_scoped_release release;
    fulcrum::balance(s, k, ws, p, opts, fulcrum::linear_cost{a, b});
  } else if (cost == "attention") {
    nb::gil_scoped_release release;
    fulcrum::balance(s, k, ws, p, opts, fulcrum::attention_cost{a, b, c});
  } else {
    throw fulcrum::invalid_input(
        fulcrum::detail::describe("balance", "cost", cost, "is not identity, linear or attention"));
  }
  nb::dict d;
  d["offsets"] = to_numpy_as<std::uint64_t>(p.parts.offsets());
  d["indices"] = to_numpy_as<std::uint32_t>(p.parts.indices());
  d["loads"] = to_numpy_as<double>(std::span<const double>(p.loads));
  d["makespan"] = p.makespan;
  d["lower_bound"] = p.lower_bound;
  d["proven_optimal"] = p.proven_optimal;
  d["gap"] = p.gap();
  return d;
}

// ---- partition_stages ----------------------------------------------------------------------------

template <class T>
nb::dict partition_stages_arr(const in_array<T>& layer_costs, std::size_t stages, const std::string& algorithm,
                              std::vector<double> stage_speed, std::vector<double> stage_fixed_cost,
                              std::vector<std::uint64_t> layer_memory, std::vector<std::uint64_t> stage_memory_cap) {
  fulcrum::pipeline_options opts;
  opts.algorithm = fulcrum::parse_enum<fulcrum::stage_algorithm>(algorithm, "algorithm");
  opts.stage_speed = std::move(stage_speed);
  opts.stage_fixed_cost = std::move(stage_fixed_cost);
  opts.layer_memory = std::move(layer_memory);
  opts.stage_memory_cap = std::move(stage_memory_cap);
  const auto s = span_of(layer_costs);
  fulcrum::stage_partition p;
  {
    nb::gil_scoped_release release;
    p = fulcrum::partition_stages(s, stages, opts);
  }
  std::vector<std::uint64_t> bounds(p.boundaries.begin(), p.boundaries.end());
  nb::dict d;
  d["boundaries"] = to_numpy(std::move(bounds));
  d["stage_costs"] = to_numpy(std::move(p.stage_costs));
  d["bottleneck"] = p.bottleneck;
  d["lower_bound"] = p.lower_bound;
  d["proven_optimal"] = p.proven_optimal;
  d["gap"] = p.gap();
  return d;
}

}  // namespace

void bind_pack(nb::module_& m) {
#define FULCRUM_PY_PACK(T)                                                                                         \
  m.def("pack", &pack_1d<T>, "sizes"_a, "capacity"_a, "algorithm"_a, "oversize"_a, "max_nodes"_a.none(),           \
        "time_limit"_a.none());                                                                                    \
  m.def("pack", &pack_nd<T>, "sizes"_a, "capacity"_a, "algorithm"_a, "oversize"_a, "max_nodes"_a.none(),           \
        "time_limit"_a.none());                                                                                    \
  m.def("pack_for_ranks", &pack_for_ranks_1d<T>, "sizes"_a, "capacity"_a, "ranks"_a, "oversize"_a, "passes"_a,     \
        "shuffle"_a, "seed"_a);                                                                                    \
  m.def("balance", &balance_arr<T>, "values"_a, "k"_a, "algorithm"_a, "equal_counts"_a, "part_capacity"_a.none(),  \
        "max_nodes"_a.none(), "time_limit"_a.none(), "cost"_a, "a"_a, "b"_a, "c"_a);                               \
  m.def("partition_stages", &partition_stages_arr<T>, "layer_costs"_a, "stages"_a, "algorithm"_a, "stage_speed"_a, \
        "stage_fixed_cost"_a, "layer_memory"_a, "stage_memory_cap"_a);
  FULCRUM_PY_PACK(std::uint64_t)
  FULCRUM_PY_PACK(std::int64_t)
  FULCRUM_PY_PACK(double)
#undef FULCRUM_PY_PACK
}

}  // namespace fulcrum_py
