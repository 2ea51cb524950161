// SPDX-License-Identifier: Apache-2.0
/// @file comm/detail/collectives_impl.hpp
/// The typed reductions behind the generic all_reduce fold (declared in comm/collectives.hpp):
/// included by collectives.hpp in header-only mode, compiled once into fulcrum::compiled otherwise
/// (src/comm.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/config.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum::comm::detail {

/// out[j] = in_0[j] op in_1[j] op ... for a built-in datatype and op (rank order).
template <class T>
void reduce_typed(std::span<const std::span<const std::byte>> ins, std::span<std::byte> out, reduce_kind kind) {
  const std::size_t n = out.size() / sizeof(T);
  for (std::size_t j = 0; j < n; ++j) {
    T acc;
    std::memcpy(&acc, ins[0].data() + j * sizeof(T), sizeof(T));
    for (std::size_t r = 1; r < ins.size(); ++r) {
      T v;
      std::memcpy(&v, ins[r].data() + j * sizeof(T), sizeof(T));
      switch (kind) {
        case reduce_kind::sum:
          acc = static_cast<T>(acc + v);
          break;
        case reduce_kind::max:
          acc = acc < v ? v : acc;
          break;
        case reduce_kind::min:
          acc = v < acc ? v : acc;
          break;
        case reduce_kind::custom:
          throw invalid_input("all_reduce: custom ops are reduced by the generic fold");
      }
    }
    std::memcpy(out.data() + j * sizeof(T), &acc, sizeof(T));
  }
}

FULCRUM_WORKER_TEMPLATE_DEF
FULCRUM_WORKER void reduce_bytes(std::span<const std::span<const std::byte>> ins, std::span<std::byte> out, datatype dt,
                                 reduce_kind kind) {
  switch (dt) {
    case datatype::int8:
      return reduce_typed<std::int8_t>(ins, out, kind);
    case datatype::uint8:
      return reduce_typed<std::uint8_t>(ins, out, kind);
    case datatype::int16:
      return reduce_typed<std::int16_t>(ins, out, kind);
    case datatype::uint16:
      return reduce_typed<std::uint16_t>(ins, out, kind);
    case datatype::int32:
      return reduce_typed<std::int32_t>(ins, out, kind);
    case datatype::uint32:
      return reduce_typed<std::uint32_t>(ins, out, kind);
    case datatype::int64:
      return reduce_typed<std::int64_t>(ins, out, kind);
    case datatype::uint64:
      return reduce_typed<std::uint64_t>(ins, out, kind);
    case datatype::float32:
      return reduce_typed<float>(ins, out, kind);
    case datatype::float64:
      return reduce_typed<double>(ins, out, kind);
  }
}

}  // namespace fulcrum::comm::detail
