// SPDX-License-Identifier: Apache-2.0
/// @file core/cost_model.hpp
/// Cost models: what one item costs to process. All are cheap value types, usable on device
/// code paths too (no virtual calls, no allocation).
///
/// - identity_cost            cost = value (for items that are already costs or lengths)
/// - linear_cost{a, b}        a*L + b
/// - attention_cost{a, b, c}  a*L + b*L^2 + c (packed attention; OrchMLLM, WLB-LLM, verl)
/// - projected_cost{m, proj}  m(proj(item)), e.g. attention cost of a sample's total tokens
/// - composite_cost{parts...} sum of per-modality models (ViT phase + LLM phase)
/// - padded_cost{per_token}   a *group* model: longest length x count (batches padded to the longest)
/// - per_document_cost{a,b,c} (core/document_cost.hpp) a *group* model for packs: the sum over the
///                            pack's documents of a*L + b*L^2 (+ c once), not the pack's total length
///
/// Evaluation order is fixed ((a*L + (b*L)*L) + c), and every product goes through detail::mul
/// (core/detail/float.hpp), which no compiler may contract into an FMA: costs are bit-identical
/// on every platform, whatever the consumer's flags (-O2 -march=haswell, -ffp-contract=fast,
/// clang's default -ffp-contract=on, nvcc's -fmad=true) and in CUDA device code. composite_cost
/// adds its parts through detail::opaque, so a user's part ending in a product is not fused
/// either. -ffast-math (which allows reassociation) is not supported.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <limits>
#include <ranges>
#include <span>
#include <string_view>
#include <tuple>
#include <vector>

#include "fulcrum/concepts/cost_model.hpp"
#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/executor.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

/// cost = the value itself.
struct identity_cost {
  template <arithmetic T>
  [[nodiscard]] constexpr cost_t operator()(T value) const noexcept {
    return static_cast<cost_t>(value);
  }
};

/// cost = a*L + b.
struct linear_cost {
  double a = 1.0;
  double b = 0.0;
  template <arithmetic T>
  [[nodiscard]] constexpr cost_t operator()(T length) const noexcept {
    const double l = static_cast<double>(length);
    return detail::mul(a, l) + b;
  }
};

/// cost = a*L + b*L^2 + c. Defaults are the reference workloads' attention-like model L + L^2/4096.
struct attention_cost {
  double a = 1.0;
  double b = 1.0 / 4096.0;
  double c = 0.0;
  template <arithmetic T>
  [[nodiscard]] constexpr cost_t operator()(T length) const noexcept {
    const double l = static_cast<double>(length);
    const double linear = detail::mul(a, l);
    const double quadratic = detail::mul(b * l, l);
    return (linear + quadratic) + c;
  }
};

/// cost = model(proj(item)): applies a length model to one field of a richer item.
template <class Model, class Proj>
struct projected_cost {
  Model model{};
  Proj proj{};
  template <class Item>
    requires std::regular_invocable<const Proj&, const Item&> &&
             cost_model_for<Model, std::invoke_result_t<const Proj&, const Item&>>
  [[nodiscard]] constexpr cost_t operator()(const Item& item) const {
    return static_cast<cost_t>(std::invoke(model, std::invoke(proj, item)));
  }
};
template <class Model, class Proj>
projected_cost(Model, Proj) -> projected_cost<Model, Proj>;

/// cost = sum of its parts' costs, in order (one part per modality or phase).
template <class... Parts>
struct composite_cost {
  std::tuple<Parts...> parts;
  constexpr explicit composite_cost(Parts... p) : parts(std::move(p)...) {}
  template <class Item>
    requires(cost_model_for<Parts, Item> && ...)
  [[nodiscard]] constexpr cost_t operator()(const Item& item) const {
    return std::apply([&](const auto&... part) { return sum_in_order(static_cast<cost_t>(std::invoke(part, item))...); },
                      parts);
  }

 private:
  static constexpr cost_t sum_in_order(auto... c) {
    cost_t total = 0;
    ((total += detail::opaque(static_cast<double>(c))), ...);
    return total;
  }
};

/// Group model for padded batches: cost = per_token * longest * count. Not additive, so it is a
/// callable on a range of lengths rather than on one item.
struct padded_cost {
  double per_token = 1.0;
  template <std::ranges::input_range R>
    requires arithmetic<std::ranges::range_value_t<R>>
  [[nodiscard]] cost_t operator()(R&& lengths) const {
    double longest = 0;
    std::size_t count = 0;
    for (auto l : lengths) {
      longest = std::max(longest, static_cast<double>(l));
      ++count;
    }
    return per_token * longest * static_cast<double>(count);
  }
};

namespace detail {
/// evaluate_costs into `costs` (a vector of cost_t with any allocator; its storage is reused).
template <class Out, std::ranges::random_access_range R, class Model, class Proj>
void evaluate_costs_into(Out& costs, R&& items, const Model& model, const Proj& proj, std::string_view where,
                         const executor_ref& executor) {
  costs.clear();
  const auto n = static_cast<std::size_t>(std::ranges::size(items));
  if (executor.parallel() && n >= (std::size_t{1} << 16)) {
    costs.resize(n);
    const std::size_t chunks = std::min<std::size_t>(executor.concurrency(), 256);
    auto first = std::ranges::begin(items);
    executor.bulk(chunks, [&](std::size_t t) {
      const std::size_t lo = n / chunks * t + std::min(t, n % chunks);
      const std::size_t hi = n / chunks * (t + 1) + std::min(t + 1, n % chunks);
      for (std::size_t i = lo; i < hi; ++i)
        costs[i] = static_cast<cost_t>(
            std::invoke(model, std::invoke(proj, first[static_cast<std::ranges::range_difference_t<R>>(i)])));
    });
    for (std::size_t i = 0; i < n; ++i) detail::require_non_negative(where, "cost", i, costs[i]);
    return;
  }
  costs.reserve(n);
  std::size_t i = 0;
  for (auto&& item : items) {
    const auto c = static_cast<cost_t>(std::invoke(model, std::invoke(proj, item)));
    // One test inline for the common case (finite, >= 0; false for NaN); the message off the hot path.
    if (!(c >= 0 && c <= std::numeric_limits<cost_t>::max())) [[unlikely]]
      detail::require_non_negative(where, "cost", i, c);
    costs.push_back(c);
    ++i;
  }
}
}  // namespace detail

/// Evaluates `model(proj(item))` for every item, validating each cost (finite, non-negative).
/// Throws invalid_input naming the item index and value otherwise (the lowest such index).
/// With a parallel executor (core/executor.hpp) and n >= 2^16 the items are evaluated in chunks on
/// it: the model and projection are then called concurrently (they must be safe to call from
/// several threads, as a const call of a stateless model is); the result is the same.
template <std::ranges::random_access_range R, class Model = identity_cost, class Proj = std::identity>
  requires cost_model_for<Model, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] std::vector<cost_t> evaluate_costs(R&& items, const Model& model = {}, const Proj& proj = {},
                                                 std::string_view where = "evaluate_costs",
                                                 const executor_ref& executor = {}) {
  std::vector<cost_t> costs;
  detail::evaluate_costs_into(costs, items, model, proj, where, executor);
  return costs;
}

}  // namespace fulcrum
