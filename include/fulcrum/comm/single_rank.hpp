// SPDX-License-Identifier: Apache-2.0
/// @file comm/single_rank.hpp
/// `single_rank`: the communicator of a job with one rank. Every collective is an identity
/// (a copy from in to out); barrier and abort do nothing. O(bytes) per collective, no threads,
/// no allocation. Use it to run distributed code paths (dispatch, ...) in a single process.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <string_view>

#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum::comm {

class single_rank {
 public:
  [[nodiscard]] std::size_t rank() const noexcept { return 0; }
  [[nodiscard]] std::size_t size() const noexcept { return 1; }
  void barrier() noexcept {}
  void broadcast(std::span<std::byte>, std::size_t root) const {
    if (root != 0) throw invalid_input(fulcrum::detail::describe("single_rank::broadcast", "root", root, "is not a rank"));
  }
  void all_gather(std::span<const std::byte> in, std::span<std::byte> out) const { copy("all_gather", in, out); }
  void all_gather_v(std::span<const std::byte> in, std::span<std::byte> out, std::span<const std::size_t> counts) const {
    if (counts.size() != 1 || counts[0] != in.size())
      throw invalid_input(fulcrum::detail::describe("single_rank::all_gather_v", "counts.size()", counts.size(),
                                           "expected one count equal to in.size()"));
    copy("all_gather_v", in, out);
  }
  void all_reduce(std::span<const std::byte> in, std::span<std::byte> out, datatype, reduce_kind) const {
    copy("all_reduce", in, out);
  }
  void all_to_all_v(std::span<const std::byte> in, std::span<const std::size_t> send_counts, std::span<std::byte> out,
                    std::span<const std::size_t> recv_counts) const {
    if (send_counts.size() != 1 || recv_counts.size() != 1 || send_counts[0] != recv_counts[0])
      throw comm_error("single_rank::all_to_all_v: send and receive counts differ");
    copy("all_to_all_v", in, out);
  }
  void abort(std::string_view) noexcept {}

 private:
  static void copy(std::string_view where, std::span<const std::byte> in, std::span<std::byte> out) {
    if (out.size() != in.size())
      throw invalid_input(fulcrum::detail::describe(where, "out.size()", out.size(), "must equal in.size()"));
    if (!in.empty()) std::memcpy(out.data(), in.data(), in.size());
  }
};

static_assert(communicator<single_rank>);

}  // namespace fulcrum::comm
