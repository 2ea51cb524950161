// SPDX-License-Identifier: Apache-2.0
/// @file python/src/bind_balance.cpp
/// `fulcrum._core.balance_two_level` (balance/two_level.hpp) and `fulcrum._core.post_balance`
/// (balance/post_balance.hpp). Inputs are read in place (C-contiguous CPU arrays of the dtype the
/// Python layer converted to), the GIL is released for the solve, outputs are numpy arrays that
/// own the moved C++ vectors.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"
#include "fulcrum/balance/post_balance.hpp"
#include "fulcrum/balance/two_level.hpp"
#include "fulcrum/core/cost_model.hpp"

namespace fulcrum_py {

using namespace nb::literals;

namespace {

/// Calls f(cost model) for the cost named `cost` ("identity", "linear", "attention").
template <class F>
auto with_cost(const std::string& where, const std::string& cost, double a, double b, double c, F&& f) {
  if (cost == "identity") return f(fulcrum::identity_cost{});
  if (cost == "linear") return f(fulcrum::linear_cost{a, b});
  if (cost == "attention") return f(fulcrum::attention_cost{a, b, c});
  throw fulcrum::invalid_input(fulcrum::detail::describe(where, "cost", cost, "is not identity, linear or attention"));
}

nb::dict partition_dict(fulcrum::partition&& p) {
  nb::dict d;
  put_groups(d, p.parts);
  d["loads"] = to_numpy(std::move(p.loads));
  d["makespan"] = p.makespan;
  d["lower_bound"] = p.lower_bound;
  d["proven_optimal"] = p.proven_optimal;
  d["gap"] = p.gap();
  return d;
}

template <class T>
nb::dict two_level_arr(const in_array<T>& values, std::size_t ranks, std::size_t micro_batches,
                       const std::string& algorithm, bool equal_counts, std::optional<double> part_capacity,
                       std::optional<std::uint64_t> max_nodes, std::optional<double> time_limit_s,
                       const std::string& cost, double a, double b, double c) {
  const auto opts = balance_opts(algorithm, equal_counts, part_capacity, max_nodes, time_limit_s);
  const auto s = span_of(values);
  fulcrum::two_level_partition p = with_cost("balance_two_level", cost, a, b, c, [&](auto model) {
    nb::gil_scoped_release release;
    return fulcrum::balance_two_level(s, ranks, micro_batches, opts, model);
  });
  nb::dict d;
  d["steps"] = p.micro_batches.steps();
  d["ranks"] = p.micro_batches.ranks();
  put_groups(d, p.micro_batches.groups(), "grid_offsets", "grid_indices");
  d["micro_batch_loads"] = to_numpy(std::move(p.micro_batch_loads));
  d["micro_batch_makespan"] = p.micro_batch_makespan;
  d["micro_batch_lower_bound"] = p.micro_batch_lower_bound;
  d["lockstep_time"] = p.lockstep_time;
  d["bottom_up"] = p.bottom_up;
  d["rank_partition"] = partition_dict(std::move(p.ranks));
  return d;
}

nb::dict post_balance_arr(const in_array<double>& costs, const in_array<std::uint32_t>& current_rank,
                          const in_array<std::uint64_t>& bytes, std::size_t ranks, std::size_t ranks_per_node,
                          double tolerance, const std::string& algorithm, std::optional<std::uint64_t> max_nodes,
                          std::optional<double> time_limit_s) {
  fulcrum::post_balance_options opts;
  opts.balance = balance_opts(algorithm, false, std::nullopt, max_nodes, time_limit_s);
  opts.ranks_per_node = ranks_per_node;
  opts.tolerance = tolerance;
  const auto c = span_of(costs);
  const auto r = span_of(current_rank);
  const auto by = span_of(bytes);
  fulcrum::post_balance_result p;
  {
    nb::gil_scoped_release release;
    p = fulcrum::post_balance(c, r, by, ranks, opts);
  }
  nb::dict d;
  d["plan"] = partition_dict(std::move(p.plan));
  d["bytes_moved_inter_node"] = p.bytes_moved_inter_node;
  d["bytes_moved_intra_node"] = p.bytes_moved_intra_node;
  d["samples_moved"] = p.samples_moved;
  d["target_makespan"] = p.target_makespan;
  return d;
}

}  // namespace

void bind_balance(nb::module_& m) {
#define FULCRUM_PY_TWO_LEVEL(T)                                                                                   \
  m.def("balance_two_level", &two_level_arr<T>, "values"_a, "ranks"_a, "micro_batches"_a, "algorithm"_a,          \
        "equal_counts"_a, "part_capacity"_a.none(), "max_nodes"_a.none(), "time_limit"_a.none(), "cost"_a, "a"_a, \
        "b"_a, "c"_a);
  FULCRUM_PY_TWO_LEVEL(std::uint64_t)
  FULCRUM_PY_TWO_LEVEL(std::int64_t)
  FULCRUM_PY_TWO_LEVEL(double)
#undef FULCRUM_PY_TWO_LEVEL
  m.def("post_balance", &post_balance_arr, "costs"_a, "current_rank"_a, "bytes"_a, "ranks"_a, "ranks_per_node"_a,
        "tolerance"_a, "algorithm"_a, "max_nodes"_a.none(), "time_limit"_a.none());
}

}  // namespace fulcrum_py
