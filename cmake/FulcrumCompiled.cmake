# fulcrum::compiled: the optional compiled mode (like {fmt} without FMT_HEADER_ONLY).
#
# A static library holding the span-level workers behind the CPU front doors (src/*.cpp; the list
# is in fulcrum/config.hpp). Linking it defines FULCRUM_COMPILED for the consumer, so the headers
# only declare those workers and a TU calling pack()/balance()/... compiles none of the algorithms.
# Plans are bit-identical to the header-only default (fulcrum::fulcrum, unchanged).
#
# The target always exists in a build tree (built only when something links it); with
# FULCRUM_BUILD_COMPILED=ON it is part of `all` and installed as the component `compiled`:
#   find_package(fulcrum CONFIG REQUIRED COMPONENTS compiled)
#   target_link_libraries(app PRIVATE fulcrum::compiled)
option(FULCRUM_BUILD_COMPILED "Build and install fulcrum::compiled (the span-level workers as a static library)" OFF)

if(FULCRUM_BUILD_COMPILED)
  add_library(fulcrum_compiled STATIC)
else()
  add_library(fulcrum_compiled STATIC EXCLUDE_FROM_ALL)
endif()
add_library(fulcrum::compiled ALIAS fulcrum_compiled)
target_sources(fulcrum_compiled PRIVATE
  "${CMAKE_CURRENT_LIST_DIR}/../src/pack.cpp"
  "${CMAKE_CURRENT_LIST_DIR}/../src/balance.cpp"
  "${CMAKE_CURRENT_LIST_DIR}/../src/pipeline.cpp"
  "${CMAKE_CURRENT_LIST_DIR}/../src/comm.cpp")
target_link_libraries(fulcrum_compiled PUBLIC fulcrum::fulcrum)
target_compile_definitions(fulcrum_compiled PUBLIC FULCRUM_COMPILED)
target_compile_features(fulcrum_compiled PUBLIC cxx_std_20)
set_target_properties(fulcrum_compiled PROPERTIES
  EXPORT_NAME compiled
  OUTPUT_NAME fulcrum_compiled
  POSITION_INDEPENDENT_CODE ON)

if(FULCRUM_BUILD_COMPILED AND FULCRUM_INSTALL)
  install(TARGETS fulcrum_compiled EXPORT fulcrum-compiled-targets
          ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
  install(EXPORT fulcrum-compiled-targets NAMESPACE fulcrum::
          DESTINATION "${CMAKE_INSTALL_DATADIR}/cmake/fulcrum")
endif()
