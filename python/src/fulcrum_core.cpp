// SPDX-License-Identifier: Apache-2.0
/// @file python/src/fulcrum_core.cpp
/// `fulcrum._core`: the nanobind extension behind the `fulcrum` Python package (docs/python.md).
///
/// Every function takes one-dimensional C-contiguous CPU arrays of a fixed dtype (the Python layer,
/// python/fulcrum/__init__.py, converts whatever the caller gives once: unsigned -> uint64, signed ->
/// int64, floating -> float64), hands them to the C++ front door as spans (uint64 sizes are read in
/// place), releases the GIL for the solve and returns plain numpy arrays that own the C++ vectors'
/// memory (moved, not copied). Validation and error messages are the C++ library's own:
/// fulcrum::invalid_input -> fulcrum.InvalidInput (a ValueError), fulcrum::infeasible ->
/// fulcrum.Infeasible and fulcrum::comm_error -> fulcrum.CommError (RuntimeErrors).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common.hpp"
#include "fulcrum/balance/balance.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/enum_names.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/layout/packed_layout.hpp"
#include "fulcrum/packing/pack.hpp"
#include "fulcrum/packing/rank_packing.hpp"
#include "fulcrum/pipeline/partition.hpp"
#include "fulcrum/version.hpp"

namespace nb = nanobind;
using namespace nb::literals;
using namespace fulcrum_py;

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
  fulcrum::partition p;
  if (cost == "identity") {
    nb::gil_scoped_release release;
    p = fulcrum::balance(s, k, opts, fulcrum::identity_cost{});
  } else if (cost == "linear") {
    nb::gil_scoped_release release;
    p = fulcrum::balance(s, k, opts, fulcrum::linear_cost{a, b});
  } else if (cost == "attention") {
    nb::gil_scoped_release release;
    p = fulcrum::balance(s, k, opts, fulcrum::attention_cost{a, b, c});
  } else {
    throw fulcrum::invalid_input(
        fulcrum::detail::describe("balance", "cost", cost, "is not identity, linear or attention"));
  }
  nb::dict d;
  d["offsets"] = to_numpy_as<std::uint64_t>(p.parts.offsets());
  d["indices"] = to_numpy_as<std::uint32_t>(p.parts.indices());
  d["loads"] = to_numpy(std::move(p.loads));
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

// ---- packed layout ---------------------------------------------------------------------------

/// A packed_layout's arrays as a dict (kinds as uint8: 0 text, 1 image, 2 padding).
nb::dict layout_dict(fulcrum::packed_layout&& out) {
  nb::dict d;
  d["batch_cu_seqlens"] = to_numpy(out.batch_cu_seqlens());
  d["max_seqlen_overall"] = out.max_seqlen_overall;
  d["content_tokens"] = out.content_tokens;
  d["padding_tokens"] = out.padding_tokens;
  d["sequence_offsets"] = to_numpy_as<std::uint64_t>(std::span<const std::size_t>(out.sequence_offsets));
  d["cu_seqlens_offsets"] = to_numpy_as<std::uint64_t>(std::span<const std::size_t>(out.cu_seqlens_offsets));
  d["cu_seqlens"] = to_numpy(std::move(out.cu_seqlens));
  d["max_seqlen"] = to_numpy(std::move(out.max_seqlen));
  d["position_ids"] = to_numpy(std::move(out.position_ids));
  d["document_ids"] = to_numpy(std::move(out.document_ids));
  d["source_item"] = to_numpy(std::move(out.source_item));
  d["source_offset"] = to_numpy(std::move(out.source_offset));
  std::vector<std::uint8_t> kinds(out.kinds.size());
  for (std::size_t i = 0; i < kinds.size(); ++i) kinds[i] = static_cast<std::uint8_t>(out.kinds[i]);
  d["kinds"] = to_numpy(std::move(kinds));
  return d;
}

