// SPDX-License-Identifier: Apache-2.0
/// @file cuda/policy.cuh
/// Execution policy and device views for the fulcrum::cuda backends.
///
/// Every GPU overload takes the policy first:
///
///     auto plan = fulcrum::cuda::lpt(fulcrum::cuda::par_on(stream), costs, k);
///
/// - `par_on(stream)`: all kernels, copies, allocations (cudaMallocAsync) and Thrust/CUB calls
///   of the call are issued on `stream`; `par` is the default stream. A call returns once its
///   work on that stream is complete (it must read back a few scalars to validate the input and
///   to throw `invalid_input`/`infeasible` like the CPU), so results are ready to use on return.
/// - `device_span<T>`: a non-owning view of device memory (pointer + size); converts from
///   `thrust::device_vector<T>&`. Under the host backend (FULCRUM_CUDA_HOST_BACKEND) "device"
///   memory is host memory and the same code runs through Thrust's CPP device system.
#pragma once

#include "fulcrum/cuda/detail/check.cuh"  // first: configuration (nvcc / host backend) before Thrust

#include <thrust/device_vector.h>
#include <thrust/execution_policy.h>

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "fulcrum/cuda/detail/check.cuh"

#if FULCRUM_CUDA_DEVICE
#include <thrust/system/cuda/execution_policy.h>
#endif

namespace fulcrum::cuda {

#if FULCRUM_CUDA_DEVICE
/// The stream type: cudaStream_t on the GPU backend.
using stream_type = cudaStream_t;
#else
/// The stream type: an opaque pointer on the host backend (there are no streams; pass nullptr).
using stream_type = void*;
#endif

/// Where and how fulcrum::cuda work runs: a CUDA stream (nullptr = default stream).
class execution_policy {
 public:
  constexpr execution_policy() noexcept = default;
  constexpr explicit execution_policy(stream_type stream) noexcept : stream_(stream) {}

  /// The stream all work of a call is issued on.
  [[nodiscard]] constexpr stream_type stream() const noexcept { return stream_; }

  /// The matching Thrust execution policy (CUDA: par_nosync on the stream; host: thrust::device).
  [[nodiscard]] auto thrust() const noexcept {
#if FULCRUM_CUDA_DEVICE
    return ::thrust::cuda::par_nosync.on(stream_);
#else
    return ::thrust::device;
#endif
  }

  /// Blocks until the stream's work is done; throws cuda_error if any of it failed.
  void synchronize([[maybe_unused]] std::string_view where = "fulcrum::cuda") const {
#if FULCRUM_CUDA_DEVICE
    FULCRUM_CUDA_CHECK(cudaStreamSynchronize(stream_), where);
#endif
  }

 private:
  stream_type stream_ = nullptr;
};

/// The policy for work on `stream`.
[[nodiscard]] constexpr execution_policy par_on(stream_type stream) noexcept { return execution_policy(stream); }
/// The policy for the default stream.
inline constexpr execution_policy par{};

/// A non-owning view of `size()` elements of device memory.
template <class T>
class device_span {
 public:
  using element_type = T;
  constexpr device_span() noexcept = default;
  constexpr device_span(T* data, std::size_t size) noexcept : data_(data), size_(size) {}
  /// From a device vector (const view from a const vector).
  template <class U, class A>
    requires std::is_convertible_v<U (*)[], T (*)[]>
  device_span(thrust::device_vector<U, A>& v) noexcept  // NOLINT(google-explicit-constructor)
      : data_(thrust::raw_pointer_cast(v.data())), size_(v.size()) {}
  template <class U, class A>
    requires std::is_convertible_v<const U (*)[], T (*)[]>
  device_span(const thrust::device_vector<U, A>& v) noexcept  // NOLINT(google-explicit-constructor)
      : data_(thrust::raw_pointer_cast(v.data())), size_(v.size()) {}
  /// Adds const.
  template <class U>
    requires(!std::is_same_v<U, T> && std::is_convertible_v<U (*)[], T (*)[]>)
  constexpr device_span(device_span<U> other) noexcept  // NOLINT(google-explicit-constructor)
      : data_(other.data()), size_(other.size()) {}

  [[nodiscard]] constexpr T* data() const noexcept { return data_; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
  [[nodiscard]] constexpr bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] constexpr T* begin() const noexcept { return data_; }
  [[nodiscard]] constexpr T* end() const noexcept { return data_ + size_; }
  [[nodiscard]] constexpr device_span subspan(std::size_t offset, std::size_t count) const noexcept {
    return device_span(data_ + offset, count);
  }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

/// A view of a device vector.
template <class T, class A>
[[nodiscard]] device_span<T> view(thrust::device_vector<T, A>& v) noexcept {
  return device_span<T>(v);
}
template <class T, class A>
[[nodiscard]] device_span<const T> view(const thrust::device_vector<T, A>& v) noexcept {
  return device_span<const T>(v);
}

}  // namespace fulcrum::cuda
