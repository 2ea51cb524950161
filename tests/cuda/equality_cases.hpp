// Shared equality cases for fulcrum::cuda: included by thrust_host.cpp (Thrust CPP device system,
// label thrust_host) and gpu.cu (CUDA, label gpu) with FULCRUM_CUDA_TEST_SUITE set accordingly.
// Every case compares the backend's result with the CPU algorithm's, bit for bit, on random
// instances of all sizes: empty, one item, n < k, n == k, large n, ties and zero costs.
#pragma once

#include <algorithm>
#include <doctest/doctest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <fulcrum/balance/karmarkar_karp.hpp>
#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/core/cost_model.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/core/sample.hpp>
#include <fulcrum/packing/best_fit_decreasing.hpp>
#include <fulcrum/packing/histogram.hpp>
#include <fulcrum/pipeline/partition.hpp>
#include <fulcrum/cuda/best_fit_decreasing.cuh>
#include <fulcrum/cuda/cost.cuh>
#include <fulcrum/cuda/histogram.cuh>
#include <fulcrum/cuda/karmarkar_karp.cuh>
#include <fulcrum/cuda/lpt.cuh>
#include <fulcrum/cuda/pipeline.cuh>
#include <fulcrum/testing/checkers.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace fulcrum_cuda_tests {

using namespace fulcrum;
namespace fc = fulcrum::cuda;

inline std::uint64_t bits(double x) { return std::bit_cast<std::uint64_t>(x); }

inline bool same_doubles(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (bits(a[i]) != bits(b[i])) return false;
  return true;
}

template <class T>
std::vector<T> host(const thrust::device_vector<T>& d) {
  std::vector<T> h(d.size());
  if (!d.empty()) thrust::copy(d.begin(), d.end(), h.begin());  // (Thrust's CPP copy dereferences an empty end)
  return h;
}

inline bool same_grouping(const grouping& a, const grouping& b) {
  return a.size() == b.size() && std::equal(a.offsets().begin(), a.offsets().end(), b.offsets().begin(), b.offsets().end()) &&
         std::equal(a.indices().begin(), a.indices().end(), b.indices().begin(), b.indices().end());
}

/// Bit-identical partitions (groups, loads, makespan, bound, optimality flag).
inline bool same_partition(const partition& a, const partition& b) {
  return same_grouping(a.parts, b.parts) && same_doubles(a.loads, b.loads) && bits(a.makespan) == bits(b.makespan) &&
         bits(a.lower_bound) == bits(b.lower_bound) && a.proven_optimal == b.proven_optimal;
}

/// Random costs of a few shapes: distinct reals, small integers (many ties), W1-like attention
/// costs, and some zeros / negative zeros.
inline std::vector<double> random_costs(rng& gen, std::size_t n, int shape) {
  std::vector<double> c(n);
  for (auto& x : c) {
    switch (shape % 4) {
      case 0: x = gen.uniform() * 1000.0; break;
      case 1: x = static_cast<double>(gen.below(6)); break;
      case 2: x = attention_cost{}(1 + gen.below(8192)); break;
      default: x = gen.below(3) == 0 ? (gen.below(2) == 0 ? 0.0 : -0.0) : gen.lognormal(5.0, 1.0); break;
    }
  }
  return c;
}

/// Bit-identical packings (bins, loads, bound, optimality flag, algorithm).
inline bool same_packing(const packing& a, const packing& b) {
  return same_grouping(a.bins, b.bins) && a.loads == b.loads && a.lower_bound == b.lower_bound &&
         a.proven_optimal == b.proven_optimal && a.algorithm == b.algorithm;
}

/// Random sizes <= capacity of a few shapes: uniform, few distinct values (many ties), W1 token
/// counts, mostly large, with zeros.
inline std::vector<std::uint32_t> random_sizes(rng& gen, std::size_t n, std::uint32_t capacity, int shape) {
  std::vector<std::uint32_t> s(n);
  const auto w1 = testing::generate_w1_tokens(shape % 5 == 2 ? n : 0, gen.next());
  for (std::size_t i = 0; i < n; ++i) {
    switch (shape % 5) {
      case 0: s[i] = static_cast<std::uint32_t>(gen.below(capacity + std::uint64_t{1})); break;
      case 1: s[i] = static_cast<std::uint32_t>((1 + gen.below(4)) * (capacity / 5)); break;
      case 2: s[i] = static_cast<std::uint32_t>(std::min<std::uint64_t>(w1[i], capacity)); break;
      case 3: s[i] = static_cast<std::uint32_t>(capacity / 3 + gen.below(capacity - capacity / 3 + std::uint64_t{1})); break;
      default: s[i] = gen.below(4) == 0 ? 0u : static_cast<std::uint32_t>(gen.below(capacity / 2 + std::uint64_t{1})); break;
    }
  }
  return s;
}

