// SPDX-License-Identifier: Apache-2.0
/// @file runtime/streaming_batcher.hpp
/// `streaming_batcher`: online balanced batching inside a data loader, with a bounded buffer and a
/// resumable, checkpointable state (docs/streaming.md).
///
///   streaming_batcher<D, Cost> b(stream_options<D> opts, Cost cost = {});
///   b.push(id, sizes [, cost]);  while (auto step = b.next()) train(*step);  ...  b.finish();
///   std::vector<std::byte> bytes = b.state();  auto again = streaming_batcher<D>::restore(bytes, opts);
///
/// What: items arrive one at a time (an id, sizes in D dimensions such as {images, tokens}, an
/// optional cost, or the cost model's price of the sizes). At most `opts.buffer` items are held.
/// The batcher emits steps: `opts.ranks` micro-batches per step (every rank the same count), every
/// micro-batch within `opts.caps` in every dimension, the micro-batches of a step balanced in cost
/// (in every size dimension normalised by its cap when there is no cost), as pack_for_ranks does
/// offline (packing/rank_packing.hpp).
///
/// Emission policy (a "round"): when `trigger` = min(buffer, max_wait) items are buffered, the
/// buffer is packed with pack_for_ranks' bin filler (packing/detail/rank_fill.hpp, or
/// multi_best_fit_decreasing where it does not apply). The bins are ordered by fill (max_d load_d /
/// cap_d, fullest first; bins holding an item already kept `max_keep_rounds` times first). The
/// fullest bins are emitted, a multiple of `ranks` of them, and the bins that pack worst (fill below
/// `keep_fill`) go back to the buffer for a later round, as long as they hold at most `keep_share` of
/// the trigger's items; every item is emitted within max_keep_rounds + 1 rounds of its arrival.
/// The emitted bins are dealt into steps and balanced as in pack_for_ranks (sorted by load,
/// consecutive groups of `ranks`, in-step local search, runtime of detail/rank_steps.hpp); with
/// `shuffle` the steps of a round and the ranks inside a step are shuffled with a generator seeded
/// by (seed, round). Without costs, the steps are then evened with items the round keeps: with
/// several dimensions, first each coarse one (a step's micro-batches of unequal image counts: an
/// item swapped for a kept one of another image count and at most 64 tokens fewer), then the fine
/// one (the largest cap: tokens): micro-batches below their step's largest load are raised and lone
/// top ones lowered by swapping in kept items of the same other sizes (or adding items whose other
/// sizes are zero), never widening a step's coarse range or passing a cap
/// (runtime/detail/stream_refine.hpp). One candidate in reserve_stride (8) sits the packing out to
/// serve this (with several dimensions only candidates with a non-zero coarse size, in rounds of
/// reserve_min_multi (16) reserve_stride ranks candidates or more; with one, 2 reserve_stride ranks),
/// and the evening then replaces the in-step local search. With one dimension, rounds of
/// regroup_min_steps (16) steps or more are regrouped by load and evened again. A flush re-deals, around each of its
/// even_tail_windows (8) steps least even in tokens, the items of even_tail_steps (4) neighbouring
/// steps (LPT or a target fit), so the least full bins do not make one badly balanced last step. With several
/// dimensions only items kept fewer than movable_keeps (3) rounds leave a micro-batch. Warm-up: during the first
/// `warmup_steps` steps the caps are scaled by a linear ramp from `warmup_start` to 1 (floor, at least 1), one step per
/// packing, so the early steps are smaller; items over the ramped cap wait (if none fit, that step uses the full caps).
/// finish() ends the stream: `stream_end::flush` emits everything (the last step may hold empty
/// micro-batches), `drop_last` emits only full steps and reports the rest in dropped().
///
/// Complexity: a round costs O(T K log C) to fill T items into bins (K coarse classes) plus the
/// local search, O(steps * passes * ranks^2 * m^2) for m items per bin; each item is packed at most
/// max_keep_rounds + 1 times and about 1 / (1 - keep_share) times on average, so pushing is
/// amortised O(K log C + passes * ranks * m) per item. Warm-up steps cost one packing of the buffer
/// each. Memory O(buffer + emitted steps not yet taken by next()).
///
/// Guarantees: every pushed item is emitted exactly once (or reported by dropped()); caps hold in
/// every micro-batch (oversize::truncate counts an oversize item as the cap); every step has
/// exactly `ranks` micro-batches, empty ones only in the last step of finish() or when a full buffer
/// holds fewer than `ranks` items' worth of bins. Deterministic: the same options, seed and pushes
/// give the same steps on every platform. state() is a versioned little-endian byte string with an
/// options fingerprint and an FNV-1a checksum; restore() from it continues with exactly the steps the
/// uninterrupted batcher would have emitted (pending steps not yet taken by next() included). A
/// truncated, corrupt, other-version or other-options state throws invalid_input.
/// Sequence parallelism: `sp_stream_options(sp, groups, base)` makes a batcher whose micro-batches
/// are SP groups' packs (cap sp.capacity(), padded to a multiple of sp.degree, `ranks` = SP groups);
/// with make_sp_document_cost as the cost model the groups are balanced in SP cost.
/// Group cost models (core/group_cost.hpp; Cost = padded_cost, padded_attention_cost or any
/// group_cost_model): each step's micro-batches are evened under the model on their fine sizes
/// by the min-max search of core/group_cost.hpp, and the step's costs are the group costs.
/// Errors: caps 0, ranks 0 or above max_parts, pad_multiple 0 or not dividing the last cap, buffer < ranks, max_wait >
/// buffer, warmup_start outside (0, 1], a negative or non-finite cost, mixing pushes with and without cost, push after
/// finish -> invalid_input; an item over the caps -> infeasible naming its id (unless truncate).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fulcrum/core/checked.hpp"
#include "fulcrum/core/cost_model.hpp"
#include "fulcrum/core/detail/float.hpp"
#include "fulcrum/core/error.hpp"
#include "fulcrum/core/group_cost.hpp"
#include "fulcrum/core/hash.hpp"
#include "fulcrum/core/rng.hpp"
#include "fulcrum/core/stats.hpp"
#include "fulcrum/core/types.hpp"
#include "fulcrum/core/validate.hpp"
#include "fulcrum/packing/detail/rank_fill.hpp"
#include "fulcrum/packing/detail/rank_steps.hpp"
#include "fulcrum/packing/multi.hpp"
#include "fulcrum/packing/packing.hpp"
#include "fulcrum/packing/rank_packing.hpp"
#include "fulcrum/packing/rank_packing_result.hpp"
#include "fulcrum/parallel/sp_spec.hpp"
#include "fulcrum/runtime/detail/stream_codec.hpp"
#include "fulcrum/runtime/detail/stream_refine.hpp"

