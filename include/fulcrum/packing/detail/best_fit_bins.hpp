// SPDX-License-Identifier: Apache-2.0
/// @file packing/detail/best_fit_bins.hpp
/// The open bins of best fit, indexed by remaining room, answering "the bin with the least room
/// >= s; among equal rooms the lowest bin index" (the textbook tie rule) without scanning bins.
///
/// Two interchangeable implementations with identical answers:
/// - `bucket_best_fit` (rooms in [0, C], C moderate): one bucket per room value; the non-empty
///   buckets are a successor_bitmap (next bucket >= s in <= 4 word operations for C <= 2^24); each
///   bucket is an intrusive pairing heap of bin indices (min index on top). O(C) setup, amortised
///   O(log k) per take where k is the bucket's population, O(1) per put.
/// - `ordered_best_fit` (any capacity): a std::set of (room, bin), O(log B) per operation.
/// Bins whose room is below `min_size` (the smallest item still to come) can never receive an
/// item again and are not stored. Each is a store for detail/greedy.hpp: `place(s, loads)`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "fulcrum/core/types.hpp"
#include "fulcrum/packing/detail/successor_bitmap.hpp"

namespace fulcrum::detail {

inline constexpr index_type no_bin = static_cast<index_type>(-1);

/// The store protocol on top of take/put: best bin for s (or a new one), loads updated.
template <class Bins>
index_type place_by_take_put(Bins& bins, std::uint64_t s, std::uint64_t capacity, std::vector<std::uint64_t>& loads) {
  auto [b, room] = bins.take(s);
  if (b == no_bin) {
    b = static_cast<index_type>(loads.size());
    loads.push_back(s);
    room = capacity;
  } else {
    loads[b] += s;
  }
  bins.put(b, room - s);
  return b;
}

template <class = void>
class basic_bucket_best_fit {
 public:
  basic_bucket_best_fit(std::uint64_t capacity, std::uint64_t min_size, std::size_t expected_bins = 0)
      : capacity_(capacity), min_size_(min_size), heads_(static_cast<std::size_t>(capacity) + 1, no_bin),
        nonempty_(capacity + 1) {
    child_.reserve(expected_bins);
    sibling_.reserve(expected_bins);
  }

  index_type place(std::uint64_t s, std::vector<std::uint64_t>& loads) {
    return place_by_take_put(*this, s, capacity_, loads);
  }

  /// Removes and returns {bin, room} with the least room >= s (lowest bin on ties), or {no_bin, 0}.
  std::pair<index_type, std::uint64_t> take(std::uint64_t s) {
    const std::size_t r = nonempty_.next(static_cast<std::size_t>(s));
    if (r == successor_bitmap::none) return {no_bin, 0};
    const index_type b = heads_[r];
    heads_[r] = combine(child_[b]);
    if (heads_[r] == no_bin) nonempty_.erase(r);
    return {b, r};
  }

  /// Stores bin b with the given room (b may be a new bin: indices grow by one).
  void put(index_type b, std::uint64_t room) {
    if (room < min_size_) return;
    if (b >= child_.size()) {
      child_.resize(static_cast<std::size_t>(b) + 1, no_bin);
      sibling_.resize(static_cast<std::size_t>(b) + 1, no_bin);
    }
    child_[b] = sibling_[b] = no_bin;
    const auto r = static_cast<std::size_t>(room);
    if (heads_[r] == no_bin) nonempty_.insert(r);
    heads_[r] = meld(heads_[r], b);
  }

 private:
  // Pairing heap on bin indices; child_/sibling_ are the intrusive links.
  index_type meld(index_type a, index_type b) noexcept {
    if (a == no_bin) return b;
    if (b == no_bin) return a;
    if (b < a) std::swap(a, b);
    sibling_[b] = child_[a];
    child_[a] = b;
    return a;
  }
  // Two-pass pairing of a sibling list.
  index_type combine(index_type first) noexcept {
    if (first == no_bin) return no_bin;
    index_type stack = no_bin;  // melded pairs, linked through sibling_, last pair on top
    index_type a = first;
    while (a != no_bin) {
      const index_type b = sibling_[a];
      if (b == no_bin) {
        sibling_[a] = stack;
        stack = a;
        break;
      }
      const index_type next = sibling_[b];
      sibling_[a] = sibling_[b] = no_bin;
      const index_type m = meld(a, b);
      sibling_[m] = stack;
      stack = m;
      a = next;
    }
    index_type result = stack;
    stack = sibling_[stack];
    sibling_[result] = no_bin;
    while (stack != no_bin) {
      const index_type next = sibling_[stack];
      sibling_[stack] = no_bin;
      result = meld(stack, result);
      stack = next;
    }
    return result;
  }

  std::uint64_t capacity_;
  std::uint64_t min_size_;
  std::vector<index_type> heads_;  // pairing-heap root per room value
  successor_bitmap nonempty_;
  std::vector<index_type> child_, sibling_;
};
using bucket_best_fit = basic_bucket_best_fit<>;

template <class = void>
class basic_ordered_best_fit {
 public:
  basic_ordered_best_fit(std::uint64_t capacity, std::uint64_t min_size) : capacity_(capacity), min_size_(min_size) {}

  index_type place(std::uint64_t s, std::vector<std::uint64_t>& loads) {
    return place_by_take_put(*this, s, capacity_, loads);
  }

  std::pair<index_type, std::uint64_t> take(std::uint64_t s) {
    const auto it = bins_.lower_bound({s, index_type{0}});
    if (it == bins_.end()) return {no_bin, 0};
    const auto [room, b] = *it;
    bins_.erase(it);
    return {b, room};
  }

  void put(index_type b, std::uint64_t room) {
    if (room >= min_size_) bins_.emplace(room, b);
  }

 private:
  std::uint64_t capacity_;
  std::uint64_t min_size_;
  std::set<std::pair<std::uint64_t, index_type>> bins_;
};
using ordered_best_fit = basic_ordered_best_fit<>;

/// Whether the bucket structure pays: C <= 2^24 and C <= 8n + 65536.
template <class = void>
[[nodiscard]] inline bool buckets_pay(std::size_t n, std::uint64_t capacity) noexcept {
  return capacity <= (std::uint64_t{1} << 24) && capacity <= 8 * static_cast<std::uint64_t>(n) + 65536;
}

}  // namespace fulcrum::detail
