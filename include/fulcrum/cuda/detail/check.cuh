// SPDX-License-Identifier: Apache-2.0
/// @file cuda/detail/check.cuh
/// Configuration and error checking for fulcrum::cuda.
///
/// - Refuses (readable #error) to be compiled by a plain C++ compiler unless
///   FULCRUM_CUDA_HOST_BACKEND is defined, in which case the Thrust device system defaults to
///   THRUST_DEVICE_SYSTEM_CPP and every fulcrum::cuda algorithm runs its Thrust code path on the host.
/// - FULCRUM_CUDA_DEVICE is 1 when the Thrust device system is CUDA (real GPU), else 0.
/// - FULCRUM_HD marks functions callable from host and device code.
/// - FULCRUM_CUDA_CHECK(expr, where) throws fulcrum::cuda::cuda_error with the CUDA error string.
#pragma once

#if defined(FULCRUM_CUDA_HOST_BACKEND)
#if !defined(THRUST_DEVICE_SYSTEM)
#define THRUST_DEVICE_SYSTEM THRUST_DEVICE_SYSTEM_CPP
#endif
#elif !defined(__CUDACC__)
#error "fulcrum/cuda/*.cuh must be compiled by nvcc (a .cu file linked to fulcrum::cuda). To run the Thrust code paths on the host instead, define FULCRUM_CUDA_HOST_BACKEND (THRUST_DEVICE_SYSTEM defaults to THRUST_DEVICE_SYSTEM_CPP) and add the CCCL include directory."
#endif

#include <thrust/detail/config.h>
#include <thrust/system_error.h>

#include <string>
#include <string_view>

#include "fulcrum/cuda/error.hpp"

#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
#define FULCRUM_CUDA_DEVICE 1
#if !defined(__CUDACC__)
#error "THRUST_DEVICE_SYSTEM is CUDA but this file is not compiled by nvcc; define FULCRUM_CUDA_HOST_BACKEND for the host backend."
#endif
#if !defined(__CUDACC_RELAXED_CONSTEXPR__)
#error "fulcrum::cuda needs nvcc --expt-relaxed-constexpr (the fulcrum::cuda CMake target sets it)."
#endif
#include <cuda_runtime.h>
#else
#define FULCRUM_CUDA_DEVICE 0
#endif

#if defined(__CUDACC__)
#define FULCRUM_HD __host__ __device__
#else
#define FULCRUM_HD
#endif

namespace fulcrum::cuda::detail {

#if FULCRUM_CUDA_DEVICE
/// Throws cuda_error for a failed CUDA call: "<where>: <name>: <description>".
[[noreturn]] inline void throw_cuda_error(cudaError_t code, std::string_view where) {
  std::string message(where);
  message += ": ";
  message += cudaGetErrorName(code);
  message += ": ";
  message += cudaGetErrorString(code);
  throw cuda_error(static_cast<int>(code), message);
}

inline void check(cudaError_t code, std::string_view where) {
  if (code != cudaSuccess) throw_cuda_error(code, where);
}
#endif

/// Runs `body()`, turning Thrust's system_error (a failed CUDA call inside Thrust or CUB) into
/// cuda_error carrying the CUDA error string.
template <class Body>
decltype(auto) translate_thrust_errors(std::string_view where, Body&& body) {
  try {
    return body();
  } catch (const thrust::system_error& e) {
    throw cuda_error(e.code().value(), std::string(where) + ": " + e.what());
  }
}

}  // namespace fulcrum::cuda::detail

#if FULCRUM_CUDA_DEVICE
/// Checks a cudaError_t-returning expression; throws fulcrum::cuda::cuda_error on failure.
#define FULCRUM_CUDA_CHECK(expr, where) ::fulcrum::cuda::detail::check((expr), (where))
/// Checks the last kernel launch (configuration errors) without synchronizing.
#define FULCRUM_CUDA_CHECK_LAUNCH(where) ::fulcrum::cuda::detail::check(cudaGetLastError(), (where))
#else
#define FULCRUM_CUDA_CHECK(expr, where) ((void)(where))
#define FULCRUM_CUDA_CHECK_LAUNCH(where) ((void)(where))
#endif
