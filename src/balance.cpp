// SPDX-License-Identifier: Apache-2.0
// fulcrum::compiled: balance()'s span-level workers, built once (FULCRUM_COMPILED is defined by the
// target, so FULCRUM_WORKER is empty and these are the one, non-inline definitions).
#if !defined(FULCRUM_COMPILED)
#error "src/balance.cpp is built by the fulcrum::compiled target, which defines FULCRUM_COMPILED"
#endif

#include "fulcrum/balance/detail/balance_impl.hpp"