namespace fulcrum {

/// What finish() does with the items that do not fill a last step.
enum class stream_end : std::uint8_t {
  flush,      ///< emit them: the last step may hold empty micro-batches
  drop_last,  ///< emit only full steps; the rest is reported by dropped()
};

/// Options of the streaming batcher (see file docs). D = size dimensions per item.
template <std::size_t D = 1>
struct stream_options {
  std::size_t buffer = 16384;                  ///< B: most items held (rounds run at min(buffer, max_wait))
  std::array<std::uint64_t, D> caps{};         ///< per micro-batch cap in every dimension (token budget for D = 1)
  std::size_t ranks = 1;                       ///< micro-batches per step (data-parallel ranks)
  std::uint64_t seed = default_seed;           ///< shuffle of steps and ranks (per round)
  bool shuffle = true;                         ///< shuffle the steps of a round and the ranks inside a step
  std::size_t warmup_steps = 0;                ///< S: ramp the caps over the first S steps
  double warmup_start = 0.25;                  ///< cap fraction at step 0 of the ramp (linear to 1 at step S)
  stream_end end = stream_end::flush;          ///< what finish() does with a partial last step
  std::size_t max_wait = 0;                    ///< N: run a round once N items are buffered (0: buffer)
  oversize oversize_policy = oversize::error;  ///< error or truncate (own_bin is not offered)
  std::size_t passes = 4;                      ///< local-search passes per step
  double keep_fill = 0.985;                    ///< bins filled below this go back to the buffer
  double keep_share = 0.25;                    ///< most of a round's items kept for later
  std::uint32_t max_keep_rounds = 8;           ///< an item kept this often is emitted in its next round
  std::size_t pad_multiple = 1;  ///< micro-batches are laid out padded to a multiple of this in the last dimension
                                 ///< (tokens; the SP degree): caps[D - 1] must be a multiple of it
};

/// Options of a streaming batcher over Ulysses SP groups (parallel/sp_spec.hpp): one micro-batch
/// per SP group per step, `groups` SP groups (data-parallel units) per step, the token cap of a
/// micro-batch = sp.capacity() and every micro-batch padded to a multiple of sp.degree
/// (stream_step::padded_tokens; the capacity is a multiple of the degree, so the padded
/// micro-batch still fits). The other fields come from `base`. Pair it with the per-document SP
/// cost (make_sp_document_cost in parallel/sequence_parallel.hpp) to balance the groups' work.
/// Throws invalid_input for an invalid sp_spec.
[[nodiscard]] inline stream_options<1> sp_stream_options(const sp_spec& sp, std::size_t groups,
                                                         stream_options<1> base = {}) {
  sp.validate("sp_stream_options");
  base.caps = {sp.capacity()};
  base.ranks = groups;
  base.pad_multiple = sp.degree;
  return base;
}

/// One emitted step: `ranks` micro-batches of item ids (rank r's is micro_batch(r)).
struct stream_step {
  std::uint64_t index = 0;           ///< step number in the stream, from 0
  std::size_t ranks = 0;             ///< micro-batches in the step
  std::size_t dims = 0;              ///< size dimensions D
  std::vector<std::uint64_t> ids;    ///< ids of all micro-batches, rank after rank
  std::vector<std::size_t> offsets;  ///< ranks + 1 offsets into ids
  std::vector<std::uint64_t> loads;  ///< ranks * dims: load of rank r in dimension d at r * dims + d
  std::vector<double> costs;         ///< per rank cost (empty without costs)
  std::vector<std::uint64_t> caps;   ///< the caps of this step (ramped during warm-up), dims values
  std::size_t pad_multiple = 1;      ///< stream_options::pad_multiple (the SP degree under SP)

  /// Rank r's micro-batch (unchecked: r < ranks).
  [[nodiscard]] std::span<const std::uint64_t> micro_batch(std::size_t r) const {
    return std::span<const std::uint64_t>(ids).subspan(offsets[r], offsets[r + 1] - offsets[r]);
  }
  /// Rank r's load in the last dimension (tokens) rounded up to a multiple of pad_multiple: the
  /// length of its packed sequence (under SP, every GPU of the group holds padded / degree tokens).
  [[nodiscard]] std::uint64_t padded_tokens(std::size_t r) const noexcept {
    const std::uint64_t m = pad_multiple == 0 ? 1 : pad_multiple;
    return (loads[r * dims + dims - 1] + m - 1) / m * m;
  }
  /// Items over all micro-batches.
  [[nodiscard]] std::size_t item_count() const noexcept { return ids.size(); }
  /// DistRatio of the step in dimension d (OmniBal's; rank_packing_result.hpp).
  [[nodiscard]] double dist(std::size_t d) const {
    std::vector<double> v(ranks);
    for (std::size_t r = 0; r < ranks; ++r) v[r] = static_cast<double>(loads[r * dims + d]);
    return dist_ratio_of_loads(v, 1, ranks);
  }
  friend bool operator==(const stream_step&, const stream_step&) = default;
};

/// Running figures of a stream (stats()): what was emitted so far and how good it is.
struct stream_stats {
  std::uint64_t pushed = 0;         ///< items pushed
  std::uint64_t emitted = 0;        ///< items emitted in steps
  std::uint64_t dropped = 0;        ///< items dropped by drop_last
  std::uint64_t steps = 0;          ///< steps emitted
  std::uint64_t micro_batches = 0;  ///< non-empty micro-batches emitted
  std::uint64_t rounds = 0;         ///< packings of the buffer
  std::uint64_t lower_bound = 0;    ///< L2 bound on micro-batches for the emitted items at the full caps
  std::vector<double> dist;         ///< mean DistRatio over the steps, per size dimension
  double cost_dist = 0;             ///< mean DistRatio of the per-rank costs (0 without costs)
  bool proven_optimal = false;      ///< micro_batches == lower_bound
  /// (micro_batches - lower_bound) / lower_bound.
  [[nodiscard]] double gap() const noexcept {
    return result_gap(static_cast<double>(micro_batches), static_cast<double>(lower_bound), proven_optimal);
  }
};

/// The streaming batcher (see file docs). Cost = balance_sizes (balance the size dimensions) or a
/// cost_model_for the projected sizes (an std::uint64_t for D = 1, else std::array<std::uint64_t, D>).
template <std::size_t D = 1, class Cost = balance_sizes>
class streaming_batcher {
  static_assert(D >= 1, "streaming_batcher: at least one size dimension");

 public:
  using sizes_type = std::array<std::uint64_t, D>;
  using projected_type = std::conditional_t<D == 1, std::uint64_t, sizes_type>;
  /// A group model (core/group_cost.hpp) prices a whole micro-batch from its items' fine sizes.
  static constexpr bool has_group_model = group_cost_model<Cost>;
  static constexpr bool has_cost_model = !std::is_same_v<Cost, balance_sizes> && !has_group_model;
  static_assert(!has_cost_model || cost_model_for<Cost, projected_type>,
                "streaming_batcher: Cost must be balance_sizes, a cost_model_for the projected sizes or a "
                "group_cost_model");
  /// Version of the state() byte format.
  static constexpr std::uint32_t state_version = 2;  // 2: the 2-D reserve (a version-1 state would continue differently)

  explicit streaming_batcher(stream_options<D> opts, Cost cost = {}) : opts_(std::move(opts)), cost_(std::move(cost)) {
    validate();
    trigger_ = opts_.max_wait == 0 ? opts_.buffer : opts_.max_wait;
    dist_sum_.assign(D, 0.0);
    size_sum_.fill(0);
    buffer_.reserve(trigger_);
  }

