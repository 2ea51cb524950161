// SPDX-License-Identifier: Apache-2.0
// The block layout shared by the MPI and NCCL communicators (comm/detail/blocks.hpp).
#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

#include <fulcrum/comm/detail/blocks.hpp>

TEST_SUITE("core") {
  TEST_CASE("collective block displacements are exclusive prefix sums") {
    const std::vector<std::size_t> counts{3, 0, 5, 1};
    std::vector<std::size_t> seen_count, seen_at;
    fulcrum::comm::detail::for_each_block(counts, [&](std::size_t r, std::size_t count, std::size_t at) {
      CHECK(r == seen_count.size());
      seen_count.push_back(count);
      seen_at.push_back(at);
    });
    CHECK(seen_count == counts);
    CHECK(seen_at == std::vector<std::size_t>{0, 3, 3, 8});

    const std::vector<std::size_t> send{2, 4, 1}, recv{0, 7, 3};
    std::vector<std::size_t> sa, ra;
    fulcrum::comm::detail::for_each_exchange(
        send, recv, [&](std::size_t r, std::size_t s, std::size_t s_at, std::size_t v, std::size_t v_at) {
          CHECK(s == send[r]);
          CHECK(v == recv[r]);
          sa.push_back(s_at);
          ra.push_back(v_at);
        });
    CHECK(sa == std::vector<std::size_t>{0, 2, 6});
    CHECK(ra == std::vector<std::size_t>{0, 0, 7});
  }
}
