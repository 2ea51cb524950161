// SPDX-License-Identifier: Apache-2.0
// fulcrum::compiled: the span-level workers of pack() (one-dimensional and multi-constraint),
// the multi_* packers and pack_for_ranks(), built once (FULCRUM_COMPILED is defined by the
// target, so FULCRUM_WORKER is empty and these are the one, non-inline definitions).
#if !defined(FULCRUM_COMPILED)
#error "src/pack.cpp is built by the fulcrum::compiled target, which defines FULCRUM_COMPILED"
#endif

#include "fulcrum/packing/detail/multi_flat_impl.hpp"
#include "fulcrum/packing/detail/multi_impl.hpp"
#include "fulcrum/packing/detail/pack_impl.hpp"
#include "fulcrum/packing/detail/rank_packing_impl.hpp"

namespace fulcrum {

// Multi-constraint packing for D = 1..multi_compiled_max_dims (declared extern in packing/multi.hpp
// and packing/pack.hpp).
#define FULCRUM_MULTI_INSTANTIATE(D)                                                                                   \
  template multi_packing<D> multi_next_fit<D>(std::span<const size_vector<D>>, const size_vector<D>&);                 \
  template multi_packing<D> multi_first_fit<D>(std::span<const size_vector<D>>, const size_vector<D>&);                \
  template multi_packing<D> multi_first_fit_decreasing<D>(std::span<const size_vector<D>>, const size_vector<D>&);     \
  template multi_packing<D> multi_best_fit_decreasing<D>(std::span<const size_vector<D>>, const size_vector<D>&);      \
  template std::uint64_t multi_lower_bound<D>(std::span<const size_vector<D>>, const size_vector<D>&);                 \
  template multi_packing<D> detail::pack_multi<D>(std::vector<size_vector<D>>, const size_vector<D>&, const pack_options&); \
  template void detail::pack_for_ranks_into<D>(detail::rank_workspace<D>&, rank_packing&, const size_vector<D>&,        \
                                               std::size_t, const rank_pack_options&);
FULCRUM_MULTI_INSTANTIATE(1)
FULCRUM_MULTI_INSTANTIATE(2)
FULCRUM_MULTI_INSTANTIATE(3)
FULCRUM_MULTI_INSTANTIATE(4)
FULCRUM_MULTI_INSTANTIATE(5)
FULCRUM_MULTI_INSTANTIATE(6)
FULCRUM_MULTI_INSTANTIATE(7)
FULCRUM_MULTI_INSTANTIATE(8)

}  // namespace fulcrum
