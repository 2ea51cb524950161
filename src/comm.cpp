// SPDX-License-Identifier: Apache-2.0
// fulcrum::compiled: the non-template parts of the collectives (comm/collectives.hpp) and of the
// dispatch plans (dispatch/plan.hpp), built once.
#if !defined(FULCRUM_COMPILED)
#error "src/comm.cpp is built by the fulcrum::compiled target, which defines FULCRUM_COMPILED"
#endif

#include "fulcrum/comm/detail/collectives_impl.hpp"
#include "fulcrum/dispatch/detail/plan_impl.hpp"
