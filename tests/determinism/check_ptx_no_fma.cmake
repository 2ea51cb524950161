# cmake -DNVCC=<nvcc> -DSOURCE=<.cu> -DINCLUDE=<fulcrum include dir> -DOUT=<.ptx> -P check_ptx_no_fma.cmake
# Compiles SOURCE to PTX with nvcc's default contraction (-fmad=true) and fails if the PTX holds
# a fused double multiply-add (fma.rn.f64): fulcrum's cost arithmetic must not be contracted.
execute_process(COMMAND "${NVCC}" -std=c++20 --expt-relaxed-constexpr -fmad=true -ptx "-I${INCLUDE}" "${SOURCE}" -o "${OUT}"
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "nvcc failed (${_rc}):\n${_out}\n${_err}")
endif()
file(STRINGS "${OUT}" _fma REGEX "fma\\.rn\\.f64")
if(_fma)
  list(LENGTH _fma _n)
  string(REPLACE ";" "\n  " _lines "${_fma}")
  message(FATAL_ERROR "${_n} fused multiply-adds in the device cost code (plans would differ from the CPU):\n  ${_lines}")
endif()
file(STRINGS "${OUT}" _mul REGEX "mul\\.rn\\.f64")
if(NOT _mul)
  message(FATAL_ERROR "no mul.rn.f64 in the PTX: the check did not see the cost code")
endif()
message(STATUS "device cost code: no fma.rn.f64")
