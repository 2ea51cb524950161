# cmake -DROOT=<source dir> -P CheckCpuOnly.cmake
# Fails if a header outside include/fulcrum/{cuda,nccl} includes CUDA, Thrust, CUB or NCCL, or
# a header outside an mpi header includes mpi.h.
include("${CMAKE_CURRENT_LIST_DIR}/HeaderRules.cmake")
fulcrum_forbid_lines("^fulcrum/(cuda|nccl)/" FALSE "^[ \t]*#[ \t]*include.*[<\"](cuda_runtime|cuda/|thrust/|cub/|nccl)" "")
fulcrum_forbid_lines("mpi" FALSE "^[ \t]*#[ \t]*include.*[<\"]mpi\\.h" "")
fulcrum_report_headers("CPU-only guarantee")