/// The packed-sequence layout (layout/packed_layout.hpp) of text-only items: groups as CSR
/// (offsets, indices), each item's token count.
nb::dict packed_layout_csr(const in_array<std::uint64_t>& offsets, const in_array<std::uint32_t>& indices,
                           const in_array<std::uint64_t>& sizes, std::uint32_t pad_multiple, std::uint32_t fixed_length,
                           std::size_t fixed_sequences) {
  fulcrum::packed_layout out;
  {
    nb::gil_scoped_release release;
    std::vector<std::uint32_t> tokens(sizes.shape(0));
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (sizes.data()[i] > std::numeric_limits<std::uint32_t>::max())
        throw fulcrum::invalid_input(
            fulcrum::detail::describe("packed_layout", "sizes", i, sizes.data()[i], "exceeds 4294967295 tokens"));
      tokens[i] = static_cast<std::uint32_t>(sizes.data()[i]);
    }
    const fulcrum::grouping packs(std::vector<std::size_t>(offsets.data(), offsets.data() + offsets.shape(0)),
                                  std::vector<fulcrum::index_type>(indices.data(), indices.data() + indices.shape(0)));
    fulcrum::layout_options opts;
    opts.pad_multiple = pad_multiple;
    opts.fixed_length = fixed_length;
    opts.fixed_sequences = fixed_sequences;
    fulcrum::make_packed_layout_into(packs, std::span<const std::uint32_t>(tokens), opts, out);
  }
  return layout_dict(std::move(out));
}

/// The multimodal packed layout: per item its text tokens and its images (CSR image_offsets over
/// image_tokens), image_positions for placement at_offsets.
nb::dict packed_layout_multimodal(const in_array<std::uint64_t>& offsets, const in_array<std::uint32_t>& indices,
                                  const in_array<std::uint32_t>& text_tokens,
                                  const in_array<std::uint64_t>& image_offsets,
                                  const in_array<std::uint32_t>& image_tokens,
                                  const in_array<std::uint32_t>& image_positions, const std::string& placement,
                                  std::uint32_t pad_multiple, std::uint32_t fixed_length, std::size_t fixed_sequences) {
  fulcrum::layout_options opts;
  opts.pad_multiple = pad_multiple;
  opts.fixed_length = fixed_length;
  opts.fixed_sequences = fixed_sequences;
  opts.placement = fulcrum::parse_enum<fulcrum::image_placement>(placement, "placement");
  fulcrum::packed_layout out;
  {
    nb::gil_scoped_release release;
    const fulcrum::grouping packs(std::vector<std::size_t>(offsets.data(), offsets.data() + offsets.shape(0)),
                                  std::vector<fulcrum::index_type>(indices.data(), indices.data() + indices.shape(0)));
    const std::vector<std::size_t> img_off(image_offsets.data(), image_offsets.data() + image_offsets.shape(0));
    fulcrum::multimodal_documents docs;
    docs.text_tokens = span_of(text_tokens);
    docs.image_offsets = std::span<const std::size_t>(img_off);
    docs.image_tokens = span_of(image_tokens);
    docs.image_positions = span_of(image_positions);
    fulcrum::make_packed_layout_into(packs, docs, opts, out);
  }
  return layout_dict(std::move(out));
}

}  // namespace

NB_MODULE(_core, m) {
  m.doc() = "fulcrum._core: the C++ extension behind the fulcrum package (use the fulcrum module).";
  m.attr("__version__") = std::to_string(FULCRUM_VERSION_MAJOR) + "." + std::to_string(FULCRUM_VERSION_MINOR) + "." +
                          std::to_string(FULCRUM_VERSION_PATCH);

  nb::exception<fulcrum::invalid_input>(m, "InvalidInput", PyExc_ValueError);
  nb::exception<fulcrum::infeasible>(m, "Infeasible", PyExc_RuntimeError);
  nb::exception<fulcrum::comm_error>(m, "CommError", PyExc_RuntimeError);

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

  m.def("packed_layout", &packed_layout_csr, "offsets"_a, "indices"_a, "sizes"_a, "pad_multiple"_a, "fixed_length"_a,
        "fixed_sequences"_a);
  m.def("packed_layout_multimodal", &packed_layout_multimodal, "offsets"_a, "indices"_a, "text_tokens"_a,
        "image_offsets"_a, "image_tokens"_a, "image_positions"_a, "placement"_a, "pad_multiple"_a, "fixed_length"_a,
        "fixed_sequences"_a);
  bind_runtime(m);
  bind_pipeline(m);
  bind_balance(m);
}
