// SPDX-License-Identifier: Apache-2.0
/// @file fulcrum.hpp
/// Umbrella header: the CPU-only planning library, kept cheap to include. No CUDA, MPI or NCCL,
/// and no `<filesystem>`, `<thread>` or `<iostream>` in its closure.
///
/// What it holds: the vocabulary (core/, concepts/) and the front doors: pack(), pack_for_ranks(),
/// packing bounds and multi-constraint packing; balance() (additive and group cost models),
/// balance_two_level(), balance_phases(),
/// post_balance(); the pipeline and recompute searches; the communicator concepts, any_communicator,
/// collectives, single_rank; dispatch.
///
/// Not included here (include them explicitly):
///  - the named algorithms behind the front doors, when called by name: <fulcrum/packing/
///    {next_fit,first_fit,best_fit,first_fit_decreasing,best_fit_decreasing,histogram,exact}.hpp>,
///    <fulcrum/balance/{lpt,karmarkar_karp,multifit,local_search,complete}.hpp> (in header-only
///    mode pack() and balance() include them anyway; in compiled mode they are not parsed)
///  - <fulcrum/packing/lp_export.hpp>, <fulcrum/balance/lp_export.hpp>: LP/MPS model export
///  - <fulcrum/io/*.hpp>                 datasets (JSONL/CSV readers), layer files, plan files, SVG
///                                        charts: files and `<filesystem>` (what fulcrum-plan uses)
///  - <fulcrum/comm/thread_world.hpp>    the in-process, one-thread-per-rank communicator (tests,
///                                        simulations; pulls `<thread>`)
///  - <fulcrum/comm/fault_injecting.hpp> the fault-injecting communicator wrapper (tests)
///  - <fulcrum/comm/mpi.hpp>, <fulcrum/nccl/nccl_communicator.hpp>, <fulcrum/cuda/*.cuh>: backends
///  - <fulcrum/testing/*.hpp>            workload generators and checkers
/// Compile cost: every front door here lowers its input once to spans / vectors of fixed types and
/// calls a span-level worker; link fulcrum::compiled (FULCRUM_COMPILED, fulcrum/config.hpp) to build
/// those workers once instead of in every TU: the umbrella then parses little more than the
/// vocabulary, options, results, concepts, cost models and front-door declarations (no `<sstream>`,
/// `<map>`, `<set>`, `<queue>` behind it; CTest compile_time.umbrella_closure). Figures:
/// docs/benchmarks.md, "Compile time".
#pragma once

#include "fulcrum/config.hpp"
#include "fulcrum/version.hpp"

// core vocabulary
#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/concepts/cost_model.hpp"
#include "fulcrum/core/bounds.hpp"
#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/options.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/core/sample.hpp"
#include "fulcrum/core/stats.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/core/workspace.hpp"

// packing
#include "fulcrum/packing/bounds.hpp"
#include "fulcrum/packing/multi.hpp"
#include "fulcrum/packing/pack.hpp"
#include "fulcrum/packing/packing.hpp"
#include "fulcrum/packing/rank_packing.hpp"

// balancing
#include "fulcrum/balance/balance.hpp"
#include "fulcrum/balance/grouped.hpp"
#include "fulcrum/balance/options.hpp"
#include "fulcrum/balance/partition.hpp"
#include "fulcrum/balance/phases.hpp"
#include "fulcrum/balance/post_balance.hpp"
#include "fulcrum/balance/two_level.hpp"

// pipeline and recompute
#include "fulcrum/pipeline/partition.hpp"
#include "fulcrum/pipeline/profile.hpp"
#include "fulcrum/pipeline/schedule.hpp"
#include "fulcrum/pipeline/search.hpp"
#include "fulcrum/recompute/budget.hpp"
#include "fulcrum/recompute/joint.hpp"
#include "fulcrum/recompute/select.hpp"

// communicators and dispatch
#include "fulcrum/comm/any_communicator.hpp"
#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/comm/single_rank.hpp"
#include "fulcrum/dispatch/dispatch.hpp"
#include "fulcrum/dispatch/node_aware.hpp"
#include "fulcrum/dispatch/return_results.hpp"

// Opt-in modules, included by name (they stay out of the umbrella so that its compiled-mode parse
// keeps within bench/compile_time.sh --check): runtime/streaming_batcher.hpp, runtime/epoch_plan.hpp,
// runtime/cap_search.hpp, layout/packed_layout.hpp, parallel/context_parallel.hpp,
// parallel/sequence_parallel.hpp, core/document_cost.hpp.
