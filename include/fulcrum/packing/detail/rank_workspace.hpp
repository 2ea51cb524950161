// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/rank_workspace.hpp
/// The storage behind fulcrum::rank_packing_workspace (packing/rank_packing.hpp): every buffer
/// pack_for_ranks needs for one call, for D size dimensions. Buffers only grow (inner bin lists are
/// never destroyed between calls, and each keeps its role: the fill writes `filled`, the steps live
/// in `st.bins`), so repeated calls on batches of similar shape allocate nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/detail/oversize.hpp"
#include "fulcrum/packing/detail/rank_fill.hpp"
#include "fulcrum/packing/detail/rank_steps.hpp"
#include "fulcrum/packing/multi.hpp"

namespace fulcrum::detail {

/// Type-erased base, so the public workspace holds the storage of whichever D it last served.
struct rank_workspace_base {
  rank_workspace_base() = default;
  rank_workspace_base(const rank_workspace_base&) = delete;
  rank_workspace_base& operator=(const rank_workspace_base&) = delete;
  virtual ~rank_workspace_base() = default;
};

template <std::size_t D>
struct rank_workspace final : rank_workspace_base {
  std::vector<size_vector<D>> sizes;  ///< validated sizes of the current call (front door writes them)
  std::vector<cost_t> costs;          ///< cost(proj(item)) when a cost model is given, else empty
  oversize_split split;
  std::vector<size_vector<D>> compact;
  std::vector<std::uint64_t> bound_scratch;
  rank_fill_scratch<D> fill;
  std::vector<std::vector<index_type>> filled;  ///< bins in closing order ([0, used))
  std::vector<size_vector<D>> filled_loads;
  std::vector<double> filled_costs;
  std::vector<std::size_t> order;
  std::vector<index_type> first_item;
  rank_state<D> st;  ///< st.bins[0, steps * ranks): the steps
  rank_step_scratch step;
  std::vector<std::size_t> step_order, rank_order;
  std::vector<std::size_t> offsets;
  std::vector<index_type> indices;
  std::vector<double> values;
};

}  // namespace fulcrum::detail
