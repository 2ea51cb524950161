// SPDX-License-Identifier: Apache-2.0
/// @file concepts/cost_model.hpp
/// Concepts for items and cost models.
///
/// cost_model_for<M, Item>:
///   1. `m(item)` is callable on a `const M&` with a `const Item&`, without side effects;
///   2. it returns an arithmetic type (not bool), the cost of that item;
///   3. a group's cost is the sum of its items' costs (otherwise use a group model such as padded_cost,
///      balance/grouped.hpp).
/// A model returning anything else is rejected at compile time with this concept in the message.
/// @see linear_cost, attention_cost, composite_cost, projected_cost in core/cost_model.hpp
#pragma once

#include <concepts>
#include <functional>
#include <type_traits>

namespace fulcrum {

/// A built-in arithmetic type other than bool.
template <class T>
concept arithmetic = std::is_arithmetic_v<std::remove_cvref_t<T>> && !std::same_as<std::remove_cvref_t<T>, bool>;

/// M prices one Item (see file docs).
template <class M, class Item>
concept cost_model_for =
    std::regular_invocable<const M&, const Item&> && arithmetic<std::invoke_result_t<const M&, const Item&>>;

/// Proj maps an Item to an integral size (token count, image count).
template <class Proj, class Item>
concept size_projection_for = std::regular_invocable<const Proj&, const Item&> &&
                              std::integral<std::remove_cvref_t<std::invoke_result_t<const Proj&, const Item&>>> &&
                              !std::same_as<std::remove_cvref_t<std::invoke_result_t<const Proj&, const Item&>>, bool>;

}  // namespace fulcrum
