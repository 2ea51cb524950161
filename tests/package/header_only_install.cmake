# cmake -DROOT=<source> -DWORK=<scratch dir> -DGENERATOR=<gen> -DCXX=<compiler> -P header_only_install.cmake
# The tutorial's header-only install (docs/tutorial.md, section 3): configure with tests off and
# install without building anything, on a machine without CLI11 (find_package(CLI11) disabled).
# Then: headers and fulcrumConfig.cmake are installed, no fulcrum-plan; and FULCRUM_BUILD_TOOLS=ON
# without CLI11 stops the configure with a message naming CLI11.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(_common -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX}" -DCMAKE_DISABLE_FIND_PACKAGE_CLI11=ON)

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()

# 1. The tutorial's two commands, as written there.
run("configure" "${CMAKE_COMMAND}" -S "${ROOT}" -B "${WORK}/b" ${_common} -DFULCRUM_BUILD_TESTS=OFF)
run("install" "${CMAKE_COMMAND}" --install "${WORK}/b" --prefix "${WORK}/prefix")
foreach(_f include/fulcrum/fulcrum.hpp include/fulcrum/version.hpp share/cmake/fulcrum/fulcrumConfig.cmake
           share/cmake/fulcrum/fulcrum-targets.cmake)
  if(NOT EXISTS "${WORK}/prefix/${_f}")
    message(FATAL_ERROR "header-only install lacks ${_f}")
  endif()
endforeach()
if(EXISTS "${WORK}/prefix/bin/fulcrum-plan")
  message(FATAL_ERROR "header-only install holds fulcrum-plan, which was never built")
endif()

# 2. Asking for the tool without CLI11 is a clear configure error.
execute_process(COMMAND "${CMAKE_COMMAND}" -S "${ROOT}" -B "${WORK}/tools" ${_common} -DFULCRUM_BUILD_TESTS=OFF
                        -DFULCRUM_BUILD_EXAMPLES=OFF -DFULCRUM_BUILD_TOOLS=ON
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "FULCRUM_BUILD_TOOLS=ON but CLI11 was not found")
  message(FATAL_ERROR "FULCRUM_BUILD_TOOLS=ON without CLI11 should fail naming CLI11 (rc ${rc}):\n${err}")
endif()
message(STATUS "header-only install: ok")