  /// Pushes one item; a round runs when the buffer reaches the trigger. Cost: from the cost model,
  /// else none (the sizes are balanced).
  void push(std::uint64_t id, const sizes_type& sizes) {
    if constexpr (has_cost_model) {
      const auto c = static_cast<double>(std::invoke(cost_, project(sizes)));
      push_item(id, sizes, c, true);
    } else {
      push_item(id, sizes, 0.0, false);
    }
  }
  /// Pushes one item with an explicit cost (every item of the stream must then carry one; not with
  /// a group model, which prices micro-batches itself).
  void push(std::uint64_t id, const sizes_type& sizes, double cost) requires(!has_group_model) {
    push_item(id, sizes, cost, true);
  }
  /// One-dimensional convenience: push(id, tokens).
  void push(std::uint64_t id, std::uint64_t size) requires(D == 1) { push(id, sizes_type{size}); }
  /// One-dimensional convenience: push(id, tokens, cost).
  void push(std::uint64_t id, std::uint64_t size, double cost) requires(D == 1 && !has_group_model) {
    push(id, sizes_type{size}, cost);
  }

  /// Whether a step is ready for next().
  [[nodiscard]] bool ready() const noexcept { return !queue_.empty(); }
  /// Takes the next ready step, or nothing.
  [[nodiscard]] std::optional<stream_step> next() {
    if (queue_.empty()) return std::nullopt;
    stream_step s = std::move(queue_.front());
    queue_.pop_front();
    return s;
  }
  /// Ends the stream: the buffered items are emitted (flush) or, those not filling a step, dropped.
  /// Idempotent.
  void finish() {
    if (finished_) return;
    finished_ = true;
    while (!buffer_.empty()) run_round(true);
  }
  /// Ids dropped by finish() under stream_end::drop_last.
  [[nodiscard]] const std::vector<std::uint64_t>& dropped() const noexcept { return dropped_; }
  /// Items buffered (not yet in an emitted step).
  [[nodiscard]] std::size_t buffered() const noexcept { return buffer_.size(); }
  /// Whether finish() was called.
  [[nodiscard]] bool finished() const noexcept { return finished_; }
  [[nodiscard]] const stream_options<D>& options() const noexcept { return opts_; }

  /// Running figures of everything emitted so far.
  [[nodiscard]] stream_stats stats() const {
    stream_stats s;
    s.pushed = pushed_;
    s.emitted = emitted_;
    s.dropped = dropped_.size();
    s.steps = stat_steps_;
    s.micro_batches = stat_bins_;
    s.rounds = rounds_;
    for (std::size_t d = 0; d < D; ++d) {
      s.dist.push_back(stat_steps_ == 0 ? 0.0 : dist_sum_[d] / static_cast<double>(stat_steps_));
      s.lower_bound = std::max(s.lower_bound, (size_sum_[d] + opts_.caps[d] - 1) / opts_.caps[d]);
    }
    s.cost_dist = stat_steps_ == 0 ? 0.0 : cost_dist_sum_ / static_cast<double>(stat_steps_);
    s.proven_optimal = s.micro_batches <= s.lower_bound;
    return s;
  }

  /// A fingerprint of the options (and of whether a cost model is set): state() records it and
  /// restore() requires the same.
  [[nodiscard]] std::uint64_t options_fingerprint() const noexcept {
    fnv1a64 h;
    h.integer(D).integer(opts_.buffer).integer(opts_.ranks).integer(opts_.seed).integer(opts_.shuffle ? 1 : 0);
    for (const auto c : opts_.caps) h.integer(c);
    h.integer(opts_.warmup_steps).integer(std::bit_cast<std::uint64_t>(opts_.warmup_start));
    h.integer(static_cast<std::uint8_t>(opts_.end)).integer(opts_.max_wait);
    h.integer(static_cast<int>(opts_.oversize_policy)).integer(opts_.passes);
    h.integer(std::bit_cast<std::uint64_t>(opts_.keep_fill)).integer(std::bit_cast<std::uint64_t>(opts_.keep_share));
    h.integer(opts_.max_keep_rounds).integer(has_cost_model ? 1 : 0);
    if (has_group_model) h.integer(2);                           // states without a group model keep their fingerprint
    if (opts_.pad_multiple != 1) h.integer(opts_.pad_multiple);  // states without padding keep their fingerprint
    return h.value();
  }

  /// The whole state as bytes (see file docs; format in docs/streaming.md).
  [[nodiscard]] std::vector<std::byte> state() const {
    detail::stream_writer w;
    for (const char c : magic) w.u8(static_cast<std::uint8_t>(c));
    w.u32(state_version);
    w.u32(static_cast<std::uint32_t>(D));
    w.u64(options_fingerprint());
    w.u64(pushed_);
    w.u64(emitted_);
    w.u64(step_);
    w.u64(rounds_);
    w.u8(finished_ ? 1 : 0);
    w.u8(cost_mode_);
    w.u64(stat_steps_);
    w.u64(stat_bins_);
    for (std::size_t d = 0; d < D; ++d) {
      w.u64(size_sum_[d]);
      w.f64(dist_sum_[d]);
    }
    w.f64(cost_dist_sum_);
    w.u64(buffer_.size());
    for (const item& it : buffer_) {
      w.u64(it.id);
      for (const auto s : it.sizes) w.u64(s);
      w.f64(it.cost);
      w.u32(it.kept);
    }
    w.u64(queue_.size());
    for (const stream_step& s : queue_) {
      w.u64(s.index);
      w.u64(s.ids.size());
      for (std::size_t r = 0; r < s.ranks; ++r) w.u64(s.offsets[r + 1] - s.offsets[r]);
      for (const auto id : s.ids) w.u64(id);
      for (const auto l : s.loads) w.u64(l);
      w.u8(s.costs.empty() ? 0 : 1);
      for (const double c : s.costs) w.f64(c);
      for (const auto c : s.caps) w.u64(c);
    }
    w.u64(dropped_.size());
    for (const auto id : dropped_) w.u64(id);
    auto& bytes = w.bytes();
    const std::uint64_t sum = fnv1a64_bytes(bytes);
    w.u64(sum);
    return std::move(w.bytes());
  }

