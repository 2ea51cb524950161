// SPDX-License-Identifier: Apache-2.0
// fulcrum::compiled: the span-level workers of balance(), balance_two_level(), balance_phases()
// and post_balance(), built once (FULCRUM_COMPILED is defined by the
// target, so FULCRUM_WORKER is empty and these are the one, non-inline definitions).
#if !defined(FULCRUM_COMPILED)
#error "src/balance.cpp is built by the fulcrum::compiled target, which defines FULCRUM_COMPILED"
#endif

#include "fulcrum/balance/detail/balance_impl.hpp"
#include "fulcrum/balance/detail/phases_impl.hpp"
#include "fulcrum/balance/detail/post_balance_impl.hpp"
#include "fulcrum/balance/detail/two_level_impl.hpp"
