// SPDX-License-Identifier: Apache-2.0
/// @file cuda/detail/bulk_best_fit.hpp
/// Best-fit decreasing simulated on the size histogram, in bulk (host code, no CUDA include).
///
/// Input: the distinct sizes in decreasing order with their counts (what a device sort + run-length
/// encoding produces), the capacity and a tie rule between bins with equal room:
///  - lifo: the bin that entered that room most recently (fulcrum::histogram_pack's rule 2);
///  - lowest_index: the lowest-numbered bin (fulcrum::best_fit_decreasing).
/// Output: "runs" of the sorted item sequence: run = `bins` consecutive bins (first_bin, first_bin
/// + step, ...) each receiving `per_bin` consecutive items; the device expands runs into the
/// per-item assignment in parallel.
///
/// Why bulk is exact: an item of size s goes to a bin with the least room r >= s. No bin had a
/// room in [s, r), so after the item the same bin (room r - s) is the unique least room >= s if
/// r - s >= s: it keeps receiving items of size s until its room is below s. So a bin visited by
/// size class s takes min(floor(r/s), remaining) items at once, and a whole group of bins with
/// the same room is visited in tie-rule order, each ending at room r mod s. Bins are kept as
/// segments of arithmetic id sequences; per step one segment is split at most once. Steps are
/// O(distinct sizes + segments), independent of n for histogram-shaped inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <utility>
#include <vector>

#include "fulcrum/core/types.hpp"

namespace fulcrum::cuda::detail {

enum class equal_room_rule { lifo, lowest_index };

/// `bins` bins first_bin, first_bin+step, ... each take `per_bin` items; the run starts at sorted
/// position `first_position`.
struct pack_run {
  std::uint64_t first_position;
  std::uint64_t per_bin;
  std::uint64_t bins;
  std::int64_t first_bin;
  std::int64_t step;  // +1 or -1
};

/// Bins first, first+step, ..., in visiting order.
struct bin_segment {
  std::int64_t first;
  std::uint64_t count;
  std::int64_t step;
  [[nodiscard]] std::int64_t at(std::uint64_t t) const { return first + step * static_cast<std::int64_t>(t); }
};

/// Bins sharing one room under the LIFO rule: a stack of segments (back() is the top; each
/// segment lists its bins from the top down).
class lifo_room {
 public:
  [[nodiscard]] bool empty() const noexcept { return stack_.empty(); }
  /// Up to `most` bins from the top, in visiting order.
  bin_segment take(std::uint64_t most) {
    bin_segment& top = stack_.back();
    if (top.count <= most) {
      const bin_segment all = top;
      stack_.pop_back();
      return all;
    }
    const bin_segment part{top.first, most, top.step};
    top.first = top.at(most);
    top.count -= most;
    return part;
  }
  /// The bins of `visited` entered this room in visiting order: the last one is on top.
  void put(const bin_segment& visited) {
    stack_.push_back(bin_segment{visited.at(visited.count - 1), visited.count, -visited.step});
  }

 private:
  std::vector<bin_segment> stack_;
};

/// Bins sharing one room under the lowest-index rule: disjoint id intervals [first, last].
class lowest_index_room {
 public:
  [[nodiscard]] bool empty() const noexcept { return intervals_.empty(); }
  bin_segment take(std::uint64_t most) {
    auto it = intervals_.begin();
    const std::int64_t first = it->first, last = it->second;
    const auto count = static_cast<std::uint64_t>(last - first + 1);
    intervals_.erase(it);
    if (count > most) {
      intervals_.emplace(first + static_cast<std::int64_t>(most), last);
      return bin_segment{first, most, 1};
    }
    return bin_segment{first, count, 1};
  }
  void put(const bin_segment& visited) {
    std::int64_t lo = visited.first, hi = visited.at(visited.count - 1);
    if (lo > hi) std::swap(lo, hi);
    auto next = intervals_.lower_bound(lo);
    if (next != intervals_.end() && next->first == hi + 1) {
      hi = next->second;
      next = intervals_.erase(next);
    }
    if (next != intervals_.begin()) {
      auto prev = std::prev(next);
      if (prev->second + 1 == lo) {
        lo = prev->first;
        intervals_.erase(prev);
      }
    }
    intervals_.emplace(lo, hi);
  }

 private:
  std::map<std::int64_t, std::int64_t> intervals_;
};

struct bulk_result {
  std::vector<pack_run> runs;
  std::uint64_t bins = 0;
};

/// Runs best fit decreasing on (size, count) classes, sizes strictly decreasing, all <= capacity.
template <class Room>
[[nodiscard]] bulk_result bulk_best_fit(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& classes,
                                        std::uint64_t capacity) {
  bulk_result out;
  if (classes.empty()) return out;
  const std::uint64_t min_size = classes.back().first;
  std::map<std::uint64_t, Room> rooms;  // room -> bins with that room (only rooms >= min_size)
  std::uint64_t position = 0;
  auto put = [&](const bin_segment& seg, std::uint64_t room) {
    if (room >= min_size) rooms[room].put(seg);
  };
  auto emit = [&](std::uint64_t per_bin, const bin_segment& seg) {
    out.runs.push_back(pack_run{position, per_bin, seg.count, seg.first, seg.step});
    position += per_bin * seg.count;
  };
  for (const auto& [s, count] : classes) {
    std::uint64_t m = count;
    while (m > 0) {
      auto it = s == 0 ? rooms.begin() : rooms.lower_bound(s);
      const bool fresh = it == rooms.end();
      const std::uint64_t r = fresh ? capacity : it->first;
      const std::uint64_t q = s == 0 ? m : r / s;  // items one visited bin takes (>= 1)
      const std::uint64_t need = (m + q - 1) / q;
      bin_segment seg;
      if (fresh) {
        seg = bin_segment{static_cast<std::int64_t>(out.bins), need, 1};
        out.bins += need;
      } else {
        seg = it->second.take(need);
        if (it->second.empty()) rooms.erase(it);
      }
      const std::uint64_t full = seg.count * q <= m ? seg.count : seg.count - 1;
      if (full > 0) {
        const bin_segment filled{seg.first, full, seg.step};
        emit(q, filled);
        m -= full * q;
        put(filled, r - q * s);
      }
      if (full < seg.count) {  // the last bin of the segment takes the rest: 0 < m < q
        const bin_segment last{seg.at(full), 1, 1};
        const std::uint64_t rest = m;
        emit(rest, last);
        m = 0;
        put(last, r - rest * s);
      }
    }
  }
  return out;
}

}  // namespace fulcrum::cuda::detail