  /// A batcher continuing from state() bytes; `opts` (and the cost model) must be those of the
  /// batcher that wrote them. Throws invalid_input on a truncated, corrupt, other-version or
  /// other-options state.
  [[nodiscard]] static streaming_batcher restore(std::span<const std::byte> bytes, stream_options<D> opts,
                                                 Cost cost = {}) {
    constexpr const char* where = "streaming_batcher::restore";
    streaming_batcher b(std::move(opts), std::move(cost));
    detail::stream_reader r(bytes, where);
    for (const char c : magic)
      if (r.u8("magic") != static_cast<std::uint8_t>(c))
        throw invalid_input(detail::describe(where, "magic", 0, "not a streaming_batcher state"));
    const std::uint32_t version = r.u32("version");
    if (version != state_version)
      throw invalid_input(detail::describe(
          where, "version", version,
          "unsupported state version (this build reads version " + std::to_string(state_version) + ")"));
    if (bytes.size() < 8 ||
        fnv1a64_bytes(bytes.first(bytes.size() - 8)) != detail::stream_reader(bytes.last(8), where).u64("checksum"))
      throw invalid_input(
          detail::describe(where, "checksum", bytes.size(), "does not match: the state is corrupt or truncated"));
    const std::uint32_t dims = r.u32("dims");
    if (dims != D)
      throw invalid_input(detail::describe(where, "dims", dims, "differs from the batcher's size dimensions"));
    const std::uint64_t fp = r.u64("options_fingerprint");
    if (fp != b.options_fingerprint())
      throw invalid_input(detail::describe(where, "options_fingerprint", fp,
                                           "the state was written under other options (buffer, caps, ranks, seed, "
                                           "warm-up, end, max_wait, policy or cost model differ)"));
    b.pushed_ = r.u64("pushed");
    b.emitted_ = r.u64("emitted");
    b.step_ = r.u64("step");
    b.rounds_ = r.u64("rounds");
    b.finished_ = r.u8("finished") != 0;
    b.cost_mode_ = r.u8("cost_mode");
    if (b.cost_mode_ > 2) throw invalid_input(detail::describe(where, "cost_mode", b.cost_mode_, "is not 0, 1 or 2"));
    b.stat_steps_ = r.u64("stat_steps");
    b.stat_bins_ = r.u64("stat_micro_batches");
    for (std::size_t d = 0; d < D; ++d) {
      b.size_sum_[d] = r.u64("size_sum");
      b.dist_sum_[d] = r.f64("dist_sum");
    }
    b.cost_dist_sum_ = r.f64("cost_dist_sum");
    const std::size_t n = r.count("buffered", 8 * (D + 2) + 4);
    if (n > b.trigger_) throw invalid_input(detail::describe(where, "buffered", n, "exceeds the buffer"));
    b.buffer_.resize(n);
    for (item& it : b.buffer_) {
      it.id = r.u64("item.id");
      for (auto& s : it.sizes) s = r.u64("item.sizes");
      it.cost = r.f64("item.cost");
      it.kept = r.u32("item.kept");
    }
    const std::size_t steps = r.count("pending_steps", 8);
    for (std::size_t k = 0; k < steps; ++k) {
      stream_step s;
      s.ranks = b.opts_.ranks;
      s.dims = D;
      s.pad_multiple = b.opts_.pad_multiple;
      s.index = r.u64("step.index");
      const std::size_t items = r.count("step.items", 8);
      s.offsets.assign(1, 0);
      for (std::size_t q = 0; q < s.ranks; ++q) {
        const std::uint64_t m = r.u64("step.micro_batch_size");
        if (m > items - s.offsets.back())
          throw invalid_input(detail::describe(where, "step.micro_batch_size", m, "exceeds the step's items"));
        s.offsets.push_back(s.offsets.back() + static_cast<std::size_t>(m));
      }
      if (s.offsets.back() != items)
        throw invalid_input(detail::describe(where, "step.items", items, "differs from the micro-batch sizes"));
      s.ids.resize(items);
      for (auto& id : s.ids) id = r.u64("step.ids");
      s.loads.resize(s.ranks * D);
      for (auto& l : s.loads) l = r.u64("step.loads");
      if (r.u8("step.has_costs") != 0) {
        s.costs.resize(s.ranks);
        for (auto& c : s.costs) c = r.f64("step.costs");
      }
      s.caps.resize(D);
      for (auto& c : s.caps) c = r.u64("step.caps");
      b.queue_.push_back(std::move(s));
    }
    const std::size_t nd = r.count("dropped", 8);
    b.dropped_.resize(nd);
    for (auto& id : b.dropped_) id = r.u64("dropped.ids");
    if (r.position() + 8 != r.size())
      throw invalid_input(detail::describe(where, "length", r.size(), "has trailing bytes after the state"));
    return b;
  }

 private:
  static constexpr std::array<char, 8> magic{'F', 'L', 'C', 'R', 'S', 'T', 'R', 'M'};

  struct item {
    std::uint64_t id = 0;
    sizes_type sizes{};
    double cost = 0;
    std::uint32_t kept = 0;  ///< rounds this item went back to the buffer
  };

  static projected_type project(const sizes_type& s) {
    if constexpr (D == 1) {
      return s[0];
    } else {
      return s;
    }
  }

  void validate() const {
    constexpr const char* where = "streaming_batcher";
    for (std::size_t d = 0; d < D; ++d)
      if (opts_.caps[d] == 0)
        throw invalid_input(detail::describe(where, "caps", d, opts_.caps[d], "must be positive"));
    if (opts_.ranks == 0 || opts_.ranks > max_parts)
      throw invalid_input(detail::describe(where, "ranks", opts_.ranks, "must be in 1..max_parts (2^24)"));
    if (opts_.buffer < opts_.ranks)
      throw invalid_input(detail::describe(where, "buffer", opts_.buffer, "must be at least ranks"));
    if (opts_.max_wait != 0 && (opts_.max_wait < opts_.ranks || opts_.max_wait > opts_.buffer))
      throw invalid_input(detail::describe(where, "max_wait", opts_.max_wait, "must be 0 or in ranks..buffer"));
    if (!(opts_.warmup_start > 0.0 && opts_.warmup_start <= 1.0))
      throw invalid_input(detail::describe(where, "warmup_start", opts_.warmup_start, "must be in (0, 1]"));
    if (!(opts_.keep_fill >= 0.0 && opts_.keep_fill <= 1.0))
      throw invalid_input(detail::describe(where, "keep_fill", opts_.keep_fill, "must be in [0, 1]"));
    if (!(opts_.keep_share >= 0.0 && opts_.keep_share < 1.0))
      throw invalid_input(detail::describe(where, "keep_share", opts_.keep_share, "must be in [0, 1)"));
    if (opts_.pad_multiple == 0 || opts_.caps[D - 1] % opts_.pad_multiple != 0)
      throw invalid_input(detail::describe(
          where, "pad_multiple", opts_.pad_multiple,
          "must be positive and divide caps[" + std::to_string(D - 1) + "] = " + std::to_string(opts_.caps[D - 1])));
    if (opts_.oversize_policy == oversize::own_bin)
      throw invalid_input(detail::describe(where, "oversize_policy", std::string("own_bin"),
                                           "is not offered by the streaming batcher (error or truncate)"));
  }

  void push_item(std::uint64_t id, sizes_type sizes, double cost, bool costed) {
    constexpr const char* where = "streaming_batcher::push";
    if (finished_) throw invalid_input(detail::describe(where, "id", id, "pushed after finish()"));
    if (costed && !(std::isfinite(cost) && cost >= 0.0))
      throw invalid_input(detail::describe(where, "cost", cost,
                                           "must be finite and non-negative (item id " + std::to_string(id) + ")"));
    const std::uint8_t mode = costed ? 2 : 1;
    if (cost_mode_ != 0 && cost_mode_ != mode)
      throw invalid_input(detail::describe(
          where, "id", id, costed ? "has a cost but earlier items had none" : "has no cost but earlier items had one"));
    for (std::size_t d = 0; d < D; ++d)
      if (sizes[d] > opts_.caps[d]) {
        if (opts_.oversize_policy == oversize::truncate) {
          sizes[d] = opts_.caps[d];
        } else {
          throw infeasible(detail::describe(where, "sizes", d, sizes[d],
                                            "exceeds caps[" + std::to_string(d) +
                                                "] = " + std::to_string(opts_.caps[d]) + " (item id " +
                                                std::to_string(id) + ")"));
        }
      }
    cost_mode_ = mode;
    buffer_.push_back(item{id, sizes, cost, 0});
    ++pushed_;
    if (buffer_.size() >= trigger_) run_round(false);
  }

