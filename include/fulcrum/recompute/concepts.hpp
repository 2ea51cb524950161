// SPDX-License-Identifier: Apache-2.0
/// @file recompute/concepts.hpp
/// `recompute_layer_range`: what the recompute and joint front doors take as per-layer options.
///
/// A range with one element per layer, each element itself a range of options convertible to
/// recompute_option (e.g. std::vector<std::vector<recompute_option>>, or a span of arrays). A
/// flat list of options (one list for all layers) is rejected in the signature.
#pragma once

#include <concepts>
#include <ranges>
#include <utility>
#include <vector>

#include "fulcrum/recompute/plan.hpp"

namespace fulcrum {

/// A range of ranges of recompute_option: options[l] lists the options of layer l.
template <class R>
concept recompute_layer_range =
    std::ranges::input_range<R> && std::ranges::input_range<std::ranges::range_reference_t<R>> &&
    std::constructible_from<recompute_option, std::ranges::range_reference_t<std::ranges::range_reference_t<R>>>;

namespace detail {

/// The per-layer options lowered to the one type the recompute workers take (validated there).
template <recompute_layer_range R>
[[nodiscard]] std::vector<std::vector<recompute_option>> lower_layer_options(R&& layers) {
  std::vector<std::vector<recompute_option>> out;
  for (auto&& layer : layers) {
    std::vector<recompute_option> o;
    for (auto&& x : layer) o.push_back(recompute_option(x));
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace detail

}  // namespace fulcrum
