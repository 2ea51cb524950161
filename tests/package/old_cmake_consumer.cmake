# cmake -DOLD_CMAKE=<cmake binary> -DPREFIX=<fulcrum install prefix> -DSOURCE=<consumer dir>
#       -DWORK=<scratch dir> -DCXX=<compiler> -P old_cmake_consumer.cmake
# Configures, builds and runs tests/package/consumer with an old CMake (3.16 from PyPI, installed
# by scripts/setup.sh) against an installed fulcrum. Prints FULCRUM_TEST_SKIPPED (CTest reports
# the test as skipped) when that CMake is not installed.
if(NOT OLD_CMAKE OR NOT EXISTS "${OLD_CMAKE}")
  message("FULCRUM_TEST_SKIPPED: old CMake '${OLD_CMAKE}' not installed (scripts/setup.sh: ensure_old_cmake)")
  return()
endif()
file(REMOVE_RECURSE "${WORK}")
foreach(_step configure build run)
  if(_step STREQUAL "configure")
    set(_cmd "${OLD_CMAKE}" -S "${SOURCE}" -B "${WORK}" "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DCMAKE_CXX_COMPILER=${CXX}"
             -DCMAKE_BUILD_TYPE=Release)
  elseif(_step STREQUAL "build")
    set(_cmd "${OLD_CMAKE}" --build "${WORK}")
  else()
    set(_cmd "${WORK}/consumer")
  endif()
  execute_process(COMMAND ${_cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${_step} with ${OLD_CMAKE} failed (${rc}):\n${out}\n${err}")
  endif()
endforeach()
execute_process(COMMAND "${OLD_CMAKE}" --version OUTPUT_VARIABLE _v)
string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+" _v "${_v}")
message("consumer built by CMake ${_v}: ${out}")
