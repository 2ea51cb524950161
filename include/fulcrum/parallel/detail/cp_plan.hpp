// SPDX-License-Identifier: Apache-2.0
/// @file parallel/detail/cp_plan.hpp
/// The context-parallel planners behind plan_context_parallel (parallel/context_parallel.hpp):
/// zig-zag (plain and padded), fulcrum's fill, and the evaluation every plan goes through.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/core/validate.hpp"
#include "fulcrum/parallel/context_parallel_result.hpp"

namespace fulcrum::detail {

/// Cost of `tokens` tokens, `pairs` pairs and `chunks` chunks, in a fixed order without FMA.
[[nodiscard]] inline cost_t cp_price(const cp_cost& c, std::uint64_t tokens, std::uint64_t pairs,
                                     std::uint64_t chunks) noexcept {
  const double linear = mul(c.per_token, static_cast<double>(tokens));
  const double attention = mul(c.per_pair, static_cast<double>(pairs));
  const double fixed = mul(c.per_chunk, static_cast<double>(chunks));
  return (linear + attention) + fixed;
}

/// Sorts each rank's chunks, merges adjacent chunks of a document and fills the per-rank totals.
inline void cp_finish(cp_plan& plan, std::vector<std::vector<cp_chunk>>& per_rank, const cp_options& opts) {
  plan.rank_offsets.assign(1, 0);
  plan.chunks.clear();
  plan.rank_tokens.assign(plan.cp, 0);
  plan.rank_pairs.assign(plan.cp, 0);
  plan.rank_costs.assign(plan.cp, 0.0);
  for (std::size_t r = 0; r < plan.cp; ++r) {
    auto& v = per_rank[r];
    std::sort(v.begin(), v.end(), [](const cp_chunk& a, const cp_chunk& b) {
      return a.document != b.document ? a.document < b.document : a.begin < b.begin;
    });
    const std::size_t first = plan.chunks.size();
    for (const cp_chunk& c : v) {
      if (c.end == c.begin) continue;
      if (plan.chunks.size() > first && plan.chunks.back().document == c.document && plan.chunks.back().end == c.begin)
        plan.chunks.back().end = c.end;
      else
        plan.chunks.push_back(c);
    }
    std::uint64_t tokens = 0, pairs = 0;
    for (std::size_t j = first; j < plan.chunks.size(); ++j) {
      tokens += plan.chunks[j].end - plan.chunks[j].begin;
      pairs = checked_add(pairs, causal_pairs(plan.chunks[j].begin, plan.chunks[j].end), "plan_context_parallel pairs");
    }
    plan.rank_tokens[r] = tokens;
    plan.rank_pairs[r] = pairs;
    plan.rank_costs[r] = cp_price(opts.cost, tokens, pairs, plan.chunks.size() - first);
    plan.rank_offsets.push_back(plan.chunks.size());
  }
}

/// Megatron's head-tail split (padded: every document first padded to a multiple of 2 cp).
inline void cp_zigzag(std::span<const std::uint32_t> lengths, std::size_t cp, bool padded, const cp_options& opts,
                      cp_plan& plan) {
  plan.method = padded ? cp_method::zigzag_padded : cp_method::zigzag;
  const std::uint64_t parts = 2 * static_cast<std::uint64_t>(cp);
  std::vector<std::vector<cp_chunk>> per_rank(cp);
  plan.padded_lengths.assign(lengths.begin(), lengths.end());
  for (std::size_t d = 0; d < lengths.size(); ++d) {
    std::uint64_t l = lengths[d];
    if (l == 0) continue;
    if (padded) {
      l = (l + parts - 1) / parts * parts;
      if (l > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
        throw invalid_input(describe("plan_context_parallel", "padded length", d, l, "exceeds 2^31 - 1"));
      plan.padded_lengths[d] = static_cast<std::uint32_t>(l);
    }
    auto bound = [&](std::uint64_t j) { return static_cast<std::uint32_t>(j * l / parts); };
    for (std::size_t r = 0; r < cp; ++r) {
      const std::uint64_t head = r, tail = parts - 1 - r;
      per_rank[r].push_back({static_cast<index_type>(d), bound(head), bound(head + 1)});
      per_rank[r].push_back({static_cast<index_type>(d), bound(tail), bound(tail + 1)});
    }
  }
  cp_finish(plan, per_rank, opts);
}

/// fulcrum's fill (see parallel/context_parallel.hpp).
/// short_first: when both ends could be taken whole, take the short document first.
inline void cp_fill(std::span<const std::uint32_t> lengths, std::size_t cp, const cp_options& opts, bool short_first,
                    cp_plan& plan) {
  plan.method = cp_method::fill;
  plan.padded_lengths.assign(lengths.begin(), lengths.end());
  std::vector<index_type> order;
  std::uint64_t total = 0;
  for (std::size_t d = 0; d < lengths.size(); ++d)
    if (lengths[d] > 0) {
      order.push_back(static_cast<index_type>(d));
      total += lengths[d];
    }
  std::stable_sort(order.begin(), order.end(), [&](index_type a, index_type b) { return lengths[a] < lengths[b]; });
  // Average cost per token of a mirrored share of a document of length l.
  auto density = [&](std::uint32_t l) {
    return opts.cost.per_token + mul(opts.cost.per_pair, (static_cast<double>(l) + 1.0) / 2.0);
  };
  std::vector<std::uint32_t> head(lengths.size(), 0), tail(lengths.size(), 0);
  auto remaining = [&](index_type d) { return static_cast<std::uint64_t>(lengths[d] - head[d] - tail[d]); };
  std::vector<std::vector<cp_chunk>> per_rank(cp);
  // Takes k tokens of document d for rank r: the whole rest, or a head + tail pair keeping the
  // taken head and tail within one token of each other.
  auto take = [&](std::size_t r, index_type d, std::uint64_t k) {
    const std::uint32_t l = lengths[d];
    if (k == remaining(d)) {
      per_rank[r].push_back({d, head[d], l - tail[d]});
      head[d] = l - tail[d];
      return;
    }
    const std::uint64_t h = head[d], t = tail[d];
    const std::uint64_t want = (h + t + k + (h <= t ? 1 : 0)) / 2;
    const std::uint64_t h_new = std::clamp<std::uint64_t>(want, h, h + k);
    const auto hk = static_cast<std::uint32_t>(h_new - h);
    const auto tk = static_cast<std::uint32_t>(k - hk);
    if (hk > 0) per_rank[r].push_back({d, head[d], head[d] + hk});
    if (tk > 0) per_rank[r].push_back({d, l - tail[d] - tk, l - tail[d]});
    head[d] += hk;
    tail[d] += tk;
  };
  // Prefix sums over the sorted documents (full lengths): tokens and work at the mean density.
  const std::size_t m = order.size();
  std::vector<std::uint64_t> pt(m + 1, 0);
  std::vector<double> pw(m + 1, 0.0);
  for (std::size_t i = 0; i < m; ++i) {
    pt[i + 1] = pt[i] + lengths[order[i]];
    pw[i + 1] = pw[i] + mul(density(lengths[order[i]]), static_cast<double>(lengths[order[i]]));
  }
  auto rho = [&](std::size_t i) { return density(lengths[order[i]]); };
  // Pool order[a .. b) whose end documents hold rem_a and rem_b tokens (the same one if a + 1 == b).
  auto pool_tokens = [&](std::size_t a, std::size_t b, std::uint64_t rem_a, std::uint64_t rem_b) {
    return a + 1 == b ? rem_a : rem_a + rem_b + (pt[b - 1] - pt[a + 1]);
  };
  // Least work of q tokens of the pool (its shortest documents first).
  auto lightest = [&](std::size_t a, std::size_t b, std::uint64_t rem_a, std::uint64_t rem_b, std::uint64_t q) {
    if (a + 1 == b) return mul(static_cast<double>(q), rho(a));
    const std::uint64_t t = std::min(q, rem_a);
    double acc = mul(static_cast<double>(t), rho(a));
    q -= t;
    if (q == 0) return acc;
    const auto k =
        static_cast<std::size_t>(std::upper_bound(pt.begin() + static_cast<std::ptrdiff_t>(a + 1),
                                                  pt.begin() + static_cast<std::ptrdiff_t>(b - 1), pt[a + 1] + q) -
                                 pt.begin()) -
        1;
    acc += pw[k] - pw[a + 1];
    q -= pt[k] - pt[a + 1];
    return q == 0 ? acc : acc + mul(static_cast<double>(std::min(q, k == b - 1 ? rem_b : q)), rho(k));
  };
  // Most work of q tokens of the pool (its longest documents first).
  auto heaviest = [&](std::size_t a, std::size_t b, std::uint64_t rem_a, std::uint64_t rem_b, std::uint64_t q) {
    if (a + 1 == b) return mul(static_cast<double>(q), rho(a));
    const std::uint64_t t = std::min(q, rem_b);
    double acc = mul(static_cast<double>(t), rho(b - 1));
    q -= t;
    if (q == 0) return acc;
    const auto k = static_cast<std::size_t>(std::lower_bound(pt.begin() + static_cast<std::ptrdiff_t>(a + 1),
                                                             pt.begin() + static_cast<std::ptrdiff_t>(b),
                                                             pt[b - 1] - std::min(q, pt[b - 1])) -
                                            pt.begin());
    acc += pw[b - 1] - pw[k];
    q -= pt[b - 1] - pt[k];
    return q == 0 ? acc : acc + mul(static_cast<double>(std::min(q, k - 1 == a ? rem_a : q)), rho(k - 1));
  };
  double work_left = pw[m];
  std::uint64_t tokens_left = total;
  std::size_t lo = 0, hi = m;  // remaining documents: order[lo .. hi)
  for (std::size_t r = 0; r < cp; ++r) {
    std::uint64_t q = total / cp + (r < total % cp ? 1 : 0);
    double w = tokens_left == 0 ? 0.0 : work_left * static_cast<double>(q) / static_cast<double>(tokens_left);
    tokens_left -= q;
    double spent = 0;
    auto consume = [&](index_type d, std::uint64_t k, double density_d) {
      take(r, d, k);
      q -= k;
      w -= mul(density_d, static_cast<double>(k));
      spent += mul(density_d, static_cast<double>(k));
    };
    while (q > 0 && lo < hi) {
      const index_type dl = order[lo], dh = order[hi - 1];
      const double rl = rho(lo), rh = rho(hi - 1);
      const std::uint64_t rem_l = remaining(dl), rem_h = remaining(dh);
      if (lo + 1 == hi || !(rh > rl)) {
        consume(dl, std::min(q, rem_l), rl);
        if (remaining(dl) == 0) ++lo;
        continue;
      }
      // Can the rank still reach its work w after taking a whole end document?
      const double tolerance = rh;
      auto reachable = [&](std::size_t a, std::size_t b, std::uint64_t rem_a, std::uint64_t rem_b, std::uint64_t q2,
                           double w2) {
        if (q2 == 0) return std::abs(w2) <= tolerance;
        if (a >= b || pool_tokens(a, b, rem_a, rem_b) < q2) return false;
        return lightest(a, b, rem_a, rem_b, q2) <= w2 + tolerance && w2 <= heaviest(a, b, rem_a, rem_b, q2) + tolerance;
      };
      const bool short_ok = q >= rem_l && reachable(lo + 1, hi, lo + 2 == hi ? rem_h : lengths[order[lo + 1]], rem_h,
                                                    q - rem_l, w - mul(static_cast<double>(rem_l), rl));
      const bool long_ok = q >= rem_h && reachable(lo, hi - 1, rem_l, lo + 2 == hi ? rem_l : lengths[order[hi - 2]],
                                                   q - rem_h, w - mul(static_cast<double>(rem_h), rh));
      if (short_ok && (short_first || !long_ok)) {
        consume(dl, rem_l, rl);
        ++lo;
        continue;
      }
      if (long_ok) {
        consume(dh, rem_h, rh);
        --hi;
        continue;
      }
      if (q > rem_l + rem_h) {  // cannot finish with the two ends: take one whole and go on
        if (short_first)
          consume(dl, rem_l, rl), ++lo;
        else
          consume(dh, rem_h, rh), --hi;
        continue;
      }
      // x tokens from the long end and q - x from the short end reach the target work w.
      double xf = (w - mul(static_cast<double>(q), rl)) / (rh - rl);
      const double x_min = q > rem_l ? static_cast<double>(q - rem_l) : 0.0;
      const double x_max = static_cast<double>(std::min(q, rem_h));
      xf = std::clamp(std::round(xf), x_min, x_max);
      const auto x = static_cast<std::uint64_t>(xf);
      if (x > 0) consume(dh, x, rh);
      if (q > 0) consume(dl, q, rl);
      if (remaining(dh) == 0) --hi;
      if (lo < hi && remaining(order[lo]) == 0) ++lo;
    }
    work_left -= spent;
    if (work_left < 0) work_left = 0;
  }
  cp_finish(plan, per_rank, opts);
}

[[nodiscard]] inline cp_plan cp_plan_lengths(std::span<const std::uint32_t> lengths, std::size_t cp,
                                             const cp_options& opts) {
  constexpr const char* where = "plan_context_parallel";
  if (cp == 0) throw invalid_input(describe(where, "cp", cp, "must be at least 1"));
  if (cp > max_parts) throw invalid_input(describe(where, "cp", cp, "exceeds fulcrum::max_parts (2^24)"));
  require_non_negative(where, "cost.per_token", 0, opts.cost.per_token);
  require_non_negative(where, "cost.per_pair", 0, opts.cost.per_pair);
  require_non_negative(where, "cost.per_chunk", 0, opts.cost.per_chunk);
  if (lengths.size() > std::numeric_limits<index_type>::max())
    throw invalid_input(describe(where, "documents", lengths.size(), "more than index_type addresses"));
  std::uint64_t tokens = 0, pairs = 0, documents = 0;
  std::uint32_t longest = 0;
  for (std::size_t d = 0; d < lengths.size(); ++d) {
    if (lengths[d] > static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max()))
      throw invalid_input(describe(where, "lengths", d, lengths[d], "exceeds 2^31 - 1"));
    tokens = checked_add(tokens, lengths[d], "plan_context_parallel tokens");
    pairs = checked_add(pairs, causal_pairs(0, lengths[d]), "plan_context_parallel pairs");
    documents += lengths[d] > 0 ? 1u : 0u;
    longest = std::max(longest, lengths[d]);
  }
  const bool fill_ok = tokens % cp == 0 || opts.token_slack >= 1;
  if (opts.method == cp_method::fill && !fill_ok)
    throw invalid_input(describe(where, "tokens", tokens,
                                 "not a multiple of cp and token_slack == 0: pad the sequence to a multiple of cp"));

  cp_plan best;
  best.cp = cp;
  auto consider = [&](cp_method m) {
    cp_plan p;
    p.cp = cp;
    if (m == cp_method::fill) {
      cp_fill(lengths, cp, opts, true, p);
      cp_plan other;
      other.cp = cp;
      cp_fill(lengths, cp, opts, false, other);
      if (other.makespan() < p.makespan()) p = std::move(other);
    } else {
      cp_zigzag(lengths, cp, m == cp_method::zigzag_padded, opts, p);
    }
    return p;
  };
  if (opts.method != cp_method::automatic) {
    best = consider(opts.method);
  } else {
    bool have = false;
    for (const cp_method m : {cp_method::fill, cp_method::zigzag, cp_method::zigzag_padded}) {
      if (m == cp_method::fill && !fill_ok) continue;
      cp_plan p = consider(m);
      if (m == cp_method::zigzag && p.token_spread() > opts.token_slack) continue;
      if (!have || p.makespan() < best.makespan() ||
          (p.makespan() == best.makespan() && p.chunks.size() < best.chunks.size())) {
        best = std::move(p);
        have = true;
      }
    }
  }
  const cost_t mean = cp_price(opts.cost, tokens, pairs, documents) / static_cast<double>(cp);
  const cost_t dearest = longest == 0 ? 0.0 : cp_price(opts.cost, 1, longest, 1);
  best.lower_bound = std::max(mean, dearest);
  best.proven_optimal = best.makespan() <= best.lower_bound;
  return best;
}

}  // namespace fulcrum::detail
