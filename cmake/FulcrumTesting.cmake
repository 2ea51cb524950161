# Helpers for fulcrum's tests. One doctest executable per folder under tests/unit/ (the area),
# named fulcrum.test.<area>; every TEST_CASE registered with CTest as fulcrum.test.<area>.<case>,
# labelled with the area (`ctest -L balance` runs every balance test) and with its TEST_SUITE name
# (gpu, nccl, mpi, slow, properties, determinism, ...). A case that prints FULCRUM_TEST_SKIPPED
# (e.g. the CBC oracle without cbc) is reported by CTest as skipped, not passed.
include_guard(GLOBAL)
find_package(doctest REQUIRED)
include(doctest)

# doctest's discovery script labels a case with its suite only: a wrapper (generated next to the
# build) runs it, then adds the area label to every case it registered.
set(_fulcrum_doctest_original_script "${_DOCTEST_DISCOVER_TESTS_SCRIPT}")
set(FULCRUM_DOCTEST_DISCOVER_SCRIPT "${CMAKE_BINARY_DIR}/cmake/FulcrumDoctestAddTests.cmake")
configure_file("${CMAKE_CURRENT_LIST_DIR}/FulcrumDoctestAddTests.cmake.in" "${FULCRUM_DOCTEST_DISCOVER_SCRIPT}" @ONLY)

if(NOT TARGET fulcrum_doctest_main)
  add_library(fulcrum_doctest_main OBJECT "${PROJECT_SOURCE_DIR}/tests/unit/doctest_main.cpp")
  target_link_libraries(fulcrum_doctest_main PUBLIC doctest::doctest fulcrum::fulcrum fulcrum_warnings)
endif()

# fulcrum_add_test(NAME area SOURCES a.cpp b.cpp [LIBRARIES libs...]): executable fulcrum.test.<area>.
function(fulcrum_add_test)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;LIBRARIES" ${ARGN})
  set(_target fulcrum.test.${ARG_NAME})
  add_executable(${_target} ${ARG_SOURCES} $<TARGET_OBJECTS:fulcrum_doctest_main>)
  target_link_libraries(${_target} PRIVATE doctest::doctest fulcrum::fulcrum fulcrum_warnings ${ARG_LIBRARIES})
  target_compile_definitions(${_target} PRIVATE FULCRUM_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                                FULCRUM_BINARY_DIR="${PROJECT_BINARY_DIR}")
  set(_DOCTEST_DISCOVER_TESTS_SCRIPT "${FULCRUM_DOCTEST_DISCOVER_SCRIPT}")
  doctest_discover_tests(${_target} TEST_PREFIX "${_target}." ADD_LABELS 1
                         PROPERTIES TIMEOUT 600 SKIP_REGULAR_EXPRESSION FULCRUM_TEST_SKIPPED)
endfunction()

# Areas whose tests link fulcrum::compiled (FULCRUM_COMPILED: pack(), balance() and the other
# front doors call the workers built once in the library instead of instantiating every algorithm
# in every test file), so each area builds and runs alone in under 2 minutes on a 2-core machine
# (docs/benchmarks.md, "Compile time"). The same workers run header-only in the compiled.* tests
# (tests/compiled), which check both modes give identical plans.
set(FULCRUM_COMPILED_TEST_AREAS packing balance)

# fulcrum_add_unit_dirs(): one test executable per subfolder of tests/unit holding *.cpp files.
function(fulcrum_add_unit_dirs)
  file(GLOB _dirs LIST_DIRECTORIES true "${PROJECT_SOURCE_DIR}/tests/unit/*")
  foreach(_dir IN LISTS _dirs)
    if(NOT IS_DIRECTORY "${_dir}")
      continue()
    endif()
    get_filename_component(_area "${_dir}" NAME)
    file(GLOB _sources CONFIGURE_DEPENDS "${_dir}/*.cpp")
    if(_sources AND _area IN_LIST FULCRUM_COMPILED_TEST_AREAS)
      fulcrum_add_test(NAME ${_area} SOURCES ${_sources} LIBRARIES fulcrum::compiled)
    elseif(_sources)
      fulcrum_add_test(NAME ${_area} SOURCES ${_sources})
    endif()
  endforeach()
endfunction()

# fulcrum_add_compile_fail_test(NAME name SOURCE file.cpp REGEX "expected diagnostic")
# Passes when compiling SOURCE fails with a diagnostic matching REGEX.
function(fulcrum_add_compile_fail_test)
  cmake_parse_arguments(ARG "" "NAME;SOURCE;REGEX" "" ${ARGN})
  add_executable(${ARG_NAME} EXCLUDE_FROM_ALL "${ARG_SOURCE}")
  target_link_libraries(${ARG_NAME} PRIVATE fulcrum::fulcrum)
  add_test(NAME compile_fail.${ARG_NAME}
           COMMAND "${CMAKE_COMMAND}" --build "${PROJECT_BINARY_DIR}" --target ${ARG_NAME})
  set_tests_properties(compile_fail.${ARG_NAME} PROPERTIES LABELS compile_fail
                       PASS_REGULAR_EXPRESSION "${ARG_REGEX}")
endfunction()
