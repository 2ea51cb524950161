# cmake -DROOT=<source dir> -P CheckTestNames.cmake
# doctest_discover_tests looks up a case's TEST_SUITE labels with an unescaped --test-case filter,
# so a name holding ',' or ';' loses its labels (a gpu case would then run on CPU CI) and CTest
# splits ';'. Fails when any TEST_CASE name under tests/ holds either character.
file(GLOB_RECURSE _sources "${ROOT}/tests/*.cpp" "${ROOT}/tests/*.hpp" "${ROOT}/tests/*.cu")
set(_bad "")
foreach(_f IN LISTS _sources)
  file(STRINGS "${_f}" _lines REGEX "TEST_CASE(_TEMPLATE)?\\(\"[^\"]*[,;]")
  foreach(_l IN LISTS _lines)
    string(STRIP "${_l}" _l)
    list(APPEND _bad "${_f}: ${_l}")
  endforeach()
endforeach()
if(_bad)
  string(REPLACE ";" "\n  " _msg "${_bad}")
  message(FATAL_ERROR "test names must not contain ',' or ';':\n  ${_msg}")
endif()