/// The message of the invalid_input thrown by f, or "" if none.
template <class F>
std::string invalid_input_message(F&& f) {
  try {
    f();
  } catch (const invalid_input& e) {
    return e.what();
  }
  return "";
}

/// The message of the infeasible thrown by f, or "" if none.
template <class F>
std::string infeasible_message(F&& f) {
  try {
    f();
  } catch (const infeasible& e) {
    return e.what();
  }
  return "";
}

}  // namespace fulcrum_cuda_tests

TEST_SUITE(FULCRUM_CUDA_TEST_SUITE) {
  using namespace fulcrum_cuda_tests;

  TEST_CASE("cuda: evaluate_costs equals the CPU bit for bit (linear attention composite projected)") {
    rng gen(7);
    for (std::size_t n : {0u, 1u, 2u, 17u, 1000u, 50000u}) {
      std::vector<std::uint64_t> lengths(n);
      for (auto& l : lengths) l = gen.below(32768);
      const thrust::device_vector<std::uint64_t> d_lengths(lengths.begin(), lengths.end());
      const auto lin = linear_cost{1.7, 3.25};
      const auto att = attention_cost{0.9, 1.0 / 3000.0, 12.5};
      const auto comp = composite_cost{linear_cost{0.5, 1.0}, attention_cost{}, linear_cost{1e-3, 0.1}};
      CHECK(same_doubles(host(fc::evaluate_costs(fc::par, d_lengths, lin)), evaluate_costs(lengths, lin)));
      CHECK(same_doubles(host(fc::evaluate_costs(fc::par, d_lengths, att)), evaluate_costs(lengths, att)));
      CHECK(same_doubles(host(fc::evaluate_costs(fc::par, d_lengths, comp)), evaluate_costs(lengths, comp)));
      CHECK(same_doubles(host(fc::evaluate_costs(fc::par, d_lengths)), evaluate_costs(lengths)));

      const auto samples = testing::generate_w1(n, 11 + n);
      const thrust::device_vector<multimodal_sample> d_samples(samples.begin(), samples.end());
      const auto by_tokens = projected_cost{attention_cost{}, tokens_of{}};
      CHECK(same_doubles(host(fc::evaluate_costs(fc::par, d_samples, by_tokens)), evaluate_costs(samples, by_tokens)));
      const auto two_phase = composite_cost{projected_cost{linear_cost{2.0, 0.0}, images_of{}}, by_tokens};
      CHECK(same_doubles(host(fc::evaluate_costs(fc::par, d_samples, two_phase)), evaluate_costs(samples, two_phase)));
    }
  }

  TEST_CASE("cuda: evaluate_costs rejects a negative cost with the CPU's message") {
    const std::vector<std::int64_t> lengths{5, 9, 2, 1};
    const thrust::device_vector<std::int64_t> d(lengths.begin(), lengths.end());
    const auto model = linear_cost{1.0, -4.0};  // 2 -> -2: index 2 is the first negative
    const auto cpu = invalid_input_message([&] { (void)evaluate_costs(lengths, model); });
    const auto gpu = invalid_input_message([&] { (void)fc::evaluate_costs(fc::par, d, model); });
    CHECK(!cpu.empty());
    CHECK(gpu == cpu);
    thrust::device_vector<double> out(3);
    CHECK_THROWS_AS(fc::evaluate_costs(fc::par, fc::device_span<const std::int64_t>(d), fc::view(out)), invalid_input);
  }

  TEST_CASE("cuda: lpt equals fulcrum::lpt bit for bit on random instances of all sizes") {
    rng gen(20240601);
    int trials = 0;
    for (std::size_t n : {0u, 1u, 2u, 3u, 5u, 8u, 63u, 64u, 65u, 200u, 4096u, 100000u})
      for (std::size_t k : {1u, 2u, 3u, 7u, 64u, 100u})
        for (int shape = 0; shape < 4; ++shape) {
          const auto costs = random_costs(gen, n, shape);
          const thrust::device_vector<double> d(costs.begin(), costs.end());
          const auto expected = lpt(std::span<const cost_t>(costs), k);
          const auto on_device = fc::lpt(fc::par, d, k);
          const auto got = on_device.to_host();
          CHECK_MESSAGE(same_partition(got, expected), "n=" << n << " k=" << k << " shape=" << shape);
          CHECK(on_device.gap() == expected.gap());
          ++trials;
        }
    CHECK(trials == 12 * 6 * 4);
  }

  TEST_CASE("cuda: batched_lpt equals fulcrum::lpt on every problem (random sizes incl. empty problems)") {
    rng gen(99);
    for (int trial = 0; trial < 40; ++trial) {
      const std::size_t problems = gen.below(trial < 5 ? 3 : 60);
      const std::size_t k = 1 + gen.below(trial % 3 == 0 ? 4 : 80);
      std::vector<std::size_t> offsets{0};
      for (std::size_t p = 0; p < problems; ++p) offsets.push_back(offsets.back() + gen.below(gen.below(4) == 0 ? 3 : 700));
      const auto costs = random_costs(gen, offsets.back(), trial);
      const thrust::device_vector<double> d(costs.begin(), costs.end());
      const auto batch = fc::batched_lpt(fc::par, d, std::span<const std::size_t>(offsets), k);
      REQUIRE(batch.problems() == problems);
      for (std::size_t p = 0; p < problems; ++p) {
        const std::span<const cost_t> slice(costs.data() + offsets[p], offsets[p + 1] - offsets[p]);
        CHECK_MESSAGE(same_partition(batch.to_host(p), lpt(slice, k)), "trial " << trial << " problem " << p);
      }
    }
  }

  TEST_CASE("cuda: batched_lpt over equal problems (an epoch: steps x samples onto ranks)") {
    const std::size_t steps = 24, samples = 512, ranks = 64;
    const auto tokens = testing::generate_w1_tokens(steps * samples, 5);
    const auto costs = evaluate_costs(tokens, attention_cost{});
    const thrust::device_vector<double> d(costs.begin(), costs.end());
    const auto batch = fc::batched_lpt(fc::par, d, samples, ranks);
    REQUIRE(batch.problems() == steps);
    for (std::size_t s = 0; s < steps; ++s) {
      const std::span<const cost_t> slice(costs.data() + s * samples, samples);
      const auto got = batch.to_host(s);
      CHECK(same_partition(got, lpt(slice, ranks)));
      CHECK(testing::check_exactly_once(got.parts, samples));
    }
  }

  TEST_CASE("cuda: lpt and batched_lpt reject bad input like the CPU") {
    const std::vector<double> costs{3.0, std::numeric_limits<double>::quiet_NaN(), 1.0};
    const thrust::device_vector<double> d(costs.begin(), costs.end());
    const auto cpu = invalid_input_message([&] { (void)lpt(std::span<const cost_t>(costs), 2); });
    CHECK(!cpu.empty());
    CHECK(invalid_input_message([&] { (void)fc::lpt(fc::par, d, 2); }) == cpu);
    const std::vector<double> ok{1.0, 2.0};
    const thrust::device_vector<double> d_ok(ok.begin(), ok.end());
    CHECK(invalid_input_message([&] { (void)fc::lpt(fc::par, d_ok, 0); }) ==
          invalid_input_message([&] { (void)lpt(std::span<const cost_t>(ok), 0); }));
    const std::vector<std::size_t> bad_offsets{0, 2, 1};
    CHECK_THROWS_AS((void)fc::batched_lpt(fc::par, d_ok, std::span<const std::size_t>(bad_offsets), 2), invalid_input);
    const std::vector<std::size_t> short_offsets{0, 1};
    CHECK_THROWS_AS((void)fc::batched_lpt(fc::par, d_ok, std::span<const std::size_t>(short_offsets), 2), invalid_input);
    CHECK_THROWS_AS((void)fc::batched_lpt(fc::par, d_ok, std::size_t{3}, 2), invalid_input);
    CHECK_THROWS_AS((void)fc::batched_lpt(fc::par, d, std::size_t{1}, 2), invalid_input);
  }

  TEST_CASE("cuda: histogram_pack and best_fit_decreasing equal the CPU bins bit for bit") {
    rng gen(4242);
    int trials = 0;
    for (std::size_t n : {0u, 1u, 2u, 5u, 31u, 200u, 3000u, 60000u})
      for (std::uint32_t capacity : {1u, 7u, 100u, 8192u, 65535u, 65536u, 1000000u})
        for (int shape = 0; shape < 5; ++shape) {
          const auto sizes = random_sizes(gen, n, capacity, shape);
          const thrust::device_vector<std::uint32_t> d(sizes.begin(), sizes.end());
          const auto hist = fc::histogram_pack(fc::par, d, capacity).to_host();
          CHECK_MESSAGE(same_packing(hist, histogram_pack(sizes, capacity)), "histogram n=" << n << " C=" << capacity << " shape=" << shape);
          const auto bfd = fc::best_fit_decreasing(fc::par, d, capacity).to_host();
          CHECK_MESSAGE(same_packing(bfd, best_fit_decreasing(sizes, capacity)), "bfd n=" << n << " C=" << capacity << " shape=" << shape);
          CHECK(testing::check_capacity(bfd.bins, std::span<const std::uint32_t>(sizes), capacity));
          ++trials;
        }
    CHECK(trials == 8 * 7 * 5);
  }

  TEST_CASE("cuda: packing with 64-bit sizes and a capacity beyond the histogram range") {
    rng gen(5);
    const std::uint64_t capacity = std::uint64_t{1} << 40;
    for (std::size_t n : {1u, 10u, 5000u}) {
      std::vector<std::uint64_t> sizes(n);
      for (auto& x : sizes) x = gen.below(8) == 0 ? capacity : gen.below(capacity / 3);
      const thrust::device_vector<std::uint64_t> d(sizes.begin(), sizes.end());
      CHECK(same_packing(fc::histogram_pack(fc::par, d, capacity).to_host(), histogram_pack(sizes, capacity)));
      CHECK(same_packing(fc::best_fit_decreasing(fc::par, d, capacity).to_host(), best_fit_decreasing(sizes, capacity)));
    }
  }

  TEST_CASE("cuda: packing W1 (100k samples - capacity 8192) equals the CPU - and errors match") {
    const auto tokens = testing::generate_w1_tokens(100000, 1);
    std::vector<std::uint32_t> sizes(tokens.size());
    for (std::size_t i = 0; i < sizes.size(); ++i) sizes[i] = static_cast<std::uint32_t>(std::min<std::uint64_t>(tokens[i], 8192));
    const thrust::device_vector<std::uint32_t> d(sizes.begin(), sizes.end());
    const auto gpu = fc::histogram_pack(fc::par, d, 8192);
    CHECK(same_packing(gpu.to_host(), histogram_pack(sizes, 8192)));
    CHECK(host(gpu.bin_of) == gpu.to_host().bins.assignment(sizes.size()));
    CHECK(gpu.gap() == gpu.to_host().gap());

    const std::vector<std::uint32_t> bad{3, 9, 20, 4};
    const thrust::device_vector<std::uint32_t> d_bad(bad.begin(), bad.end());
    const auto cpu_msg = infeasible_message([&] { (void)histogram_pack(bad, 10); });
    CHECK(!cpu_msg.empty());
    CHECK(infeasible_message([&] { (void)fc::histogram_pack(fc::par, d_bad, 10); }) == cpu_msg);
    CHECK(infeasible_message([&] { (void)fc::best_fit_decreasing(fc::par, d_bad, 10); }) ==
          infeasible_message([&] { (void)best_fit_decreasing(bad, 10); }));
    CHECK(invalid_input_message([&] { (void)fc::histogram_pack(fc::par, d_bad, 0); }) ==
          invalid_input_message([&] { (void)histogram_pack(bad, 0); }));
  }

  TEST_CASE("cuda: evaluate_partitions equals fulcrum::evaluate_partition for every candidate") {
    rng gen(31);
    for (int trial = 0; trial < 30; ++trial) {
      const std::size_t n = 1 + gen.below(200), p = 1 + gen.below(std::min<std::size_t>(n, 12));
      std::vector<cost_t> layers(n);
      for (auto& c : layers) c = gen.lognormal(1.0, 0.7);
      std::vector<cost_t> prefix(n + 1, 0.0);
      for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + layers[i];
      pipeline_options opts;
      std::vector<cost_t> speed, fixed;
      if (trial % 2 == 1) {
        for (std::size_t s = 0; s < p; ++s) {
          speed.push_back(0.5 + gen.uniform());
          fixed.push_back(gen.uniform() * 3.0);
        }
        opts.stage_speed = speed;
        opts.stage_fixed_cost = fixed;
      }
      const std::size_t candidates = 1 + gen.below(300);
      std::vector<index_type> boundaries;
      for (std::size_t c = 0; c < candidates; ++c) {
        // p-1 distinct cut points in 1..n-1, sorted.
        std::vector<index_type> cuts(n - 1);
        for (std::size_t i = 0; i < cuts.size(); ++i) cuts[i] = static_cast<index_type>(i + 1);
        gen.shuffle(std::span<index_type>(cuts));
        cuts.resize(p - 1);
        std::sort(cuts.begin(), cuts.end());
        boundaries.push_back(0);
        boundaries.insert(boundaries.end(), cuts.begin(), cuts.end());
        boundaries.push_back(static_cast<index_type>(n));
      }
      const thrust::device_vector<cost_t> d_prefix(prefix.begin(), prefix.end());
      const thrust::device_vector<index_type> d_bounds(boundaries.begin(), boundaries.end());
      const thrust::device_vector<cost_t> d_speed(speed.begin(), speed.end()), d_fixed(fixed.begin(), fixed.end());
      const auto got = host(fc::evaluate_partitions(fc::par, d_prefix, d_bounds, p, d_speed, d_fixed));
      REQUIRE(got.size() == candidates);
      std::size_t best = 0;
      for (std::size_t c = 0; c < candidates; ++c) {
        const std::vector<std::size_t> b(boundaries.begin() + static_cast<std::ptrdiff_t>(c * (p + 1)),
                                         boundaries.begin() + static_cast<std::ptrdiff_t>((c + 1) * (p + 1)));
        const auto cpu = evaluate_partition(layers, b, opts);
        CHECK(bits(got[c]) == bits(cpu.bottleneck));
        if (got[c] < got[best]) best = c;
      }
      const thrust::device_vector<cost_t> d_got(got.begin(), got.end());
      CHECK(fc::best_candidate(fc::par, d_got) == best);
    }
    const std::vector<cost_t> prefix{0.0, 1.0, 3.0};
    const std::vector<index_type> bad{0, 1, 2, 0, 2, 2};
    const thrust::device_vector<cost_t> d_prefix(prefix.begin(), prefix.end());
    const thrust::device_vector<index_type> d_bad(bad.begin(), bad.end());
    const auto msg = invalid_input_message([&] { (void)fc::evaluate_partitions(fc::par, d_prefix, d_bad, 2); });
    CHECK(msg.find("boundaries[5] = 2") != std::string::npos);
  }

  TEST_CASE("cuda: karmarkar_karp equals fulcrum::karmarkar_karp bit for bit on random instances of all sizes") {
    rng gen(77);
    for (std::size_t n : {0u, 1u, 2u, 3u, 5u, 8u, 63u, 64u, 65u, 129u, 1000u, 30000u})
      for (std::size_t k : {1u, 2u, 3u, 7u, 64u, 100u})
        for (int shape = 0; shape < 4; ++shape) {
          const auto costs = random_costs(gen, n, shape);
          const thrust::device_vector<double> d(costs.begin(), costs.end());
          const auto expected = karmarkar_karp(std::span<const cost_t>(costs), k);
          const auto got = fc::karmarkar_karp(fc::par, d, k).to_host();
          CHECK_MESSAGE(same_partition(got, expected), "n=" << n << " k=" << k << " shape=" << shape);
        }
    const std::vector<double> bad{1.0, -2.0};
    const thrust::device_vector<double> d_bad(bad.begin(), bad.end());
    CHECK(invalid_input_message([&] { (void)fc::karmarkar_karp(fc::par, d_bad, 2); }) ==
          invalid_input_message([&] { (void)karmarkar_karp(std::span<const cost_t>(bad), 2); }));
  }

  TEST_CASE("cuda: batched_karmarkar_karp equals fulcrum::karmarkar_karp on every problem") {
    rng gen(123);
    for (int trial = 0; trial < 30; ++trial) {
      const std::size_t problems = gen.below(trial < 5 ? 3 : 40);
      const std::size_t k = 1 + gen.below(trial % 3 == 0 ? 4 : 70);
      std::vector<std::size_t> offsets{0};
      for (std::size_t p = 0; p < problems; ++p) offsets.push_back(offsets.back() + gen.below(gen.below(4) == 0 ? 3 : 600));
      const auto costs = random_costs(gen, offsets.back(), trial);
      const thrust::device_vector<double> d(costs.begin(), costs.end());
      const auto batch = fc::batched_karmarkar_karp(fc::par, d, std::span<const std::size_t>(offsets), k);
      REQUIRE(batch.problems() == problems);
      for (std::size_t p = 0; p < problems; ++p) {
        const std::span<const cost_t> slice(costs.data() + offsets[p], offsets[p + 1] - offsets[p]);
        CHECK_MESSAGE(same_partition(batch.to_host(p), karmarkar_karp(slice, k)), "trial " << trial << " problem " << p);
      }
    }
    const auto tokens = testing::generate_w1_tokens(16 * 256, 3);
    const auto costs = evaluate_costs(tokens, attention_cost{});
    const thrust::device_vector<double> d(costs.begin(), costs.end());
    const auto batch = fc::batched_karmarkar_karp(fc::par, d, 256, 32);
    for (std::size_t s = 0; s < 16; ++s)
      CHECK(same_partition(batch.to_host(s), karmarkar_karp(std::span<const cost_t>(costs.data() + s * 256, 256), 32)));
  }

  TEST_CASE("cuda: lpt and karmarkar_karp report the CPU's sound bound bit for bit on non-integer costs") {
    // The bound is detail::sound_makespan_bound on both sides: sum/k shrunk by its rounding margin
    // unless every sum is exact (sevenths, tenths, 1e9 + 0.1 are not; halves are).
    rng gen(15);
    for (int shape = 0; shape < 4; ++shape)
      for (std::size_t n : {2u, 6u, 7u, 65u, 1000u})
        for (std::size_t k : {1u, 2u, 3u, 64u}) {
          std::vector<double> costs(n);
          for (auto& c : costs) {
            const auto r = static_cast<double>(1 + gen.below(30));
            c = shape == 0 ? r / 7.0 : shape == 1 ? r / 10.0 : shape == 2 ? 1e9 + r + 0.1 : r / 2.0;
          }
          const thrust::device_vector<double> d(costs.begin(), costs.end());
          const std::span<const cost_t> cs(costs);
          const auto cpu_lpt = lpt(cs, k), cpu_kk = karmarkar_karp(cs, k);
          CHECK_MESSAGE(same_partition(fc::lpt(fc::par, d, k).to_host(), cpu_lpt), "n=" << n << " k=" << k);
          CHECK_MESSAGE(same_partition(fc::karmarkar_karp(fc::par, d, k).to_host(), cpu_kk), "n=" << n << " k=" << k);
          const std::vector<std::size_t> offsets{0, n / 2, n};
          const auto bl = fc::batched_lpt(fc::par, d, std::span<const std::size_t>(offsets), k);
          const auto bk = fc::batched_karmarkar_karp(fc::par, d, std::span<const std::size_t>(offsets), k);
          for (std::size_t p = 0; p < 2; ++p) {
            const auto slice = cs.subspan(offsets[p], offsets[p + 1] - offsets[p]);
            if (slice.empty()) continue;
            CHECK(same_partition(bl.to_host(p), lpt(slice, k)));
            CHECK(same_partition(bk.to_host(p), karmarkar_karp(slice, k)));
          }
          CHECK(cpu_lpt.gap() >= 0);
          CHECK(cpu_kk.gap() >= 0);
        }
  }

  TEST_CASE("cuda: failures inside Thrust/CUB and the CUDA runtime become cuda_error with the error string") {
    try {
      fc::detail::translate_thrust_errors("fulcrum::cuda::test", [] {
        throw thrust::system_error(2, thrust::generic_category(), "inside thrust");
      });
      FAIL("no exception");
    } catch (const fc::cuda_error& e) {
      CHECK(e.code() == 2);
      CHECK(std::string(e.what()).find("fulcrum::cuda::test: ") == 0);
      CHECK(std::string(e.what()).find("inside thrust") != std::string::npos);
    }
#if FULCRUM_CUDA_DEVICE
    // An impossible allocation on the stream: cudaErrorMemoryAllocation, not sticky.
    try {
      const fc::detail::buffer<std::uint64_t> huge(fc::par, std::size_t{1} << 50);
      FAIL("no exception");
    } catch (const fc::cuda_error& e) {
      CHECK(e.code() == static_cast<int>(cudaErrorMemoryAllocation));
      CHECK(std::string(e.what()).find("cudaErrorMemoryAllocation") != std::string::npos);
    }
    // The device still works afterwards, on a user stream.
    cudaStream_t stream{};
    REQUIRE(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) == cudaSuccess);
    const std::vector<double> costs{5, 1, 4, 2, 3};
    const thrust::device_vector<double> d(costs.begin(), costs.end());
    CHECK(same_partition(fc::lpt(fc::par_on(stream), d, 2).to_host(), lpt(std::span<const cost_t>(costs), 2)));
    cudaStreamDestroy(stream);
#endif
  }
}
