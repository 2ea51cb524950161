// SPDX-License-Identifier: Apache-2.0
/// @file cuda/error.hpp
/// `fulcrum::cuda::cuda_error`: the exception every fulcrum::cuda function throws when the CUDA
/// runtime (or Thrust/CUB on top of it) reports a failure. Host-clean: includes no CUDA header,
/// so code that only catches the error needs neither nvcc nor the CUDA include path.
///
/// The message is "<where>: <cudaGetErrorName>: <cudaGetErrorString>", e.g.
/// "fulcrum::cuda::lpt: cudaErrorMemoryAllocation: out of memory"; `code()` is the numeric
/// cudaError_t value. Errors in the input itself are `fulcrum::invalid_input` as on the CPU,
/// with the same message the CPU algorithm would give.
#pragma once

#include <stdexcept>
#include <string>

namespace fulcrum::cuda {

/// A CUDA runtime failure (allocation, launch, illegal address, ...). Derives from std::runtime_error.
class cuda_error : public std::runtime_error {
 public:
  cuda_error(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  /// The cudaError_t value (0 is never thrown).
  [[nodiscard]] int code() const noexcept { return code_; }

 private:
  int code_;
};

}  // namespace fulcrum::cuda
