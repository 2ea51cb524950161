// SPDX-License-Identifier: Apache-2.0
/// @file config.hpp
/// Header-only (default) or compiled mode, the way {fmt} offers FMT_HEADER_ONLY.
///
/// - Header-only (FULCRUM_COMPILED not defined): the span-level workers behind the front doors
///   (`pack()`, `balance()`) are `inline` functions defined in the headers; link `fulcrum::fulcrum`.
/// - Compiled (FULCRUM_COMPILED defined, which linking the CMake target `fulcrum::compiled` does):
///   the headers only declare those workers; their one definition is in the static library built
///   from src/*.cpp, so a TU calling pack() or balance() parses and compiles none of the algorithms.
///   Plans are bit-identical in both modes (the same code runs). Use one mode per program: every
///   TU that links fulcrum::compiled gets FULCRUM_COMPILED from the target.
#pragma once

#if defined(FULCRUM_COMPILED)
/// Declares a span-level worker: defined once in the fulcrum::compiled library.
#define FULCRUM_WORKER
#else
/// Declares a span-level worker: an inline function defined in the headers.
#define FULCRUM_WORKER inline
#endif