  /// Caps of step s: the ramp during warm-up, else the caps.
  [[nodiscard]] sizes_type caps_at(std::uint64_t s) const {
    if (s >= opts_.warmup_steps) return opts_.caps;
    const double frac =
        opts_.warmup_start +
        detail::mul(1.0 - opts_.warmup_start, static_cast<double>(s) / static_cast<double>(opts_.warmup_steps));
    sizes_type c{};
    for (std::size_t d = 0; d < D; ++d)
      c[d] = std::clamp<std::uint64_t>(
          static_cast<std::uint64_t>(std::floor(detail::mul(static_cast<double>(opts_.caps[d]), frac))), 1,
          opts_.caps[d]);
    // The ramped token cap stays a multiple of pad_multiple so padded micro-batches fit it.
    const std::uint64_t m = opts_.pad_multiple;
    c[D - 1] = std::max<std::uint64_t>(c[D - 1] / m * m, m);
    return c;
  }

  /// Packs `sizes` into bins under `cap` (indices into sizes). The filler's scratch is the
  /// batcher's (fill_scratch_): no allocation of its buckets and bitmaps once they have grown.
  [[nodiscard]] std::vector<std::vector<index_type>> fill(std::span<const size_vector<D>> sizes,
                                                          const size_vector<D>& cap) {
    const detail::rank_fill_layout<D> layout = detail::rank_fill_plan<D>(cap);
    if (layout.applies) {
      // The bins' storage comes from earlier rounds (spare_bins_); what this packing does not use
      // goes back.
      std::vector<std::vector<index_type>> bins = std::move(spare_bins_);
      spare_bins_.clear();
      const std::size_t count = detail::rank_fill_into<D>(sizes, cap, layout, fill_scratch_, bins);
      for (std::size_t b = count; b < bins.size(); ++b) spare_bins_.push_back(std::move(bins[b]));
      bins.resize(count);
      return bins;
    }
    const multi_packing<D> p = multi_best_fit_decreasing<D>(sizes, cap);
    std::vector<std::vector<index_type>> bins;
    for (std::size_t b = 0; b < p.bins.size(); ++b) bins.emplace_back(p.bins[b].begin(), p.bins[b].end());
    return bins;
  }

  /// Keeps the storage of a round's bins (those that still have some) for the next packing.
  void recycle(std::vector<std::vector<index_type>>& bins) {
    for (auto& bin : bins)
      if (bin.capacity() > 0) spare_bins_.push_back(std::move(bin));
    bins.clear();
  }

  /// One packing of the buffer; emits steps to the queue. Warm-up: loops one step at a time.
  void run_round(bool final) {
    while (!buffer_.empty() && step_ < opts_.warmup_steps) {
      round(final, true);
      if (!final && buffer_.size() <= keep_limit()) return;
    }
    if (!buffer_.empty()) round(final, false);
  }

  [[nodiscard]] std::size_t keep_limit() const noexcept {
    return static_cast<std::size_t>(std::floor(detail::mul(static_cast<double>(trigger_), opts_.keep_share)));
  }

