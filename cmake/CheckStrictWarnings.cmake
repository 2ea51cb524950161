# cmake -DCXX=<compiler> -DSOURCE=<all-headers TU> -DINCLUDE=<include dir> [-DSTDLIB=libc++]
#       [-DDEFINES=A;B] -P CheckStrictWarnings.cmake
# Compiles a consumer translation unit that includes every CPU public header (generated at
# configure time, headers NOT marked as system headers) with the strict warning set and -Werror.
# Prints FULCRUM_TEST_SKIPPED (CTest: skipped) when the compiler, or the requested standard
# library, is not installed.
set(_flags -std=c++20 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast -Werror)
if(NOT CXX OR NOT EXISTS "${CXX}")
  message("FULCRUM_TEST_SKIPPED: compiler '${CXX}' not installed")
  return()
endif()
if(STDLIB)
  list(APPEND _flags -stdlib=${STDLIB})
  file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/stdlib_probe.cpp" "#include <vector>\nint main() { return std::vector<int>{}.size() != 0; }\n")
  execute_process(COMMAND "${CXX}" -std=c++20 -stdlib=${STDLIB} -fsyntax-only "${CMAKE_CURRENT_BINARY_DIR}/stdlib_probe.cpp"
                  RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT _rc EQUAL 0)
    message("FULCRUM_TEST_SKIPPED: ${STDLIB} not installed for ${CXX}")
    return()
  endif()
endif()
foreach(_d IN LISTS DEFINES)
  list(APPEND _flags -D${_d})
endforeach()
execute_process(COMMAND "${CXX}" ${_flags} "-I${INCLUDE}" -fsyntax-only "${SOURCE}"
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0 OR _err MATCHES "warning")
  message(FATAL_ERROR "strict warnings (${CXX} ${_flags}):\n${_out}${_err}")
endif()
message("strict warnings: ok (${CXX} ${_flags})")
