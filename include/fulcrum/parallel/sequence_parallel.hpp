// SPDX-License-Identifier: Apache-2.0
/// @file parallel/sequence_parallel.hpp
/// Ulysses-style sequence parallelism: groups of `degree` GPUs run one packed sequence together
/// (attention heads split over the group, all-to-alls before and after attention), so a group is
/// one data-parallel unit whose capacity is degree x the per-GPU token budget.
///
///   struct sp_spec { degree, per_gpu_tokens };            // parallel/sp_spec.hpp: what a batcher or planner takes
///   sp_cost make_sp_cost(const sp_spec&, attention_cost model = {}, double all_to_all_per_token = 0);
///   sp_document_cost make_sp_document_cost(const sp_spec&, attention_cost model = {}, double all_to_all_per_token =
///   0); rank_packing pack_for_sp_groups(items, const sp_spec&, groups, rank_pack_options = {}, cost = balance_sizes{},
///   proj = {}); partition balance_sp_groups(items, const sp_spec&, groups, balance_options = {}, attention_cost = {},
///                               double all_to_all_per_token = 0, proj = {});
///
/// - `sp_spec::capacity()` = degree x per_gpu_tokens (a multiple of degree), `padded(T)` rounds
///   a pack up to a multiple of degree (every GPU of the group holds T / degree tokens);
/// - `sp_cost` prices a sequence (a length) or a pack (a range of document lengths, per document)
///   on one GPU of its group: model(padded length) / degree for compute (heads split over the
///   group; per document for packs: sum_d a L_d + b L_d^2, padding as one more segment) plus
///   all_to_all_per_token x padded length x (degree - 1) / degree (the all-to-all volume a GPU
///   sends). With degree 1 it is the model itself;
/// - `sp_document_cost` prices one document inside a pack without padding (compute / degree plus
///   the all-to-all term): the per-item model for planners that sum item costs per micro-batch, such
///   as the streaming batcher under SP (runtime/streaming_batcher.hpp, sp_stream_options);
/// - `pack_for_sp_groups` lowers to pack_for_ranks(items, capacity(), groups, ...): every bin fits
///   one SP group, and after padding to a multiple of degree still fits (the capacity is a
///   multiple of degree); bins(s, g) is SP group g's pack at step s, its GPUs are ranks
///   g x degree .. g x degree + degree - 1 (`sp_group_first_rank`). `sp_padded_tokens` gives the
///   padded token count of every bin;
/// - `balance_sp_groups` lowers to balance(items, groups, opts, make_sp_cost(...), proj) after
///   checking that every item fits one group (`infeasible` otherwise).
/// Complexity and guarantees: those of pack_for_ranks and balance (the adapters add O(n)).
/// Errors: degree == 0, per_gpu_tokens == 0, a capacity that overflows 64 bits -> invalid_input;
/// an item above capacity() -> infeasible naming it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <ranges>
#include <span>
#include <type_traits>
#include <vector>

#include "fulcrum/balance/balance.hpp"
#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/rank_packing.hpp"
#include "fulcrum/parallel/sp_spec.hpp"

namespace fulcrum {

/// Cost of a sequence or pack on one GPU of its SP group (see the file comment).
struct sp_cost {
  attention_cost model{};             ///< compute of a sequence on one GPU without SP
  double all_to_all_per_token = 0.0;  ///< cost per token a GPU sends in the all-to-alls
  std::size_t degree = 1;             ///< SP degree

  /// One sequence of `length` tokens.
  template <arithmetic T>
  [[nodiscard]] cost_t operator()(T length) const noexcept {
    const double padded = static_cast<double>(pad(static_cast<std::uint64_t>(length)));
    return finish(model(padded), padded);
  }
  /// A pack: documents of the given lengths, padded as one more segment.
  template <std::ranges::input_range R>
  requires arithmetic<std::ranges::range_value_t<R>>
  [[nodiscard]] cost_t operator()(R&& lengths) const {
    const attention_cost document{model.a, model.b, 0.0};
    cost_t compute = 0;
    std::uint64_t total = 0;
    for (auto l : lengths) {
      compute += document(l);
      total += static_cast<std::uint64_t>(l);
    }
    const std::uint64_t padded = pad(total);
    compute += document(padded - total);
    return finish(compute + model.c, static_cast<double>(padded));
  }