  void round(bool final, bool warm) {
    const std::size_t k = opts_.ranks;
    sizes_type cap = caps_at(step_);
    // Candidates: the buffered items within this step's caps (all of them after warm-up).
    // The round's buffers live in round_ (kept across rounds: no allocation, no fresh pages).
    auto& cand = round_.cand;
    auto& sizes = round_.sizes;
    // Per candidate, in candidate order: its id and keep count (read per bin item below; the
    // buffer's items are larger and reached in bin order, a cache miss per item at B = 16384).
    auto& cand_id = round_.cand_id;
    auto& cand_kept = round_.cand_kept;
    std::vector<std::vector<index_type>> bins;
    std::vector<index_type> reserve;  // candidates held out of the packing for the deficit fill
    // With several dimensions only items with a non-zero coarse size are held out: items whose
    // coarse sizes are all zero (text-only samples) are the packing's fillers (measured on W1 2-D:
    // reserving them too made the images DistRatio 5x worse, reserving none the tokens 4x worse).
    const bool reserving = !final && !warm && cost_mode_ != 2;
    const std::size_t fine = fine_dim();
    auto reservable = [&](const size_vector<D>& sz) {
      if constexpr (D == 1) {
        (void)sz;
        return true;
      } else {
        for (std::size_t d = 0; d < D; ++d)
          if (d != fine && sz[d] != 0) return true;
        return false;
      }
    };
    auto pack_under = [&](const sizes_type& c) {
      cand.clear();
      sizes.clear();
      cand_id.clear();
      cand_kept.clear();
      // Written by position, then trimmed (no push_back per item).
      cand.resize(buffer_.size());
      sizes.resize(buffer_.size());
      cand_id.resize(buffer_.size());
      cand_kept.resize(buffer_.size());
      std::size_t nc = 0;
      for (std::size_t i = 0; i < buffer_.size(); ++i) {
        const item& it = buffer_[i];
        bool ok = true;
        for (std::size_t d = 0; d < D; ++d) ok = ok && it.sizes[d] <= c[d];
        if (ok) {
          cand[nc] = i;
          sizes[nc] = it.sizes;
          cand_id[nc] = it.id;
          cand_kept[nc] = it.kept;
          ++nc;
        }
      }
      cand.resize(nc);
      sizes.resize(nc);
      cand_id.resize(nc);
      cand_kept.resize(nc);
      reserve.clear();
      if (!reserving || cand.size() < (D == 1 ? 2 : reserve_min_multi) * reserve_stride * k) {
        bins = fill(sizes, c);
        return;
      }
      // Every reserve_stride-th candidate (arrival order: a sample of the sizes) sits this packing
      // out and serves the deficit fill; items kept too often are never reserved.
      auto& packed = round_.packed;
      auto& packed_sizes = round_.packed_sizes;
      packed.clear();
      packed_sizes.clear();
      packed.reserve(cand.size());
      packed_sizes.reserve(cand.size());
      for (std::size_t i = 0; i < cand.size(); ++i) {
        if (i % reserve_stride == reserve_stride - 1 && cand_kept[i] + 1 < opts_.max_keep_rounds &&
            reservable(sizes[i])) {
          reserve.push_back(static_cast<index_type>(i));
        } else {
          packed.push_back(static_cast<index_type>(i));
          packed_sizes.push_back(sizes[i]);
        }
      }
      bins = fill(packed_sizes, c);
      for (auto& bin : bins)
        for (auto& i : bin) i = packed[i];
      if (bins.size() < k) {  // too few bins for one step without the reserve: pack everything
        reserve.clear();
        bins = fill(sizes, c);
      }
    };
    pack_under(cap);
    if (warm && bins.size() < k && cand.size() < buffer_.size()) {
      cap = opts_.caps;  // too little fits the ramped caps: this step uses the full caps
      pack_under(cap);
    }
    ++rounds_;
    const std::size_t nb = bins.size();
    // Loads and fill (dominant normalised load) per bin; bins with an item kept too often first.
    auto& loads = round_.loads;
    auto& fillv = round_.fillv;
    auto& forced = round_.forced;
    auto& first = round_.first;
    loads.assign(nb, size_vector<D>{});
    fillv.assign(nb, 0.0);
    forced.assign(nb, 0);
    first.assign(nb, static_cast<index_type>(-1));
    for (std::size_t b = 0; b < nb; ++b) {
      for (const index_type i : bins[b]) {
        for (std::size_t d = 0; d < D; ++d) loads[b][d] += sizes[i][d];
        if (cand_kept[i] >= opts_.max_keep_rounds) forced[b] = 1;
        first[b] = std::min(first[b], i);
      }
      for (std::size_t d = 0; d < D; ++d)
        fillv[b] = std::max(fillv[b], static_cast<double>(loads[b][d]) / static_cast<double>(cap[d]));
    }
    // Sorted as records holding their keys (no cache miss per comparison). A fill in [0, 1] orders
    // as its bit pattern, so (forced, fill) is one integer: bins sort by it, then by first item.
    auto& order = round_.order;
    order.resize(nb);
    bool unit_fills = true;
    for (std::size_t b = 0; b < nb; ++b) unit_fills = unit_fills && !std::signbit(fillv[b]) && fillv[b] <= 1.0;
    if (unit_fills) {
      struct packed_key {
        std::uint64_t key;  // forced first, then fullest first
        index_type first;
        std::size_t bin;
      };
      constexpr std::uint64_t one = std::bit_cast<std::uint64_t>(1.0);
      std::vector<packed_key> keyed(nb);
      for (std::size_t b = 0; b < nb; ++b)
        keyed[b] =
            packed_key{(forced[b] != 0 ? 0 : std::uint64_t{1} << 63) | (one - std::bit_cast<std::uint64_t>(fillv[b])),
                       first[b], b};
      std::sort(keyed.begin(), keyed.end(), [](const packed_key& a, const packed_key& b) {
        if (a.key != b.key) return a.key < b.key;
        return a.first != b.first ? a.first < b.first : a.bin < b.bin;
      });
      for (std::size_t q = 0; q < nb; ++q) order[q] = keyed[q].bin;
    } else {
      struct bin_key {
        double fill;
        index_type first;
        char forced;
        std::size_t bin;
      };
      std::vector<bin_key> keyed(nb);
      for (std::size_t b = 0; b < nb; ++b) keyed[b] = bin_key{fillv[b], first[b], forced[b], b};
      std::sort(keyed.begin(), keyed.end(), [](const bin_key& a, const bin_key& b) {
        if (a.forced != b.forced) return a.forced > b.forced;
        if (a.fill != b.fill) return a.fill > b.fill;
        return a.first < b.first;
      });
      for (std::size_t q = 0; q < nb; ++q) order[q] = keyed[q].bin;
    }
    // How many bins to emit.
    std::size_t emit = 0;
    if (final) {
      emit = opts_.end == stream_end::flush ? (warm ? std::min(nb, k) : nb) : (warm ? (nb >= k ? k : 0) : nb / k * k);
    } else if (warm) {
      emit = std::min(nb, k);
    } else {
      std::size_t good = 0;
      while (good < nb && (forced[order[good]] != 0 || fillv[order[good]] >= opts_.keep_fill)) ++good;
      emit = good / k * k;
      std::size_t left = 0;
      for (std::size_t q = emit; q < nb; ++q) left += bins[order[q]].size();
      while (left > keep_limit() && emit + k <= nb) {
        for (std::size_t q = emit; q < emit + k; ++q) left -= bins[order[q]].size();
        emit += k;
      }
      if (emit == 0 && buffer_.size() >= trigger_) emit = std::min(nb, k);  // a full buffer always moves
      if (emit >= k && emit % k == 0) emit = cut_by_class(bins, loads, forced, order, emit, left);
    }
    // Costs of the candidates (balance by cost when the stream carries costs).
    std::vector<cost_t> costs;
    if (cost_mode_ == 2) {
      costs.resize(cand.size());
      for (std::size_t i = 0; i < cand.size(); ++i) costs[i] = buffer_[cand[i]].cost;
    }
    // Emitted bins: dealt into steps and balanced as in pack_for_ranks.
    auto& taken = round_.taken;
    taken.assign(buffer_.size(), 0);
    if (emit > 0) {
      detail::rank_state<D> st;
      st.sizes = sizes;
      st.capacity = cap;
      st.costs = costs;
      st.ranks = k;
      const std::size_t steps = (emit + k - 1) / k;
      st.bins.reserve(steps * k);
      for (std::size_t q = 0; q < emit; ++q) st.bins.push_back(std::move(bins[order[q]]));
      st.bins.resize(steps * k);
      if (costs.empty()) {
        // The loads are the bins' (integer sums, as rank_recompute would add them up again).
        st.loads.assign(steps * k, size_vector<D>{});
        for (std::size_t q = 0; q < emit; ++q) st.loads[q] = loads[order[q]];
        st.cost_loads.assign(steps * k, 0.0);
      } else {
        detail::rank_recompute(st);
      }
      if (costs.empty()) {
        for (std::size_t d = 0; d < D; ++d) st.norm.push_back(static_cast<double>(cap[d]));
      } else {
        double total = 0;
        for (const double c : st.cost_loads) total += c;
        st.norm.push_back(total > 0 ? total / static_cast<double>(emit) : 1.0);
      }
      detail::rank_order_bins(st);
      // One scratch for every step (no allocation per step; its memo never matches across steps).
      detail::rank_step_scratch scratch;
      for (std::size_t s = 0; s < steps; ++s)
        detail::rank_balance_step(st, s * k, reserve.empty() ? opts_.passes : 0, scratch);
      // A flush's last round holds the least full bins: re-deal the items of the worst steps
      // together with their neighbours in the load order (same coarse class, fuller bins).
      if (final && !warm && opts_.end == stream_end::flush) {
        const std::size_t tail = std::min<std::size_t>(steps, even_tail_steps);
        std::vector<char> tried(steps, 0);
        for (std::size_t window = 0; window < even_tail_windows; ++window) {
          std::size_t worst = steps;
          double worst_spread = 0;
          for (std::size_t s = 0; s < steps; ++s) {
            if (tried[s] != 0) continue;
            const double w = relative_spread(st, s * k);
            if (w > worst_spread) {
              worst_spread = w;
              worst = s;
            }
          }
          if (worst == steps) break;
          tried[worst] = 1;
          const std::size_t from = std::min(worst > 0 ? worst - 1 : 0, steps - tail);
          detail::stream_even_steps(st, from * k, tail);
          for (std::size_t s = from; s < from + tail; ++s) detail::rank_balance_step(st, s * k, opts_.passes, scratch);
        }
      }
      if (costs.empty() && (emit < nb || !reserve.empty())) {
        // Raise each micro-batch toward its step's largest token load with items not emitted.
        auto& pool = round_.pool;
        pool.assign(reserve.begin(), reserve.end());
        for (std::size_t q = emit; q < nb; ++q) pool.insert(pool.end(), bins[order[q]].begin(), bins[order[q]].end());
        auto& movable = round_.movable;
        movable.assign(cand.size(), 0);
        for (std::size_t i = 0; i < cand.size(); ++i)
          movable[i] = cand_kept[i] < (D == 1 ? opts_.max_keep_rounds : movable_keeps) ? 1 : 0;
        detail::stream_deficit_fill<D> fill_deficits(st, fine_dim(), pool);
        fill_deficits.run(st, emit / k, movable, refine_moves);
        // Regroup (one dimension): bins of equal loads from different steps meet, then fill what
        // is left. With several dimensions the coarse order comes first and the tokens suffer.
        const bool regroup = D == 1 && emit / k >= regroup_min_steps;
        for (std::size_t again = 0; again < (regroup ? regroup_passes : 0); ++again) {
          detail::rank_order_bins(st);
          fill_deficits.run(st, emit / k, movable, refine_moves);
        }
      }
      std::vector<cost_t> group_costs;
      if constexpr (has_group_model) group_costs = even_under_group_model(st, sizes, cap, steps);
      // Shuffle the steps (a last step holding empty bins stays last) and the ranks in each step.
      std::vector<std::size_t> step_order(steps);
      std::iota(step_order.begin(), step_order.end(), std::size_t{0});
      rng gen(fnv1a64(opts_.seed).integer(rounds_).value());
      if (opts_.shuffle) gen.shuffle(std::span<std::size_t>(step_order.data(), emit < steps * k ? steps - 1 : steps));
      std::vector<std::size_t> rank_order(k);
      for (std::size_t s = 0; s < steps; ++s) {
        std::iota(rank_order.begin(), rank_order.end(), std::size_t{0});
        if (opts_.shuffle) gen.shuffle(std::span<std::size_t>(rank_order));
        stream_step out;
        out.index = step_++;
        out.ranks = k;
        out.dims = D;
        out.pad_multiple = opts_.pad_multiple;
        out.offsets.reserve(k + 1);
        out.offsets.push_back(0);
        out.loads.reserve(k * D);
        out.caps.assign(cap.begin(), cap.end());
        std::size_t step_items = 0;
        for (std::size_t r = 0; r < k; ++r) step_items += st.bins[step_order[s] * k + r].size();
        out.ids.resize(step_items);
        if (!costs.empty() || has_group_model) out.costs.reserve(k);
        std::size_t at = 0;
        for (std::size_t r = 0; r < k; ++r) {
          const std::size_t b = step_order[s] * k + rank_order[r];
          auto& bin = st.bins[b];
          const std::size_t m = bin.size();
          if (m <= small_bin) {
            // In candidate order: each item at its rank (the count of smaller ones; candidates are
            // distinct), compare-and-add without branches, instead of a sort of the bin.
            for (std::size_t q = 0; q < m; ++q) {
              const index_type i = bin[q];
              std::size_t rank = 0;
              for (std::size_t p = 0; p < m; ++p) rank += bin[p] < i ? 1 : 0;
              out.ids[at + rank] = cand_id[i];
              taken[cand[i]] = 1;
            }
            at += m;
          } else {
            std::sort(bin.begin(), bin.end());
            for (const index_type i : bin) {
              out.ids[at++] = cand_id[i];
              taken[cand[i]] = 1;
            }
          }
          out.offsets.push_back(at);
          for (std::size_t d = 0; d < D; ++d) out.loads.push_back(st.loads[b][d]);
          if (!costs.empty()) out.costs.push_back(st.cost_loads[b]);
          if (!group_costs.empty()) out.costs.push_back(group_costs[b]);
          if (!bin.empty()) ++stat_bins_;
        }
        account(out);
        queue_.push_back(std::move(out));
      }
      recycle(st.bins);
    }
    recycle(bins);
    // Leftovers stay in arrival order (compacted in place); in a final round they are dropped
    // (drop_last).
    std::size_t kept = 0;
    for (std::size_t i = 0; i < buffer_.size(); ++i) {
      if (taken[i] != 0) continue;
      if (final && !warm && opts_.end == stream_end::drop_last) {
        dropped_.push_back(buffer_[i].id);
        continue;
      }
      if (kept != i) buffer_[kept] = buffer_[i];
      if (!warm) ++buffer_[kept].kept;
      ++kept;
    }
    buffer_.resize(kept);
    if (final && warm && emit == 0 && opts_.end == stream_end::drop_last) {
      for (const item& it : buffer_) dropped_.push_back(it.id);
      buffer_.clear();
    }
  }

