# Shared by the header rule scripts run with `cmake -DROOT=<source dir> -P` (CheckCpuOnly.cmake,
# CheckModuleLayers.cmake): the header list, one line rule, and the report.
file(GLOB_RECURSE fulcrum_headers RELATIVE "${ROOT}/include" "${ROOT}/include/fulcrum/*.hpp"
     "${ROOT}/include/fulcrum/*.cuh")
set(fulcrum_header_problems "")

# fulcrum_forbid_lines(<path regex> <TRUE|FALSE> <line regex> <why>): in every header whose path
# (relative to include/) matches <path regex> (TRUE) or does not (FALSE), each line matching
# <line regex> is a problem, reported as "header: line<why>".
function(fulcrum_forbid_lines path_regex path_matches line_regex why)
  set(_bad "${fulcrum_header_problems}")
  foreach(_h IN LISTS fulcrum_headers)
    if(_h MATCHES "${path_regex}")
      set(_in TRUE)
    else()
      set(_in FALSE)
    endif()
    if(NOT _in STREQUAL path_matches)
      continue()
    endif()
    file(STRINGS "${ROOT}/include/${_h}" _lines REGEX "${line_regex}")
    foreach(_line IN LISTS _lines)
      list(APPEND _bad "${_h}: ${_line}${why}")
    endforeach()
  endforeach()
  set(fulcrum_header_problems "${_bad}" PARENT_SCOPE)
endfunction()

# fulcrum_report_headers(<what>): fails listing the problems, or says the rule holds.
function(fulcrum_report_headers what)
  if(fulcrum_header_problems)
    string(REPLACE ";" "\n  " _msg "${fulcrum_header_problems}")
    message(FATAL_ERROR "${what} broken:\n  ${_msg}")
  endif()
  list(LENGTH fulcrum_headers _n)
  message(STATUS "${what} holds for ${_n} headers")
endfunction()
