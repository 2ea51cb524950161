// SPDX-License-Identifier: Apache-2.0
/// @file core/detail/float.hpp
/// Floating-point arithmetic that no build may contract: the one place that keeps plans
/// bit-identical across compilers, flags and devices.
///
/// The rule (for every header of the library): a product that is then added to or subtracted
/// from something, in any computation whose result is a cost, a bound or a comparison that
/// decides a plan, is written `detail::mul(a, b)`, never `a * b`. Sums are written in a fixed
/// order with explicit parentheses. Why: a compiler may contract `a * b + c` into one fused
/// multiply-add (one rounding instead of two) whenever the target has FMA and the consumer's
/// flags allow it: g++ does so by default in GNU mode (-std=gnu++20, -ffp-contract=fast) at
/// -O2 -march=haswell or -march=x86-64-v3, clang by default (-ffp-contract=on) within an
/// expression, nvcc by default (-fmad=true). The two roundings and the fused one differ in the
/// last bit, so costs, loads and bounds -- and through ties and cuts, plans -- would depend on the
/// flags of whoever includes the header.
///
/// How: `mul` returns the correctly rounded product through a value the optimiser cannot see
/// into, so it cannot be fused with the following addition:
///   - CUDA device code: __dmul_rn (never contracted by nvcc, whatever -fmad says); opaque(x) is
///     __dadd_rn(x, -0.0), the identity that no multiplication is fused into;
///   - g++ / clang host code: an empty asm statement that "modifies" the product in its register
///     (no instruction is emitted; the product stays a separately rounded double);
///   - other compilers (MSVC: /fp:precise does not contract since Visual Studio 2022): plain a * b;
///   - constant evaluation: plain a * b (the constant evaluator never contracts).
/// Cost: one multiply, as before; what is lost is the fusion (and auto-vectorisation of a loop
/// around it). Measured (g++ 12 -O2, x86-64 baseline, 2^20 lengths x 20, shared 2-core machine):
/// attention_cost 5.6 ns/item with the barrier vs 5.4 without, linear_cost 6.1 vs 5.3; std::fma,
/// the alternative (also deterministic, one rounding), 27 ns/item: without FMA hardware (the
/// x86-64 baseline) it is a software library call.
/// `opaque(x)` is the barrier alone: use it on a value that was computed by a multiplication in
/// code the library does not own (a user's cost model part) before adding it.
#pragma once

#include <type_traits>

namespace fulcrum::detail {

/// x, as a value the optimiser may not fuse with the arithmetic that produced it.
[[nodiscard]] constexpr double opaque(double x) noexcept {
  if (std::is_constant_evaluated()) return x;
#if defined(__CUDA_ARCH__)
  return __dadd_rn(x, -0.0);  // x + (-0) == x, -0 included; nvcc never fuses a multiplication into __dadd_rn
#elif (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__SSE2_MATH__))
  __asm__("" : "+x"(x));
  return x;
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
  __asm__("" : "+w"(x));
  return x;
#elif defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+m"(x));
  return x;
#else
  return x;
#endif
}

/// a * b rounded to double and never fused with a following addition (see file docs).
[[nodiscard]] constexpr double mul(double a, double b) noexcept {
  if (std::is_constant_evaluated()) return a * b;
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return opaque(a * b);
#endif
}

}  // namespace fulcrum::detail
