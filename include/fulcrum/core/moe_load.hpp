// SPDX-License-Identifier: Apache-2.0
/// @file core/moe_load.hpp
/// MoE expert load from router statistics: an ESTIMATE of how routing hot spots stretch the
/// expert phase, folded into the FLOPs model (core/flops_model.hpp; docs/cost_models.md).
///
/// - router_stats{share, ep_ranks}: the router's average share of the routed token slots per
///   expert (any non-negative weights, normalised to sum 1: e.g. the per-expert token counts a
///   training framework logs for its load-balancing loss) and the expert-parallel ranks the
///   experts are split over (experts / ep_ranks consecutive experts per rank; 0: one per expert).
/// - expected_expert_tokens(config, stats, tokens): tokens x top_k x share_e per expert, the slots
///   each expert receives in expectation for `tokens` tokens.
/// - hot_spot_factor(config, stats): ep_ranks x the largest share of one EP rank (1: a perfectly
///   balanced router; E: every slot on one rank). Under expert parallelism every rank waits for
///   the hottest one at each MoE layer, so the expert phase lasts as if every rank had that load.
/// - with_expert_load(config, stats): the config with capacity_factor multiplied by the hot-spot
///   factor, so flops_model prices the expert phase at the pace of the hottest EP rank
///   ("time-equivalent FLOPs"); attention and the rest of the layer are unchanged.
/// What the estimate leaves out: the variation of a micro-batch's routing around the average
/// (small micro-batches see larger hot spots), token dropping when a capacity limit is hit, and
/// communication (all-to-all) time. O(experts). Errors: invalid_input naming the field (a dense
/// config, a share count other than experts, a negative or non-finite share, all shares zero,
/// ep_ranks not dividing experts).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/flops_model.hpp"

namespace fulcrum {

/// Router statistics of one MoE model (see file docs).
struct router_stats {
  std::vector<double> share;   ///< per expert: share of routed slots (normalised to sum 1)
  std::uint64_t ep_ranks = 0;  ///< expert-parallel ranks (0: one per expert)
};

namespace detail {
/// Validated shares, normalised to sum 1, and the EP rank count.
inline std::vector<double> normalised_shares(const transformer_config& config, const router_stats& stats,
                                             std::uint64_t& ranks) {
  constexpr std::string_view where = "router_stats";
  if (!config.moe()) throw invalid_input(describe(where, "experts", config.experts, "the config is dense"));
  if (stats.share.size() != config.experts)
    throw invalid_input(describe(where, "share.size()", stats.share.size(),
                                 "differs from experts = " + std::to_string(config.experts)));
  double total = 0;
  for (std::size_t e = 0; e < stats.share.size(); ++e) {
    require_non_negative(where, "share", e, stats.share[e]);
    total += stats.share[e];
  }
  if (!(total > 0) || !std::isfinite(total))
    throw invalid_input(describe(where, "share", 0, total, "sum is not positive"));
  ranks = stats.ep_ranks == 0 ? config.experts : stats.ep_ranks;
  if (config.experts % ranks != 0)
    throw invalid_input(
        describe(where, "ep_ranks", stats.ep_ranks, "does not divide experts = " + std::to_string(config.experts)));
  std::vector<double> s(stats.share.size());
  for (std::size_t e = 0; e < s.size(); ++e) s[e] = stats.share[e] / total;
  return s;
}
}  // namespace detail

/// Expected routed slots per expert for `tokens` tokens: tokens x top_k x share_e.
[[nodiscard]] inline std::vector<double> expected_expert_tokens(const transformer_config& config,
                                                                const router_stats& stats, double tokens) {
  std::uint64_t ranks = 0;
  auto s = detail::normalised_shares(config, stats, ranks);
  const double slots = detail::mul(tokens, static_cast<double>(config.top_k));
  for (auto& v : s) v = detail::mul(slots, v);
  return s;
}

/// ep_ranks x the largest share of the routed slots held by one EP rank (>= 1).
[[nodiscard]] inline double hot_spot_factor(const transformer_config& config, const router_stats& stats) {
  std::uint64_t ranks = 0;
  const auto s = detail::normalised_shares(config, stats, ranks);
  const std::size_t per_rank = static_cast<std::size_t>(config.experts / ranks);
  double hottest = 0;
  for (std::size_t r = 0; r < ranks; ++r) {
    double load = 0;
    for (std::size_t e = r * per_rank; e < (r + 1) * per_rank; ++e) load += s[e];
    hottest = std::max(hottest, load);
  }
  return std::max(1.0, detail::mul(static_cast<double>(ranks), hottest));
}

/// The config whose flops_model prices the expert phase at the hottest EP rank's pace.
[[nodiscard]] inline transformer_config with_expert_load(transformer_config config, const router_stats& stats) {
  config.capacity_factor = detail::mul(config.capacity_factor, hot_spot_factor(config, stats));
  return config;
}

}  // namespace fulcrum