  /// Group model: each step's micro-batches evened by the min-max search of core/group_cost.hpp
  /// on their fine sizes (within every cap, never emptying or filling a micro-batch); returns every
  /// bin's group cost.
  std::vector<cost_t> even_under_group_model(detail::rank_state<D>& st, std::span<const size_vector<D>> sizes,
                                             const sizes_type& cap, std::size_t steps) const {
    const std::size_t k = opts_.ranks;
    std::vector<double> values(sizes.size());
    for (std::size_t i = 0; i < sizes.size(); ++i) values[i] = static_cast<double>(sizes[i][D - 1]);
    const auto model = detail::group_model_of(cost_);
    std::vector<cost_t> group_costs(st.bins.size());
    constexpr index_type none = detail::group_parts<decltype(model)>::none;
    for (std::size_t s = 0; s < steps; ++s)
      detail::even_bins(
          std::span(st.bins).subspan(s * k, k), std::span(group_costs).subspan(s * k, k), values, model,
          static_cast<std::uint64_t>(opts_.passes) * k, "streaming_batcher",
          [&](std::size_t r, index_type gone, index_type in) {
            for (std::size_t d = 0; d < D; ++d)
              if (st.loads[s * k + r][d] - (gone == none ? 0 : sizes[gone][d]) + sizes[in][d] > cap[d]) return false;
            return true;
          },
          [&](index_type i, std::size_t from, std::size_t to) {
            for (std::size_t d = 0; d < D; ++d) {
              st.loads[s * k + from][d] -= sizes[i][d];
              st.loads[s * k + to][d] += sizes[i][d];
            }
          });
    return group_costs;
  }

  /// (max - min) / max of the step at bins [first, first + ranks), in cost or else in the fine
  /// dimension (a step mixed in a coarse one is not mended by a re-deal with its neighbours).
  [[nodiscard]] double relative_spread(const detail::rank_state<D>& st, std::size_t first) const {
    const std::size_t e = st.costs.empty() ? fine_dim() : 0;
    double hi = 0, lo = std::numeric_limits<double>::max();
    for (std::size_t b = first; b < first + st.ranks; ++b) {
      hi = std::max(hi, st.bin_value(b, e));
      lo = std::min(lo, st.bin_value(b, e));
    }
    return hi > 0 ? (hi - lo) / hi : 0.0;
  }
  /// The fine dimension: the one with the largest cap (tokens); the others are coarse.
  [[nodiscard]] std::size_t fine_dim() const noexcept {
    std::size_t fine = 0;
    for (std::size_t d = 1; d < D; ++d)
      if (opts_.caps[d] > opts_.caps[fine]) fine = d;
    return fine;
  }
  /// Most deficit-fill moves per micro-batch and round (runtime/detail/stream_refine.hpp).
  static constexpr std::size_t refine_moves = 8;
  /// Bins of at most this many items are laid out in candidate order by ranks, larger ones sorted.
  static constexpr std::size_t small_bin = 32;
  /// Regroup-and-fill passes per round (one dimension), in rounds of at least regroup_min_steps
  /// steps (fewer steps hold few bins of equal loads to regroup: the passes cost 4x the batcher's
  /// time at B = 256 for little).
  static constexpr std::size_t regroup_passes = 3;
  static constexpr std::size_t regroup_min_steps = 16;
  /// A flush re-deals this many neighbouring steps together (runtime/detail/stream_refine.hpp),
  /// around each of its even_tail_windows most unbalanced steps.
  static constexpr std::size_t even_tail_steps = 4;
  static constexpr std::size_t even_tail_windows = 8;
  /// With several dimensions, only items kept fewer rounds than this are swapped out of an emitted
  /// micro-batch: items pushed toward max_keep_rounds force bins of mixed coarse loads into a round
  /// (measured on W1 2-D: images DistRatio 1.8x worse when every item may move).
  static constexpr std::uint32_t movable_keeps = 3;
  /// One candidate in this many is held out of a round's packing for the deficit fill.
  static constexpr std::size_t reserve_stride = 8;
  /// With several dimensions, a round reserves only with at least reserve_min_multi *
  /// reserve_stride * ranks candidates (one dimension: 2 *): a small round's pool splits by coarse
  /// sizes and its steps keep their local search (W1 2-D, B = 256: tokens DistRatio 1.7x worse
  /// when reserving).
  static constexpr std::size_t reserve_min_multi = 16;

