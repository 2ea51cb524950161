# cmake -DFUZZER=exe -DCORPUS=seed_dir -DWORK=work_dir -DSECONDS=n -P run_fuzzer.cmake
# Copies the seed corpus into WORK (the source tree is never written) and fuzzes for SECONDS.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/artifacts")
if(IS_DIRECTORY "${CORPUS}")
  file(GLOB _seeds "${CORPUS}/*")
  if(_seeds)
    file(COPY ${_seeds} DESTINATION "${WORK}/corpus")
  endif()
endif()
execute_process(
  COMMAND "${FUZZER}" -max_total_time=${SECONDS} -rss_limit_mb=2048 -max_len=4096 -timeout=20
          -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/ "${WORK}/corpus"
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "fuzzer failed (exit ${_rc}); crashing inputs are in ${WORK}/artifacts")
endif()
