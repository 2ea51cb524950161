// SPDX-License-Identifier: Apache-2.0
/// @file testing/dispatch_checks.hpp
/// Test and benchmark helpers for the dispatcher, independent of its code:
///   - `w1_local_batch`: rank r's share of a W1 workload with deterministic payloads (the bytes of
///     sample g are a function of g alone, so any rank can recompute what it must receive);
///   - `payload_checksum`: FNV-1a of a byte string;
///   - `check_dispatch`: a collective check, run on every rank after a dispatch, that every sample
///     arrived exactly once, on a rank the plan names, with its metadata and payload intact, and
///     that every rank has the same number of micro-batches. It compares the multiset of
///     (global id, metadata, checksum) sent with the multiset received, gathered on every rank.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/core/hash.hpp"
#include "fulcrum/core/sample.hpp"
#include "fulcrum/dispatch/dispatch.hpp"
#include "fulcrum/dispatch/sample_batch.hpp"
#include "fulcrum/testing/checkers.hpp"
#include "fulcrum/testing/workloads.hpp"

namespace fulcrum::testing {

/// 64-bit FNV-1a of a byte string.
[[nodiscard]] inline std::uint64_t payload_checksum(std::span<const std::byte> bytes) noexcept {
  return fnv1a64_bytes(bytes);
}

/// The payload of global sample g: `size` bytes that depend on g and the position only.
[[nodiscard]] inline std::vector<std::byte> synthetic_payload(std::uint64_t g, std::size_t size) {
  std::vector<std::byte> out(size);
  std::uint64_t x = g * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
  for (std::size_t j = 0; j < size; ++j) {
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ULL;
    out[j] = static_cast<std::byte>(x >> 56);
  }
  return out;
}

/// First global index of each rank when `n` samples are split unevenly over `ranks` (rank r gets
/// a share proportional to 1 + r % 3, so ranks start out imbalanced); ranks + 1 entries.
[[nodiscard]] inline std::vector<std::size_t> skewed_split(std::size_t n, std::size_t ranks) {
  std::vector<std::size_t> weight(ranks), start(ranks + 1, 0);
  std::size_t total = 0;
  for (std::size_t r = 0; r < ranks; ++r) total += weight[r] = 1 + r % 3;
  std::size_t acc = 0;
  for (std::size_t r = 0; r < ranks; ++r) {
    acc += weight[r];
    start[r + 1] = n * acc / total;
  }
  return start;
}

/// Rank `rank`'s share of W1(n, seed) under skewed_split, with payloads of `payload_bytes(g)`.
template <class PayloadBytes>
[[nodiscard]] sample_batch<multimodal_sample> w1_local_batch(std::size_t n, std::size_t rank, std::size_t ranks,
                                                             PayloadBytes payload_bytes, std::uint64_t seed = default_seed) {
  const auto all = generate_w1(n, seed);
  const auto start = skewed_split(n, ranks);
  sample_batch<multimodal_sample> local;
  for (std::size_t g = start[rank]; g < start[rank + 1]; ++g)
    local.push_back(all[g], synthetic_payload(g, static_cast<std::size_t>(payload_bytes(g))));
  return local;
}

namespace detail {
struct fingerprint {
  std::uint64_t global;
  std::uint64_t checksum;
  std::uint64_t bytes;
  std::uint32_t text_tokens;
  std::uint32_t images;
  std::uint64_t holder;  ///< rank that has it (sent: origin; received: receiver)
  friend bool operator==(const fingerprint&, const fingerprint&) = default;
};
}  // namespace detail

/// Collective check of a dispatch of multimodal samples (see the file comment). Call on every
/// rank with that rank's input and result; returns the same verdict on every rank.
template <communicator C>
[[nodiscard]] check_result check_dispatch(C& c, const sample_batch<multimodal_sample>& local,
                                          const dispatch_result<multimodal_sample>& got) {
  using detail::fingerprint;
  const std::size_t p = comm::size(c), me = comm::rank(c);
  // What this rank sent (global ids from the gathered local counts).
  const std::uint64_t count = local.size();
  const auto counts = comm::all_gather(c, std::span<const std::uint64_t>(&count, 1));
  std::uint64_t base = 0;
  for (std::size_t r = 0; r < me; ++r) base += counts[r];
  std::vector<fingerprint> sent, received;
  for (std::size_t i = 0; i < local.size(); ++i)
    sent.push_back({base + i, payload_checksum(local.payload(i)), local.payload(i).size(), local.meta(i).text_tokens,
                    local.meta(i).images, me});
  for (std::size_t i = 0; i < got.samples.size(); ++i)
    received.push_back({got.ids[i].global, payload_checksum(got.samples.payload(i)), got.samples.payload(i).size(),
                        got.samples.meta(i).text_tokens, got.samples.meta(i).images, me});
  const auto all_sent = comm::all_gather_v(c, sent).values;
  const auto all_received = comm::all_gather_v(c, received).values;
  const std::uint64_t steps = got.micro_batches.size();
  const auto all_steps = comm::all_gather(c, std::span<const std::uint64_t>(&steps, 1));
  std::ostringstream problem;
  for (std::size_t r = 0; r < p; ++r)
    if (all_steps[r] != all_steps[0]) {
      problem << "rank " << r << " has " << all_steps[r] << " micro-batches, rank 0 has " << all_steps[0];
      return check_result::fail(problem.str());
    }
  if (got.micro_batches.item_count() != got.samples.size())
    return check_result::fail("micro-batches do not cover the received samples exactly");
  if (all_received.size() != all_sent.size()) {
    problem << all_sent.size() << " samples sent, " << all_received.size() << " received";
    return check_result::fail(problem.str());
  }
  // Exactly once, intact, and on the rank the plan names.
  const auto dest = got.plan.destination(all_sent.size());
  std::vector<int> seen(all_sent.size(), 0);
  for (const auto& f : all_received) {
    if (f.global >= all_sent.size()) return check_result::fail("received an unknown sample id " + std::to_string(f.global));
    if (seen[f.global]++) return check_result::fail("sample " + std::to_string(f.global) + " received twice");
    const auto& s = all_sent[f.global];
    if (s.global != f.global) return check_result::fail("sent fingerprints out of order");
    if (f.checksum != s.checksum || f.bytes != s.bytes)
      return check_result::fail("sample " + std::to_string(f.global) + ": payload differs after the exchange");
    if (f.text_tokens != s.text_tokens || f.images != s.images)
      return check_result::fail("sample " + std::to_string(f.global) + ": metadata differs after the exchange");
    if (f.holder != dest[f.global])
      return check_result::fail("sample " + std::to_string(f.global) + " is on rank " + std::to_string(f.holder) +
                                ", the plan says rank " + std::to_string(dest[f.global]));
  }
  return {};
}

}  // namespace fulcrum::testing