  /// Steps balance best when their bins agree in the coarse dimensions (all but the one with the
  /// largest cap, e.g. the image count). Per class of coarse loads, the emitted bins beyond a
  /// multiple of `ranks` (the least full ones) go back to the buffer; where that is not allowed (an
  /// item kept too often, or the leftovers would pass keep_limit()) the class is completed with
  /// not-yet-emitted bins of the same class, else its surplus is emitted in mixed steps (rounded to
  /// whole steps by keeping or adding the least full bins). order[0, result) are the emitted bins.
  std::size_t cut_by_class(const std::vector<std::vector<index_type>>& bins, const std::vector<size_vector<D>>& loads,
                           const std::vector<char>& forced, std::vector<std::size_t>& order, std::size_t emit,
                           std::size_t left) const {
    if constexpr (D == 1) {
      return emit;
    } else {
      if (cost_mode_ == 2) return emit;
      const std::size_t k = opts_.ranks;
      const std::size_t nb = order.size();
      const std::size_t fine = fine_dim();
      auto key_less = [&](std::size_t a, std::size_t b) {
        for (std::size_t d = 0; d < D; ++d)
          if (d != fine && loads[a][d] != loads[b][d]) return loads[a][d] < loads[b][d];
        return false;
      };
      // Positions q in [0, nb) by class, each class in order (emitted ones first, fullest first).
      std::vector<std::size_t> pos(nb);
      std::iota(pos.begin(), pos.end(), std::size_t{0});
      std::stable_sort(pos.begin(), pos.end(),
                       [&](std::size_t a, std::size_t b) { return key_less(order[a], order[b]); });
      std::vector<char> out(nb, 0);  // 1: emitted
      for (std::size_t q = 0; q < emit; ++q) out[q] = 1;
      std::size_t kept_items = left;
      std::vector<std::size_t> mixed;  // positions emitted in mixed steps
      for (std::size_t lo = 0; lo < nb;) {
        std::size_t hi = lo + 1;
        while (hi < nb && !key_less(order[pos[lo]], order[pos[hi]])) ++hi;
        std::size_t e = 0;  // emitted of the class: pos[lo, lo + e)
        while (lo + e < hi && pos[lo + e] < emit) ++e;
        const std::size_t rem = e % k;
        if (rem > 0) {
          std::size_t items = 0;
          bool may_cut = true;
          for (std::size_t q = lo + e - rem; q < lo + e; ++q) {
            items += bins[order[pos[q]]].size();
            may_cut = may_cut && forced[order[pos[q]]] == 0;
          }
          if (may_cut && kept_items + items <= keep_limit()) {
            for (std::size_t q = lo + e - rem; q < lo + e; ++q) out[pos[q]] = 0;
            kept_items += items;
          } else if (hi - lo - e >= k - rem) {
            for (std::size_t q = lo + e; q < lo + e + k - rem; ++q) out[pos[q]] = 1;
          } else {
            for (std::size_t q = lo + e - rem; q < lo + e; ++q) mixed.push_back(pos[q]);
          }
        }
        lo = hi;
      }
      if (mixed.size() % k != 0) {
        // Keep the least full non-forced mixed bins, else add the fullest bins not emitted.
        std::sort(mixed.begin(), mixed.end());
        const std::size_t need = mixed.size() % k;
        std::size_t free_bins = 0;
        for (const std::size_t q : mixed) free_bins += forced[order[q]] == 0 ? 1 : 0;
        if (free_bins >= need) {
          std::size_t left_to_keep = need;
          for (std::size_t q = mixed.size(); q-- > 0 && left_to_keep > 0;)
            if (forced[order[mixed[q]]] == 0) {
              out[mixed[q]] = 0;
              --left_to_keep;
            }
        } else {
          std::size_t add = k - need;
          for (std::size_t q = 0; q < nb && add > 0; ++q)
            if (out[q] == 0) {
              out[q] = 1;
              --add;
            }
          if (add > 0) return emit;
        }
      }
      std::vector<std::size_t> head, tail;
      for (std::size_t q = 0; q < nb; ++q) (out[q] != 0 ? head : tail).push_back(order[q]);
      if (head.size() % k != 0 || head.empty()) return emit;
      std::copy(head.begin(), head.end(), order.begin());
      std::copy(tail.begin(), tail.end(), order.begin() + static_cast<std::ptrdiff_t>(head.size()));
      return head.size();
    }
  }

  void account(const stream_step& s) {
    ++stat_steps_;
    emitted_ += s.ids.size();
    for (std::size_t d = 0; d < D; ++d) {
      dist_sum_[d] += s.dist(d);
      for (std::size_t r = 0; r < s.ranks; ++r) size_sum_[d] = checked_add(size_sum_[d], s.loads[r * D + d], "sizes");
    }
    if (!s.costs.empty()) cost_dist_sum_ += dist_ratio_of_loads(s.costs, 1, s.ranks);
  }

  stream_options<D> opts_;
  Cost cost_;
  std::size_t trigger_ = 0;
  std::vector<item> buffer_;
  std::deque<stream_step> queue_;
  std::vector<std::uint64_t> dropped_;
  std::uint64_t pushed_ = 0;
  std::uint64_t emitted_ = 0;
  std::uint64_t step_ = 0;
  std::uint64_t rounds_ = 0;
  bool finished_ = false;
  std::uint8_t cost_mode_ = 0;  ///< 0 no item yet, 1 items without cost, 2 items with cost
  std::uint64_t stat_steps_ = 0;
  std::uint64_t stat_bins_ = 0;
  std::array<std::uint64_t, D> size_sum_{};
  std::vector<double> dist_sum_;
  double cost_dist_sum_ = 0;
  /// Scratch of the bin filler, reused by every round (not part of the state).
  detail::rank_fill_scratch<D> fill_scratch_;
  // round()'s buffers, kept across rounds (not part of the state: each round overwrites them).
  struct round_buffers {
    std::vector<std::size_t> cand;
    std::vector<size_vector<D>> sizes;
    std::vector<std::uint64_t> cand_id;
    std::vector<std::uint32_t> cand_kept;
    std::vector<index_type> packed;
    std::vector<size_vector<D>> packed_sizes;
    std::vector<size_vector<D>> loads;
    std::vector<double> fillv;
    std::vector<char> forced;
    std::vector<index_type> first;
    std::vector<char> taken;
    std::vector<std::size_t> order;
    std::vector<index_type> pool;
    std::vector<char> movable;
  };
  round_buffers round_;
  /// Storage of earlier rounds' bins, reused by the bin filler (not part of the state).
  std::vector<std::vector<index_type>> spare_bins_;
};

}  // namespace fulcrum
