// SPDX-License-Identifier: Apache-2.0
/// @file cuda/detail/runtime.cuh
/// Internals shared by the fulcrum::cuda algorithms: stream-ordered scratch buffers, host<->device
/// copies and the "one problem per block" launcher, each with a host-backend twin.
#pragma once

#include "fulcrum/cuda/detail/check.cuh"  // first: configuration (nvcc / host backend) before Thrust

#include <thrust/device_vector.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "fulcrum/cuda/detail/check.cuh"
#include "fulcrum/cuda/policy.cuh"

namespace fulcrum::cuda::detail {

/// Uninitialised device scratch memory of n elements, allocated and freed on the policy's
/// stream (cudaMallocAsync/cudaFreeAsync); plain host memory on the host backend.
template <class T>
class buffer {
 public:
  buffer(const execution_policy& policy, std::size_t n) : size_(n) {
#if FULCRUM_CUDA_DEVICE
    stream_ = policy.stream();
    if (n != 0) {
      void* p = nullptr;
      FULCRUM_CUDA_CHECK(cudaMallocAsync(&p, n * sizeof(T), stream_), "fulcrum::cuda: scratch allocation");
      data_ = static_cast<T*>(p);
    }
#else
    (void)policy;
    host_.resize(n);
    data_ = host_.data();
#endif
  }
  buffer(const buffer&) = delete;
  buffer& operator=(const buffer&) = delete;
  ~buffer() {
#if FULCRUM_CUDA_DEVICE
    if (data_ != nullptr) (void)cudaFreeAsync(data_, stream_);
#endif
  }
  [[nodiscard]] T* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] device_span<T> span() const noexcept { return device_span<T>(data_, size_); }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
#if FULCRUM_CUDA_DEVICE
  stream_type stream_ = nullptr;
#else
  std::vector<T> host_;
#endif
};

/// Copies n elements from device memory to host memory (stream-ordered, then synchronized).
template <class T>
void copy_to_host(const execution_policy& policy, const T* src, std::size_t n, T* dst) {
  if (n == 0) return;
#if FULCRUM_CUDA_DEVICE
  FULCRUM_CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(T), cudaMemcpyDeviceToHost, policy.stream()),
                     "fulcrum::cuda: copy to host");
  policy.synchronize("fulcrum::cuda: copy to host");
#else
  (void)policy;
  std::copy(src, src + n, dst);
#endif
}

template <class T>
[[nodiscard]] std::vector<T> to_host(const execution_policy& policy, device_span<const T> src) {
  std::vector<T> out(src.size());
  copy_to_host(policy, src.data(), src.size(), out.data());
  return out;
}

/// Elements [first, first+count) of a device vector, copied to the host (default stream; callers
/// use it on finished results). Empty ranges copy nothing.
template <class T, class A>
[[nodiscard]] std::vector<T> to_host(const thrust::device_vector<T, A>& v, std::size_t first, std::size_t count) {
  std::vector<T> out(count);
  copy_to_host(par, thrust::raw_pointer_cast(v.data()) + first, count, out.data());
  return out;
}
template <class T, class A>
[[nodiscard]] std::vector<T> to_host(const thrust::device_vector<T, A>& v) {
  return to_host(v, 0, v.size());
}

/// Copies n elements from host memory to device memory (stream-ordered; `src` must stay alive
/// until the stream reaches the copy, so callers synchronize before releasing it).
template <class T>
void copy_to_device(const execution_policy& policy, const T* src, std::size_t n, T* dst) {
  if (n == 0) return;
#if FULCRUM_CUDA_DEVICE
  FULCRUM_CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(T), cudaMemcpyHostToDevice, policy.stream()),
                     "fulcrum::cuda: copy to device");
#else
  (void)policy;
  std::copy(src, src + n, dst);
#endif
}

/// Waits for work Thrust issued on the default stream for the caller's convenience containers
/// (thrust::device_vector construction and resize fill on the default stream), so that kernels on
/// the policy's stream (possibly a non-blocking stream) never race with that fill.
inline void settle_default_stream([[maybe_unused]] std::string_view where) {
#if FULCRUM_CUDA_DEVICE
  FULCRUM_CUDA_CHECK(cudaStreamSynchronize(0), where);
#endif
}

#if FULCRUM_CUDA_DEVICE
/// One block per problem, one thread per block (the per-problem work is a sequential greedy);
/// `shared` is the block's dynamic shared memory, or nullptr when none was requested.
template <class F>
__global__ void problem_kernel(F f, std::size_t count, bool use_shared) {
  extern __shared__ __align__(16) unsigned char fulcrum_problem_shared[];
  for (std::size_t p = blockIdx.x; p < count; p += gridDim.x)
    if (threadIdx.x == 0) f(p, use_shared ? static_cast<void*>(fulcrum_problem_shared) : nullptr);
}
#endif

/// Calls f(p, shared) for every problem p < count, independently: on the GPU one block per
/// problem with `shared_bytes` of shared memory (shared == nullptr when shared_bytes == 0 or it
/// does not fit, the functor then uses global scratch); on the host backend through
/// thrust::for_each (sequential with CPP, parallel with OMP).
template <class F>
void for_each_problem(const execution_policy& policy, std::size_t count, std::size_t shared_bytes, F f,
                      const char* where) {
  if (count == 0) return;
#if FULCRUM_CUDA_DEVICE
  constexpr std::size_t max_shared = 48 * 1024;
  const bool use_shared = shared_bytes != 0 && shared_bytes <= max_shared;
  const std::size_t blocks = count < 65535u * 32u ? count : 65535u * 32u;
  problem_kernel<<<static_cast<unsigned>(blocks), 1, use_shared ? shared_bytes : 0, policy.stream()>>>(f, count,
                                                                                                    use_shared);
  FULCRUM_CUDA_CHECK_LAUNCH(where);
#else
  (void)shared_bytes;
  (void)where;
  thrust::for_each(policy.thrust(), thrust::counting_iterator<std::size_t>(0), thrust::counting_iterator<std::size_t>(count),
                   [f](std::size_t p) { f(p, nullptr); });
#endif
}

}  // namespace fulcrum::cuda::detail
