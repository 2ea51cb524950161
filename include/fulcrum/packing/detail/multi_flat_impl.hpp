// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/multi_flat_impl.hpp
/// Definition of multi_pack_flat (declared in packing/multi.hpp): included by multi.hpp in
/// header-only mode, compiled once into fulcrum::compiled otherwise (src/pack.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "fulcrum/config.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/packing/detail/multi_impl.hpp"
#include "fulcrum/packing/multi.hpp"

namespace fulcrum {

FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER flat_multi_packing multi_pack_flat(std::span<const std::uint64_t> sizes, std::size_t dims,
                                                  std::span<const std::uint64_t> capacity) {
  constexpr const char* where = "multi_pack_flat";
  if (dims == 0 || dims > 4) throw invalid_input(detail::describe(where, "dims", dims, "must be 1..4"));
  if (capacity.size() != dims)
    throw invalid_input(detail::describe(where, "capacity.size()", capacity.size(), "does not match dims"));
  if (sizes.size() % dims != 0)
    throw invalid_input(detail::describe(where, "sizes.size()", sizes.size(), "is not a multiple of dims"));
  auto run = [&](auto tag) {
    constexpr std::size_t D = decltype(tag)::value;
    std::vector<size_vector<D>> items(sizes.size() / D);
    for (std::size_t i = 0; i < items.size(); ++i)
      for (std::size_t d = 0; d < D; ++d) items[i][d] = sizes[i * D + d];
    size_vector<D> cap{};
    for (std::size_t d = 0; d < D; ++d) cap[d] = capacity[d];
    auto p = multi_best_fit_decreasing<D>(items, cap);
    flat_multi_packing out;
    out.bins = std::move(p.bins);
    out.dims = D;
    for (const auto& l : p.loads) out.loads.insert(out.loads.end(), l.begin(), l.end());
    out.lower_bound = p.lower_bound;
    out.proven_optimal = p.proven_optimal;
    return out;
  };
  switch (dims) {
    case 1:
      return run(std::integral_constant<std::size_t, 1>{});
    case 2:
      return run(std::integral_constant<std::size_t, 2>{});
    case 3:
      return run(std::integral_constant<std::size_t, 3>{});
    default:
      return run(std::integral_constant<std::size_t, 4>{});
  }
}

}  // namespace fulcrum
