// SPDX-License-Identifier: Apache-2.0
// streaming_batcher under a group cost model (padded_cost: a micro-batch costs count x longest):
// every id once, caps held, step costs recomputed here from the pushed sizes, and no step's
// costliest micro-batch above the same stream's without the model (the group pass only lowers a
// step's maximum; both streams shuffle alike, so step i matches step i). state() round trip too.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <fulcrum/runtime/streaming_batcher.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {

template <class Batcher>
std::vector<stream_step> run(Batcher& b, std::span<const std::uint32_t> tokens, std::size_t from = 0) {
  std::vector<stream_step> out;
  for (std::size_t i = from; i < tokens.size(); ++i) {
    b.push(i, std::uint64_t{tokens[i]});
    while (auto s = b.next()) out.push_back(std::move(*s));
  }
  b.finish();
  while (auto s = b.next()) out.push_back(std::move(*s));
  return out;
}

double padded_of(const stream_step& s, std::size_t r, std::span<const std::uint32_t> tokens) {
  double longest = 0, count = 0;
  for (auto id : s.micro_batch(r)) longest = std::max(longest, static_cast<double>(tokens[id])), count += 1;
  return longest * count;
}

}  // namespace

TEST_CASE("streaming batcher under padded_cost: exactly once and never worse per step") {
  auto tokens = testing::generate_w1_tokens(6000, 11);
  for (auto& t : tokens) t = std::min<std::uint32_t>(t, 8192);
  stream_options<1> o;
  o.caps = {8192};
  o.ranks = 4;
  o.buffer = 1024;
  streaming_batcher<1, padded_cost> grouped(o, padded_cost{1.0});
  streaming_batcher<1> plain(o);
  const auto steps = run(grouped, tokens);
  const auto reference = run(plain, tokens);
  REQUIRE(steps.size() == reference.size());
  std::vector<int> seen(tokens.size(), 0);
  double sum_after = 0, sum_before = 0;
  for (std::size_t s = 0; s < steps.size(); ++s) {
    REQUIRE(steps[s].costs.size() == 4);
    double after = 0, before = 0;
    for (std::size_t r = 0; r < 4; ++r) {
      std::uint64_t load = 0;
      for (auto id : steps[s].micro_batch(r)) {
        REQUIRE(id < tokens.size());
        ++seen[id];
        load += tokens[id];
      }
      CHECK(load <= 8192);
      CHECK(steps[s].loads[r] == load);
      CHECK(steps[s].costs[r] == padded_of(steps[s], r, tokens));
      after = std::max(after, steps[s].costs[r]);
      before = std::max(before, padded_of(reference[s], r, tokens));
    }
    CHECK(after <= before);
    sum_after += after;
    sum_before += before;
  }
  for (int v : seen) CHECK(v == 1);
  MESSAGE("padded step makespan summed over " << steps.size() << " steps: " << sum_before << " -> " << sum_after);
  CHECK(grouped.stats().cost_dist >= 0);
}

TEST_CASE("streaming batcher under padded_cost resumes from its state") {
  auto tokens = testing::generate_w1_tokens(3000, 5);
  for (auto& t : tokens) t = std::min<std::uint32_t>(t, 4096);
  stream_options<1> o;
  o.caps = {4096};
  o.ranks = 3;
  o.buffer = 512;
  streaming_batcher<1, padded_cost> whole(o, padded_cost{2.0});
  const auto expected = run(whole, tokens);
  streaming_batcher<1, padded_cost> first(o, padded_cost{2.0});
  std::vector<stream_step> got;
  const std::size_t cut = 1777;
  for (std::size_t i = 0; i < cut; ++i) {
    first.push(i, std::uint64_t{tokens[i]});
    while (auto s = first.next()) got.push_back(std::move(*s));
  }
  const auto bytes = first.state();
  auto second = streaming_batcher<1, padded_cost>::restore(bytes, o, padded_cost{2.0});
  const auto rest = run(second, tokens, cut);
  got.insert(got.end(), rest.begin(), rest.end());
  CHECK(got == expected);
  // A state written without the group model is refused by a batcher with one (other options).
  streaming_batcher<1> without(o);
  for (std::size_t i = 0; i < 100; ++i) without.push(i, std::uint64_t{tokens[i]});
  using grouped_batcher = streaming_batcher<1, padded_cost>;
  const auto other = without.state();
  CHECK_THROWS_AS((void)grouped_batcher::restore(other, o, padded_cost{2.0}), invalid_input);
}
