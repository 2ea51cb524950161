// Must NOT compile: a fulcrum/cuda header included by a plain C++ compiler without
// FULCRUM_CUDA_HOST_BACKEND stops with a readable #error (checked by CTest).
#include <fulcrum/cuda/lpt.cuh>

int main() { return 0; }
