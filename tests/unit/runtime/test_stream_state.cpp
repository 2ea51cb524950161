// SPDX-License-Identifier: Apache-2.0
// streaming_batcher state(): a batcher restored from the bytes emits exactly what the uninterrupted
// one would have (property test over random save points: mid-buffer, with steps pending, after
// finish()), every item exactly once over any number of save/restore cycles; truncated, corrupt,
// other-version, other-options and other-dimension states are rejected with invalid_input.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <tuple>
#include <vector>

#include <fulcrum/core/hash.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/runtime/streaming_batcher.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {

using size2 = std::array<std::uint64_t, 2>;

std::vector<size2> w1(std::size_t n) {
  std::vector<size2> out;
  for (const auto& s : testing::generate_w1(n))
    out.push_back({std::min<std::uint64_t>(s.images, 8), std::min<std::uint64_t>(s.tokens(), 8192)});
  return out;
}

stream_options<2> options(std::size_t buffer, std::size_t ranks, std::size_t warmup, stream_end end) {
  stream_options<2> o;
  o.caps = {8, 8192};
  o.ranks = ranks;
  o.buffer = buffer;
  o.warmup_steps = warmup;
  o.end = end;
  return o;
}

/// The uninterrupted stream: steps taken after every push, then finish().
std::vector<stream_step> uninterrupted(const std::vector<size2>& items, const stream_options<2>& o,
                                       std::vector<std::uint64_t>& dropped) {
  streaming_batcher<2> b(o);
  std::vector<stream_step> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    b.push(i, items[i]);
    while (auto s = b.next()) out.push_back(std::move(*s));
  }
  b.finish();
  while (auto s = b.next()) out.push_back(std::move(*s));
  dropped = b.dropped();
  return out;
}

/// Bytes with a valid checksum after editing (to reach the checks behind the checksum).
void reseal(std::vector<std::byte>& bytes) {
  const std::uint64_t sum = fnv1a64_bytes(std::span<const std::byte>(bytes).first(bytes.size() - 8));
  for (std::size_t b = 0; b < 8; ++b) bytes[bytes.size() - 8 + b] = static_cast<std::byte>((sum >> (8 * b)) & 0xffU);
}

}  // namespace

TEST_SUITE("runtime") {
  TEST_CASE("stream state: random save points restore exactly the uninterrupted stream") {
    const auto items = w1(6000);
    for (const auto& [buffer, ranks, warmup, end] :
         std::vector<std::tuple<std::size_t, std::size_t, std::size_t, stream_end>>{
             {512, 8, 0, stream_end::flush},
             {300, 4, 12, stream_end::flush},
             {1024, 8, 0, stream_end::drop_last},
             {600, 4, 0, stream_end::flush},  // rounds of 512+ candidates: the two-dimension reserve
             {64, 3, 5, stream_end::drop_last}}) {
      const auto o = options(buffer, ranks, warmup, end);
      std::vector<std::uint64_t> dropped_ref;
      const auto ref = uninterrupted(items, o, dropped_ref);
      for (std::uint64_t trial = 0; trial < 6; ++trial) {
        rng g(1000 + trial * 17 + buffer);
        auto b = std::make_unique<streaming_batcher<2>>(o);
        std::vector<stream_step> got;
        std::size_t saves = 0;
        auto maybe_save = [&] {
          if (g.below(40) != 0) return;
          const auto bytes = b->state();
          b.reset();  // "killed"
          b = std::make_unique<streaming_batcher<2>>(streaming_batcher<2>::restore(bytes, o));
          ++saves;
        };
        for (std::size_t i = 0; i < items.size(); ++i) {
          b->push(i, items[i]);
          maybe_save();  // mid-buffer, possibly with steps pending
          // take only some of the pending steps (the rest stay in the state)
          while (b->ready() && g.below(3) != 0) {
            got.push_back(*b->next());
            maybe_save();
          }
        }
        b->finish();
        maybe_save();
        while (auto s = b->next()) {
          got.push_back(std::move(*s));
          maybe_save();
        }
        CHECK(saves > 10);
        REQUIRE(got.size() == ref.size());
        CHECK(got == ref);
        CHECK(b->dropped() == dropped_ref);
        // exactly once over the save/restore cycles
        std::vector<int> seen(items.size(), 0);
        for (const auto& s : got)
          for (const auto id : s.ids) ++seen[id];
        for (const auto id : b->dropped()) ++seen[id];
        CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
      }
    }
  }

  TEST_CASE("stream state: the bytes are deterministic and restoring twice gives the same bytes") {
    const auto items = w1(3000);
    const auto o = options(700, 8, 0, stream_end::flush);
    streaming_batcher<2> a(o), c(o);
    for (std::size_t i = 0; i < 2500; ++i) {
      a.push(i, items[i]);
      c.push(i, items[i]);
    }
    const auto bytes = a.state();
    CHECK(bytes == c.state());
    const auto again = streaming_batcher<2>::restore(bytes, o);
    CHECK(again.state() == bytes);
    // header: magic, version 2 little-endian
    CHECK(static_cast<char>(bytes[0]) == 'F');
    CHECK(static_cast<std::uint8_t>(bytes[8]) == 2);
    CHECK(static_cast<std::uint8_t>(bytes[9]) == 0);
  }

  TEST_CASE("stream state: truncated - corrupt - other version - other options are rejected") {
    const auto items = w1(2000);
    const auto o = options(500, 4, 0, stream_end::flush);
    streaming_batcher<2> a(o);
    for (std::size_t i = 0; i < 1700; ++i) a.push(i, items[i]);
    const auto bytes = a.state();
    REQUIRE(bytes.size() > 100);
    using B = streaming_batcher<2>;
    // truncated anywhere
    for (std::size_t len = 0; len < bytes.size(); len += 1 + len / 8)
      CHECK_THROWS_AS((void)B::restore(std::span<const std::byte>(bytes).first(len), o), invalid_input);
    // any single corrupted byte
    for (std::size_t at = 0; at < bytes.size(); at += 1 + at / 16) {
      auto bad = bytes;
      bad[at] ^= std::byte{0x20};
      CHECK_THROWS_AS((void)B::restore(bad, o), invalid_input);
    }
    // trailing bytes
    auto longer = bytes;
    longer.insert(longer.end() - 8, std::byte{0});
    reseal(longer);
    CHECK_THROWS_AS((void)B::restore(longer, o), invalid_input);
    // other versions (the older 1, whose continuation differs in 2-D, and a newer 3), even with a
    // valid checksum
    for (const std::byte other_version : {std::byte{1}, std::byte{3}}) {
      auto v = bytes;
      v[8] = other_version;
      reseal(v);
      CHECK_THROWS_WITH_AS((void)B::restore(v, o), doctest::Contains("version"), invalid_input);
    }
    // other options
    for (int which = 0; which < 5; ++which) {
      auto other = o;
      if (which == 0) other.seed += 1;
      if (which == 1) other.ranks = 8;
      if (which == 2) other.caps[1] = 4096;
      if (which == 3) other.buffer = 501;
      if (which == 4) other.end = stream_end::drop_last;
      CHECK_THROWS_WITH_AS((void)B::restore(bytes, other), doctest::Contains("options"), invalid_input);
    }
    // other dimensions
    stream_options<1> o1;
    o1.caps = {8192};
    o1.ranks = 4;
    o1.buffer = 500;
    CHECK_THROWS_AS((void)streaming_batcher<1>::restore(bytes, o1), invalid_input);
    // the original still restores
    CHECK_NOTHROW((void)B::restore(bytes, o));
  }
}
