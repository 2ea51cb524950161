// SPDX-License-Identifier: Apache-2.0
/// @file core/document_cost.hpp
/// Per-document cost of a packed sequence: a pack of documents L_1..L_n under a block-diagonal
/// (document) mask costs the sum over its documents, sum_d (a L_d + b L_d^2) + c, not
/// a T + b T^2 of its total length T = sum_d L_d. A pack of many short documents therefore costs
/// less attention than one long document of the same length (b T^2 >= b sum L_d^2).
///
/// - per_document_cost{a, b, c}: a *group* model (like padded_cost in core/cost_model.hpp),
///   callable on a range of document lengths (a pack): sum_d attention_cost{a, b, 0}(L_d) + c, in
///   document order. A cost_model_for any range of lengths, so balance(packs, k, opts,
///   per_document_cost{...}) with packs given as ranges of lengths balances the per-document sums.
///   Balancing by effective tokens (without padding or masked prompt tokens) is the same model on
///   the effective lengths with b = 0.
/// - effective_tokens_cost{}: the tokens that count for the loss: a document_tokens{length, masked}
///   counts length - masked (masked prompt tokens excluded), a plain length counts itself, a pack
///   (a range of either) the sum over its documents; padding is never part of a document, so it
///   never counts. Balance by it when the loss is normalised per token.
/// - pack_document_costs(packs, lengths, model): the cost of every group of a `grouping` whose
///   indices are documents of `lengths`; O(items). Feed it to balance() as plain costs.
/// Determinism: every product through detail::mul, sums in document order.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <span>
#include <type_traits>
#include <vector>

#include "fulcrum/concepts/cost_model.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/types.hpp"

namespace fulcrum {

/// cost(pack) = sum over its documents of (a*L + b*L^2), plus c once per pack.
struct per_document_cost {
  double a = 1.0;
  double b = 1.0 / 4096.0;
  double c = 0.0;

  /// One document (so the model also prices single items like attention_cost{a, b, c}).
  template <arithmetic T>
  [[nodiscard]] constexpr cost_t operator()(T length) const noexcept {
    return attention_cost{a, b, c}(length);
  }
  /// A pack: a range of its documents' lengths.
  template <std::ranges::input_range R>
  requires arithmetic<std::ranges::range_value_t<R>>
  [[nodiscard]] constexpr cost_t operator()(R&& lengths) const {
    const attention_cost document{a, b, 0.0};
    cost_t total = 0;
    for (auto l : lengths) total += document(l);
    return total + c;
  }
};

/// A document's tokens, `masked` of them excluded from the loss (prompt tokens).
struct document_tokens {
  std::uint32_t length = 0;
  std::uint32_t masked = 0;
};

/// cost = effective tokens: length - masked per document, summed over a pack (see file docs).
struct effective_tokens_cost {
  template <arithmetic T>
  [[nodiscard]] constexpr cost_t operator()(T length) const noexcept {
    return static_cast<cost_t>(length);
  }
  [[nodiscard]] constexpr cost_t operator()(const document_tokens& d) const noexcept {
    return d.masked >= d.length ? 0.0 : static_cast<cost_t>(d.length - d.masked);
  }
  template <std::ranges::input_range R>
  requires arithmetic<std::ranges::range_value_t<R>> ||
      std::same_as<std::remove_cvref_t<std::ranges::range_value_t<R>>, document_tokens>
  [[nodiscard]] constexpr cost_t operator()(R&& documents) const {
    cost_t total = 0;
    for (const auto& d : documents) total += (*this)(d);
    return total;
  }
};

/// The per-document cost of every group of `packs` (indices into `lengths`): the sum of
/// model(L) over its documents (per_document_cost: its c once per pack). Throws invalid_input
/// naming the group and index if an index is not below lengths.size().
template <class T, class Model = per_document_cost>
requires arithmetic<T> && cost_model_for<Model, T>
[[nodiscard]] std::vector<cost_t> pack_document_costs(const grouping& packs, std::span<const T> lengths,
                                                      const Model& model = {}) {
  std::vector<cost_t> costs;
  costs.reserve(packs.size());
  for (std::size_t g = 0; g < packs.size(); ++g) {
    cost_t total = 0;
    for (const index_type i : packs[g]) {
      if (i >= lengths.size())
        throw invalid_input(detail::describe("pack_document_costs", "index", g, i, "is not below lengths.size()"));
      if constexpr (std::same_as<Model, per_document_cost>)
        total += attention_cost{model.a, model.b, 0.0}(lengths[i]);
      else
        total += static_cast<cost_t>(model(lengths[i]));
    }
    if constexpr (std::same_as<Model, per_document_cost>) total += model.c;  // once per pack
    costs.push_back(total);
  }
  return costs;
}
template <class T, class Model = per_document_cost>
requires arithmetic<T> && cost_model_for<Model, T>
[[nodiscard]] std::vector<cost_t> pack_document_costs(const grouping& packs, const std::vector<T>& lengths,
                                                      const Model& model = {}) {
  return pack_document_costs(packs, std::span<const T>(lengths), model);
}

}  // namespace fulcrum
