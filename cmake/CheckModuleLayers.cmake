# cmake -DROOT=<source dir> -P CheckModuleLayers.cmake
# Fails if
#  - a header under include/fulcrum/pipeline includes fulcrum/recompute (recompute/ builds on
#    pipeline/, never the other way: no module cycle), or
#  - a public type that a front door returns or takes is defined in a detail/ header (public
#    types live in public headers): pipeline_plan, pipeline_search_options, rank_packing,
#    stage_partition, recompute_plan, recompute_option, partition, packing.
include("${CMAKE_CURRENT_LIST_DIR}/HeaderRules.cmake")
fulcrum_forbid_lines("^fulcrum/pipeline/" TRUE "^[ \t]*#[ \t]*include[ \t]*[<\"]fulcrum/recompute/"
                     " (pipeline/ must not depend on recompute/)")
fulcrum_forbid_lines(
  "/detail/" TRUE
  "^[ \t]*(struct|class)[ \t]+(pipeline_plan|pipeline_search_options|rank_packing|stage_partition|recompute_plan|recompute_option|partition|packing)[ \t]*({|:|final|$)"
  " (a public type defined in a detail/ header)")
fulcrum_report_headers("Module layering")
