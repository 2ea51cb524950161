// fulcrum::cuda on the GPU, compared bit for bit with the CPU algorithms (label gpu; needs a
// CUDA device: ctest -L gpu). The cases are those of the host-backend tests.
#define FULCRUM_CUDA_TEST_SUITE "gpu"
#include "equality_cases.hpp"
