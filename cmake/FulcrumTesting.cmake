# Helpers for fulcrum's tests. One doctest executable per folder under tests/unit/, every
# TEST_CASE registered with CTest (labels = TEST_SUITE names: gpu, nccl, mpi, slow, ...).
include_guard(GLOBAL)
find_package(doctest REQUIRED)
include(doctest)

if(NOT TARGET fulcrum_doctest_main)
  add_library(fulcrum_doctest_main OBJECT "${PROJECT_SOURCE_DIR}/tests/unit/doctest_main.cpp")
  target_link_libraries(fulcrum_doctest_main PUBLIC doctest::doctest fulcrum::fulcrum fulcrum_warnings)
endif()

# fulcrum_add_test(NAME name SOURCES a.cpp b.cpp [LIBRARIES libs...])
function(fulcrum_add_test)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;LIBRARIES" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES} $<TARGET_OBJECTS:fulcrum_doctest_main>)
  target_link_libraries(${ARG_NAME} PRIVATE doctest::doctest fulcrum::fulcrum fulcrum_warnings ${ARG_LIBRARIES})
  target_compile_definitions(${ARG_NAME} PRIVATE FULCRUM_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                                 FULCRUM_BINARY_DIR="${PROJECT_BINARY_DIR}")
  doctest_discover_tests(${ARG_NAME} TEST_PREFIX "${ARG_NAME}." ADD_LABELS 1
                         PROPERTIES TIMEOUT 600)
endfunction()

# fulcrum_add_unit_dirs(): one test executable per subfolder of tests/unit holding *.cpp files.
function(fulcrum_add_unit_dirs)
  file(GLOB _dirs LIST_DIRECTORIES true "${PROJECT_SOURCE_DIR}/tests/unit/*")
  foreach(_dir IN LISTS _dirs)
    if(NOT IS_DIRECTORY "${_dir}")
      continue()
    endif()
    get_filename_component(_area "${_dir}" NAME)
    file(GLOB _sources CONFIGURE_DEPENDS "${_dir}/*.cpp")
    if(_sources)
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
