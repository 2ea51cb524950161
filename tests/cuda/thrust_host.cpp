// fulcrum::cuda's Thrust code paths on the host device system (THRUST_DEVICE_SYSTEM_CPP),
// compared bit for bit with the CPU algorithms. Runs in CPU CI (label thrust_host).
#define FULCRUM_CUDA_TEST_SUITE "thrust_host"
#include "equality_cases.hpp"
