// SPDX-License-Identifier: Apache-2.0
// fulcrum::compiled: pack()'s span-level workers, built once (FULCRUM_COMPILED is defined by the
// target, so FULCRUM_WORKER is empty and these are the one, non-inline definitions).
#if !defined(FULCRUM_COMPILED)
#error "src/pack.cpp is built by the fulcrum::compiled target, which defines FULCRUM_COMPILED"
#endif

#include "fulcrum/packing/detail/pack_impl.hpp"

namespace fulcrum::detail {

// Multi-constraint pack() for the common dimension counts (declared extern in packing/pack.hpp).
template multi_packing<2> pack_multi<2>(std::vector<size_vector<2>>, const size_vector<2>&, const pack_options&);
template multi_packing<3> pack_multi<3>(std::vector<size_vector<3>>, const size_vector<3>&, const pack_options&);
template multi_packing<4> pack_multi<4>(std::vector<size_vector<4>>, const size_vector<4>&, const pack_options&);

}  // namespace fulcrum::detail