 private:
  [[nodiscard]] std::uint64_t pad(std::uint64_t t) const noexcept { return sp_spec{degree, 1}.padded(t); }
  [[nodiscard]] cost_t finish(double compute, double padded) const noexcept {
    const double d = static_cast<double>(degree == 0 ? 1 : degree);
    const double sent = detail::mul(padded, (d - 1.0) / d);
    return compute / d + detail::mul(all_to_all_per_token, sent);
  }
};

/// Cost of one document on one GPU of its SP group, without padding: what a planner that sums item
/// costs per micro-batch (the streaming batcher, balance() of documents) adds up, so a pack costs
/// the per-document sum (padding, at most degree - 1 tokens, is left to the pack; the model's c is
/// dropped because it is the same for every pack). model{a, b, 0}(L) / degree + all_to_all_per_token
/// x L x (degree - 1) / degree.
struct sp_document_cost {
  attention_cost model{};             ///< compute of a document on one GPU without SP
  double all_to_all_per_token = 0.0;  ///< cost per token a GPU sends in the all-to-alls
  std::size_t degree = 1;             ///< SP degree

  template <arithmetic T>
  [[nodiscard]] cost_t operator()(T length) const noexcept {
    const double l = static_cast<double>(length);
    const double d = static_cast<double>(degree == 0 ? 1 : degree);
    const attention_cost document{model.a, model.b, 0.0};
    return document(l) / d + detail::mul(all_to_all_per_token, detail::mul(l, (d - 1.0) / d));
  }
};

/// The per-document SP cost model of `sp` (see sp_document_cost).
[[nodiscard]] inline sp_document_cost make_sp_document_cost(const sp_spec& sp, attention_cost model = {},
                                                            double all_to_all_per_token = 0.0) {
  sp.validate("make_sp_document_cost");
  detail::require_non_negative("make_sp_document_cost", "all_to_all_per_token", 0, all_to_all_per_token);
  return sp_document_cost{model, all_to_all_per_token, sp.degree};
}

/// The SP cost model of `sp`.
[[nodiscard]] inline sp_cost make_sp_cost(const sp_spec& sp, attention_cost model = {},
                                          double all_to_all_per_token = 0.0) {
  sp.validate("make_sp_cost");
  detail::require_non_negative("make_sp_cost", "all_to_all_per_token", 0, all_to_all_per_token);
  return sp_cost{model, all_to_all_per_token, sp.degree};
}

/// Packs `items` into bins of one SP group each (capacity sp.capacity()), `groups` DP groups per
/// step: pack_for_ranks with the SP capacity.
template <std::ranges::random_access_range R, class Cost = balance_sizes, class Proj = std::identity>
requires std::ranges::sized_range<R>
[[nodiscard]] rank_packing pack_for_sp_groups(R&& items, const sp_spec& sp, std::size_t groups,
                                              rank_pack_options opts = {}, Cost cost = {}, Proj proj = {}) {
  sp.validate("pack_for_sp_groups");
  return pack_for_ranks(std::forward<R>(items), sp.capacity(), groups, opts, std::move(cost), std::move(proj));
}

/// Padded tokens of every bin of a one-dimensional rank_packing (step-major, like its loads).
[[nodiscard]] inline std::vector<std::uint64_t> sp_padded_tokens(const rank_packing& packs, const sp_spec& sp) {
  if (packs.dims != 1)
    throw invalid_input(detail::describe("sp_padded_tokens", "packs.dims", packs.dims, "must be 1 (tokens)"));
  std::vector<std::uint64_t> out;
  out.reserve(packs.loads.size());
  for (const std::uint64_t t : packs.loads) out.push_back(sp.padded(t));
  return out;
}

/// Balances `items` (sequences, or packs as ranges of document lengths) over `groups` SP groups
/// under the SP cost: balance() with make_sp_cost(sp, model, all_to_all_per_token).
template <std::ranges::random_access_range R, class Proj = std::identity>
requires std::ranges::sized_range<R> &&
    cost_model_for<sp_cost, std::remove_cvref_t<std::invoke_result_t<const Proj&, std::ranges::range_reference_t<R>>>>
[[nodiscard]] partition balance_sp_groups(R&& items, const sp_spec& sp, std::size_t groups, balance_options opts = {},
                                          attention_cost model = {}, double all_to_all_per_token = 0.0,
                                          Proj proj = {}) {
  const sp_cost cost = make_sp_cost(sp, model, all_to_all_per_token);
  const std::uint64_t capacity = sp.capacity();
  std::size_t i = 0;
  for (auto&& item : items) {
    const auto& v = std::invoke(proj, item);
    std::uint64_t tokens = 0;
    if constexpr (std::ranges::input_range<std::remove_cvref_t<decltype(v)>>) {
      for (auto l : v) tokens += static_cast<std::uint64_t>(l);
    } else {
      tokens = static_cast<std::uint64_t>(v);
    }
    if (sp.padded(tokens) > capacity)
      throw infeasible(detail::describe("balance_sp_groups", "item tokens", i, tokens,
                                        "exceed the SP group's capacity (degree x per_gpu_tokens)"));
    ++i;
  }
  return balance(std::forward<R>(items), groups, opts, cost, proj);
}

}  // namespace fulcrum
