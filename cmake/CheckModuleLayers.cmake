# cmake -DROOT=<source dir> -P CheckModuleLayers.cmake
# Fails if
#  - a header under include/fulcrum/pipeline includes fulcrum/recompute (recompute/ builds on
#    pipeline/, never the other way: no module cycle), or
#  - a public type that a front door returns or takes is defined in a detail/ header (public
#    types live in public headers): pipeline_plan, pipeline_search_options, rank_packing,
#    stage_partition, recompute_plan, recompute_option, partition, packing.
file(GLOB_RECURSE _headers RELATIVE "${ROOT}/include" "${ROOT}/include/fulcrum/*.hpp" "${ROOT}/include/fulcrum/*.cuh")
set(_public_types pipeline_plan pipeline_search_options rank_packing stage_partition recompute_plan recompute_option
                  partition packing)
set(_bad "")
foreach(_h IN LISTS _headers)
  file(STRINGS "${ROOT}/include/${_h}" _lines)
  if(_h MATCHES "^fulcrum/pipeline/")
    foreach(_line IN LISTS _lines)
      if(_line MATCHES "^[ \t]*#[ \t]*include[ \t]*[<\"]fulcrum/recompute/")
        list(APPEND _bad "${_h}: ${_line} (pipeline/ must not depend on recompute/)")
      endif()
    endforeach()
  endif()
  if(_h MATCHES "/detail/")
    foreach(_line IN LISTS _lines)
      foreach(_t IN LISTS _public_types)
        if(_line MATCHES "^[ \t]*(struct|class)[ \t]+${_t}[ \t]*(\\{|:|final|$)")
          list(APPEND _bad "${_h}: defines public type ${_t} in a detail/ header")
        endif()
      endforeach()
    endforeach()
  endif()
endforeach()
if(_bad)
  string(REPLACE ";" "\n  " _msg "${_bad}")
  message(FATAL_ERROR "Module layering broken:\n  ${_msg}")
endif()
list(LENGTH _headers _n)
message(STATUS "Module layering holds for ${_n} headers")
