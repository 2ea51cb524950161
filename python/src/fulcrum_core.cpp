// SPDX-License-Identifier: Apache-2.0
/// @file python/src/fulcrum_core.cpp
/// `fulcrum._core`: the nanobind extension behind the `fulcrum` Python package (docs/python.md).
/// This is the module file: exceptions, version, and the bindings of every area, each in its own
/// translation unit (python/src/bind_<area>.cpp, declared in common.hpp) so that an edit rebuilds
/// one area only.
///
/// Every function takes one-dimensional C-contiguous CPU arrays of a fixed dtype (the Python layer,
/// python/fulcrum/__init__.py, converts whatever the caller gives once: unsigned -> uint64, signed ->
/// int64, floating -> float64), hands them to the C++ front door as spans (uint64 sizes are read in
/// place), releases the GIL for the solve and returns plain numpy arrays that own the C++ vectors'
/// memory (moved, not copied). Validation and error messages are the C++ library's own:
/// fulcrum::invalid_input -> fulcrum.InvalidInput (a ValueError), fulcrum::infeasible ->
/// fulcrum.Infeasible and fulcrum::comm_error -> fulcrum.CommError (RuntimeErrors).
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <string>

#include "common.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/version.hpp"

using namespace fulcrum_py;

NB_MODULE(_core, m) {
  m.doc() = "fulcrum._core: the C++ extension behind the fulcrum package (use the fulcrum module).";
  m.attr("__version__") = std::to_string(FULCRUM_VERSION_MAJOR) + "." + std::to_string(FULCRUM_VERSION_MINOR) + "." +
                          std::to_string(FULCRUM_VERSION_PATCH);

  nb::exception<fulcrum::invalid_input>(m, "InvalidInput", PyExc_ValueError);
  nb::exception<fulcrum::infeasible>(m, "Infeasible", PyExc_RuntimeError);
  nb::exception<fulcrum::comm_error>(m, "CommError", PyExc_RuntimeError);

  // Registration order is overload order: the 1-D pack_for_ranks (bind_pack) before the
  // multi-dimensional one (bind_runtime).
  bind_pack(m);
  bind_layout(m);
  bind_runtime(m);
  bind_pipeline(m);
  bind_balance(m);
}
