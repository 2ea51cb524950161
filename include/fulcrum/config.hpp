// SPDX-License-Identifier: Apache-2.0
/// @file config.hpp
/// Header-only (default) or compiled mode, the way {fmt} offers FMT_HEADER_ONLY.
///
/// - Header-only (FULCRUM_COMPILED not defined): the span-level workers behind the front doors are
///   defined in detail/*_impl.hpp headers, which the public headers include; link `fulcrum::fulcrum`.
///   They (and the helpers and algorithm classes behind them) are templates with a defaulted dummy
///   parameter, so a TU that only includes the headers instantiates none of their bodies.
/// - Compiled (FULCRUM_COMPILED defined, which linking the CMake target `fulcrum::compiled` does):
///   the public headers only declare those workers; their one definition is in the static library
///   built from src/*.cpp, so a TU calling the front doors parses and compiles none of the
///   algorithms. Workers: pack() (one-dimensional, and multi-constraint for 1..8 dimensions), the
///   multi_* packers, multi_pack_flat, pack_for_ranks(), balance(), balance_two_level(),
///   balance_phases(), post_balance(), partition_stages(), evaluate_partition(),
///   uniform_boundaries(), simulate_schedule(), search_partition() (both overloads),
///   joint_partition_recompute(), evaluate_pipeline(), select_recompute(), the typed reductions of
///   the collectives and the dispatch plan helpers. The named algorithms (lpt.hpp, first_fit.hpp,
///   ...) stay inline in both modes. Plans are bit-identical in both modes (the same code runs;
///   CTest compiled.plans_equal). Use one mode per program: every TU that links fulcrum::compiled
///   gets FULCRUM_COMPILED from the target.
#pragma once

#if defined(FULCRUM_COMPILED)
/// Declares a span-level worker: defined once in the fulcrum::compiled library.
#define FULCRUM_WORKER
/// Template head of a worker's declaration: empty in compiled mode (an ordinary function).
#define FULCRUM_WORKER_TEMPLATE
/// Template head of a worker's definition (detail/*_impl.hpp): empty in compiled mode.
#define FULCRUM_WORKER_TEMPLATE_DEF
#else
/// Declares a span-level worker: an inline function defined in the headers.
#define FULCRUM_WORKER inline
/// Template head of a worker's declaration. Header-only, every worker is a function template
/// whose only template parameter is a defaulted dummy (calls look and convert exactly as for an
/// ordinary function): parsing the headers then instantiates none of the algorithms (std::sort,
/// vectors, lambdas...); a worker's body is instantiated only in a TU that calls its front door
/// (issue 14: `-fsyntax-only` of the umbrella). Written before any attribute:
/// `FULCRUM_WORKER_TEMPLATE [[nodiscard]] FULCRUM_WORKER result f(...);`.
#define FULCRUM_WORKER_TEMPLATE template <class FulcrumDeferred = void>
/// Template head of a worker's definition (detail/*_impl.hpp), after its declaration.
#define FULCRUM_WORKER_TEMPLATE_DEF template <class FulcrumDeferred>
#endif

#if defined(__GNUC__) || defined(__clang__)
/// Hints that the cache line at `address` will be read soon (no effect where unsupported).
#define FULCRUM_PREFETCH(address) __builtin_prefetch(address)
/// Hints that the cache line at `address` will be written soon (no effect where unsupported).
#define FULCRUM_PREFETCH_WRITE(address) __builtin_prefetch(address, 1)
#else
#define FULCRUM_PREFETCH(address) ((void)(address))
#define FULCRUM_PREFETCH_WRITE(address) ((void)(address))
#endif
