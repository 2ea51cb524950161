// SPDX-License-Identifier: Apache-2.0
/// @file packing/rank_packing.hpp
/// NOTE TO ENGINEERS: the lead reassigned pack_for_ranks to engineer "rankpack" at 14:25; engineer
/// "packexact" should leave this file (and tests/unit/packing/test_rank*.cpp, bench_rank_packing)
/// to them and finish exact.hpp / lp_export.hpp.
#pragma once
