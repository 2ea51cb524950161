// SPDX-License-Identifier: Apache-2.0
/// @file cuda/cost.cuh
/// Cost evaluation over device arrays: out[i] = model(proj(items[i])), validated like the CPU.
///
/// What: the GPU twin of fulcrum::evaluate_costs (core/cost_model.hpp) for any cost model that
/// is callable in device code: identity_cost, linear_cost, attention_cost, projected_cost,
/// composite_cost and user models with constexpr or __host__ __device__ call operators.
/// Complexity: O(n) work, one transform and one find_if on the policy's stream.
/// Guarantee: the same doubles as the CPU, bit for bit: the models fix their evaluation order
/// ((a*L + (b*L)*L) + c, parts summed left to right) and compute every product with
/// detail::mul (core/detail/float.hpp: __dmul_rn in device code), which nvcc never contracts
/// into an FMA whatever -fmad says; fulcrum::cuda does not impose -fmad=false on the consumer's
/// own kernels. A user model must do the same (detail::mul, or __dmul_rn / __fmul_rn) to match
/// the CPU bit for bit. A NaN, infinite or negative cost
/// throws invalid_input with the CPU's message ("<where>: cost[i] = v: is negative") for the
/// first bad index; `out` then holds unspecified values.
#pragma once

#include "fulcrum/cuda/detail/check.cuh"  // first: configuration (nvcc / host backend) before Thrust

#include <thrust/device_vector.h>
#include <thrust/find.h>
#include <thrust/transform.h>

#include <cfloat>
#include <cstddef>
#include <functional>
#include <string_view>
#include <type_traits>

#include "fulcrum/concepts/cost_model.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/cuda/detail/runtime.cuh"
#include "fulcrum/cuda/policy.cuh"

namespace fulcrum::cuda {

namespace detail {
/// model(proj(item)) as a device functor.
template <class Model, class Proj>
struct cost_of {
  Model model;
  Proj proj;
  template <class Item>
  FULCRUM_HD cost_t operator()(const Item& item) const {
    return static_cast<cost_t>(model(proj(item)));
  }
};

/// True for a cost the CPU rejects: NaN, infinite or negative (-0.0 is accepted, as on the CPU).
struct is_invalid_cost {
  FULCRUM_HD bool operator()(cost_t c) const { return !(c >= 0.0) || c > DBL_MAX; }
};

/// Throws invalid_input with the CPU's message for the first invalid cost, if any.
inline void validate_costs(const execution_policy& policy, device_span<const cost_t> costs, std::string_view where) {
  if (costs.empty()) return;
  const cost_t* bad = translate_thrust_errors(where, [&] {
    return thrust::find_if(policy.thrust(), costs.begin(), costs.end(), is_invalid_cost{});
  });
  if (bad == costs.end()) return;
  const auto i = static_cast<std::size_t>(bad - costs.begin());
  cost_t value = 0;
  copy_to_host(policy, bad, 1, &value);
  fulcrum::detail::require_non_negative(where, "cost", i, value);
}
}  // namespace detail

/// Writes out[i] = model(proj(items[i])) for every item and validates the costs.
/// Throws invalid_input if out.size() != items.size() or a cost is NaN, infinite or negative.
template <class Item, class Model = identity_cost, class Proj = std::identity>
  requires cost_model_for<Model, std::remove_cvref_t<std::invoke_result_t<const Proj&, const Item&>>>
void evaluate_costs(const execution_policy& policy, device_span<const Item> items, device_span<cost_t> out,
                    const Model& model = {}, const Proj& proj = {}, std::string_view where = "evaluate_costs") {
  if (out.size() != items.size())
    throw invalid_input(fulcrum::detail::describe(where, "out.size()", out.size(), "must equal the number of items"));
  if (items.empty()) return;
  detail::translate_thrust_errors(where, [&] {
    thrust::transform(policy.thrust(), items.begin(), items.end(), out.begin(), detail::cost_of<Model, Proj>{model, proj});
  });
  detail::validate_costs(policy, device_span<const cost_t>(out), where);
}

/// Returns model(proj(items[i])) for every item in a new device vector (see above).
template <class Item, class Model = identity_cost, class Proj = std::identity>
  requires cost_model_for<Model, std::remove_cvref_t<std::invoke_result_t<const Proj&, const Item&>>>
[[nodiscard]] thrust::device_vector<cost_t> evaluate_costs(const execution_policy& policy, device_span<const Item> items,
                                                           const Model& model = {}, const Proj& proj = {},
                                                           std::string_view where = "evaluate_costs") {
  thrust::device_vector<cost_t> out(items.size());
  detail::settle_default_stream(where);
  evaluate_costs(policy, items, device_span<cost_t>(out), model, proj, where);
  return out;
}

template <class Item, class Alloc, class Model = identity_cost, class Proj = std::identity>
  requires cost_model_for<Model, std::remove_cvref_t<std::invoke_result_t<const Proj&, const Item&>>>
[[nodiscard]] thrust::device_vector<cost_t> evaluate_costs(const execution_policy& policy,
                                                           const thrust::device_vector<Item, Alloc>& items,
                                                           const Model& model = {}, const Proj& proj = {},
                                                           std::string_view where = "evaluate_costs") {
  return evaluate_costs(policy, device_span<const Item>(items), model, proj, where);
}

}  // namespace fulcrum::cuda
