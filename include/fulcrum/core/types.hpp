// SPDX-License-Identifier: Apache-2.0
/// @file core/types.hpp
/// Basic vocabulary types shared by every module: item indices and costs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fulcrum {

/// Index of an item (sample, layer) in the caller's input range. 32 bits keep groupings at
/// 4 bytes per item; inputs with more than 2^32 - 1 items are rejected with `invalid_input`.
using index_type = std::uint32_t;

/// Cost of an item or a group under a cost model (time units, FLOPs, ...). Sums of costs are
/// always accumulated in index order so results are bit-identical on every platform.
using cost_t = double;

/// Sizes of items for packing (token counts, image counts): unsigned 64-bit, sums checked.
using size_type = std::uint64_t;

}  // namespace fulcrum
