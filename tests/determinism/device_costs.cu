// Compiled to PTX by nvcc with contraction allowed (-fmad=true, nvcc's default) by
// tests/determinism/CMakeLists.txt; check_ptx_no_fma.cmake fails if the PTX holds a fused
// double multiply-add: the cost models must round every product on the device as on the CPU
// (core/detail/float.hpp), whatever flags the consumer's own kernels use.
#include <fulcrum/core/cost_model.hpp>

struct length_item {
  double length;
};

__global__ void linear_costs(const double* l, double* out, int n, fulcrum::linear_cost m) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] = m(l[i]);
}

__global__ void attention_costs(const double* l, double* out, int n, fulcrum::attention_cost m) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] = m(l[i]);
}

__global__ void composite_costs(const length_item* x, double* out, int n, fulcrum::linear_cost a, fulcrum::attention_cost b) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const fulcrum::composite_cost both{fulcrum::projected_cost{a, &length_item::length}, fulcrum::projected_cost{b, &length_item::length}};
  if (i < n) out[i] = both(x[i]);
}
