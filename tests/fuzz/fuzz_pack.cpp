// Fuzz target: the packing front door `pack()` on decoded random instances.
//
// Input bytes -> dimensions (1 or 2), algorithm (all eight; exact under a small node limit), oversize
// policy, an element encoding (uint32/uint64 read in place, double, raw double bits, int64, a struct
// member through a projection) and value classes (tiny, 16/32/64-bit, near 2^32, near 2^64, zero)
// for the sizes and the capacity; then up to 256 items (48 for exact).
//
// The expected outcome is derived independently from pack.hpp's documented contract: invalid
// values (negative, NaN, infinite, fractional, >= 2^64, zero capacity, an algorithm multi-constraint
// packing lacks) -> invalid_input; an oversize item under oversize::error -> infeasible; anything
// else -> a packing that is checked from scratch: every item exactly once, items in index order
// within a bin, no empty bin, loads recomputed in 128 bits, every regular bin within capacity in
// every dimension (truncated sizes under truncate), own bins last and holding exactly the oversize
// items, L1 <= lower_bound <= optimum (subset DP for n <= 10) <= bins, proven_optimal only with
// bins == bound, the textbook bin count of naive O(n x bins) references for next/first/best fit
// and their decreasing variants (histogram and automatic: BFD's count), and the same plan twice.
// Mode bits 0 and 1 both set: `pack_for_ranks` (2-D sizes, 1-12 ranks, each oversize policy):
// steps x ranks bins, every item once, loads recomputed, capacities in every dimension, empty bins
// only in the last step, bounds, the same plan twice.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include <fulcrum/packing/pack.hpp>
#include <fulcrum/packing/rank_packing.hpp>

#include "../unit/packing/packing_reference.hpp"
#include "fuzz_support.hpp"

namespace {

using fulcrum::pack_algorithm;
using fulcrum::oversize;

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

/// A value of one of the classes that matter for overflow and extremes.
std::uint64_t draw(fuzz::byte_reader& in, unsigned cls) {
  switch (cls % 8) {
    case 0: return in.take<std::uint8_t>();
    case 1: return in.take<std::uint16_t>();
    case 2: return in.take<std::uint32_t>();
    case 3: return in.take<std::uint64_t>();
    case 4: return (std::uint64_t{1} << 32) - 128 + in.take<std::uint8_t>();  // straddles 2^32
    case 5: return u64_max - in.take<std::uint8_t>();                          // near 2^64
    case 6: return 0;
    default: return std::uint64_t{1} << (in.take<std::uint8_t>() % 64);        // powers of two
  }
}

/// What pack.hpp's to_size makes of a double: the size, or nothing when it is invalid.
bool double_size(double v, std::uint64_t& out) {
  if (!std::isfinite(v) || v < 0 || v != std::floor(v) || v >= 18446744073709551616.0) return false;
  out = static_cast<std::uint64_t>(v);
  return true;
}

struct record {
  std::uint16_t tag;
  std::uint64_t tokens;
};

enum class expect { ok, invalid, infeasible };

template <class Run>
void expect_outcome(expect e, Run&& run) {
  try {
    run();
    fuzz::require(e == expect::ok, "pack accepted input it must reject");
  } catch (const fulcrum::infeasible&) {
    fuzz::require(e == expect::infeasible, "pack threw infeasible where invalid_input or a packing was due");
  } catch (const fulcrum::invalid_input&) {
    fuzz::require(e == expect::invalid, "pack threw invalid_input where infeasible or a packing was due");
  }
}

void check_1d(const fulcrum::packing& p, const std::vector<std::uint64_t>& sizes, std::uint64_t capacity,
              const fulcrum::pack_options& opts) {
  const std::string e = reliability::check_packing_1d(p, sizes, capacity, opts);
  fuzz::require(e.empty(), e.c_str());
}

template <std::size_t D>
void check_multi(const fulcrum::multi_packing<D>& p, const std::vector<std::array<std::uint64_t, D>>& sizes,
                 const std::array<std::uint64_t, D>& capacity, const fulcrum::pack_options& opts) {
  const std::string e = reliability::check_packing_multi<D>(p, sizes, capacity, opts);
  fuzz::require(e.empty(), e.c_str());
}

template <class Items, class Capacity, class Proj = std::identity>
fulcrum::packing pack_twice(const Items& items, Capacity capacity, const fulcrum::pack_options& opts, Proj proj = {}) {
  auto a = fulcrum::pack(items, capacity, opts, proj);
  const auto b = fulcrum::pack(items, capacity, opts, proj);
  fuzz::require(a.bins == b.bins && a.loads == b.loads && a.lower_bound == b.lower_bound, "same input, same packing");
  return a;
}

void fuzz_1d(fuzz::byte_reader& in, const fulcrum::pack_options& opts, std::size_t max_items) {
  const unsigned encoding = in.take<std::uint8_t>() % 6;
  const unsigned size_class = in.take<std::uint8_t>();
  const unsigned cap_class = in.take<std::uint8_t>();
  const std::uint64_t cap_raw = draw(in, cap_class);
  std::vector<std::uint64_t> raw;
  std::vector<double> raw_doubles;
  while (!in.empty() && raw.size() < max_items) {
    if (encoding == 3) raw_doubles.push_back(in.take<double>());
    else raw_doubles.push_back(0);
    raw.push_back(draw(in, size_class + (in.take<std::uint8_t>() & 3 ? 0 : in.take<std::uint8_t>())));
  }
  const std::size_t n = raw.size();
  std::vector<std::uint64_t> sizes(n);
  bool invalid = false;
  std::uint64_t capacity = cap_raw;
  fulcrum::packing result;
  expect e = expect::ok;
  auto outcome = [&](bool cap_ok) {
    if (!cap_ok || capacity == 0 || invalid) return expect::invalid;
    if (opts.oversize_policy == oversize::error)
      for (auto s : sizes)
        if (s > capacity) return expect::infeasible;
    return expect::ok;
  };
  switch (encoding) {
    case 0: {  // uint32 in place
      std::vector<std::uint32_t> items(n);
      for (std::size_t i = 0; i < n; ++i) sizes[i] = items[i] = static_cast<std::uint32_t>(raw[i]);
      e = outcome(true);
      expect_outcome(e, [&] { result = pack_twice(items, capacity, opts); });
      break;
    }
    case 1:  // uint64 in place
      sizes = raw;
      e = outcome(true);
      expect_outcome(e, [&] { result = pack_twice(raw, capacity, opts); });
      break;
    case 2:
    case 3: {  // doubles (from the classes: 2^64 and rounding happen) or raw bit patterns
      std::vector<double> items(n);
      for (std::size_t i = 0; i < n; ++i) {
        items[i] = encoding == 2 ? static_cast<double>(raw[i]) : raw_doubles[i];
        if (!double_size(items[i], sizes[i])) invalid = true;
      }
      const double cap = static_cast<double>(cap_raw);
      const bool cap_ok = double_size(cap, capacity);
      e = outcome(cap_ok);
      expect_outcome(e, [&] { result = pack_twice(items, cap, opts); });
      break;
    }
    case 4: {  // signed: negatives are invalid
      std::vector<std::int64_t> items(n);
      for (std::size_t i = 0; i < n; ++i) {
        items[i] = static_cast<std::int64_t>(raw[i]);
        if (items[i] < 0) invalid = true;
        sizes[i] = static_cast<std::uint64_t>(items[i]);
      }
      const auto cap = static_cast<std::int64_t>(cap_raw);
      capacity = static_cast<std::uint64_t>(cap);
      e = outcome(cap >= 0);
      expect_outcome(e, [&] { result = pack_twice(items, cap, opts); });
      break;
    }
    default: {  // a struct member through a projection (the copying path)
      std::vector<record> items(n);
      for (std::size_t i = 0; i < n; ++i) sizes[i] = items[i].tokens = raw[i];
      e = outcome(true);
      expect_outcome(e, [&] { result = pack_twice(items, capacity, opts, &record::tokens); });
      break;
    }
  }
  if (e == expect::ok) check_1d(result, sizes, capacity, opts);
}

void fuzz_2d(fuzz::byte_reader& in, const fulcrum::pack_options& opts, std::size_t max_items) {
  const bool doubles = in.take<std::uint8_t>() & 1;
  const unsigned size_class = in.take<std::uint8_t>();
  const unsigned cap_class = in.take<std::uint8_t>();
  // dimension 1 is an image-slot-like small capacity most of the time (the bucketed BFD path)
  const std::array<std::uint64_t, 2> cap{draw(in, cap_class), cap_class & 0x80 ? draw(in, cap_class >> 3) : in.take<std::uint8_t>() % 40};
  std::vector<std::array<std::uint64_t, 2>> sizes;
  while (!in.empty() && sizes.size() < max_items) {
    const std::uint64_t a = draw(in, size_class);
    const std::uint64_t b = cap_class & 0x80 ? draw(in, size_class >> 3) : in.take<std::uint8_t>() % 8;
    sizes.push_back({a, b});
  }
  const std::size_t n = sizes.size();
  const pack_algorithm a = opts.algorithm;
  const bool algorithm_ok = a == pack_algorithm::automatic || a == pack_algorithm::best_fit_decreasing ||
                            a == pack_algorithm::first_fit_decreasing || a == pack_algorithm::first_fit ||
                            a == pack_algorithm::next_fit;
  bool invalid = cap[0] == 0 || cap[1] == 0;
  std::vector<std::array<double, 2>> dsizes(n);
  std::array<std::uint64_t, 2> capacity = cap;
  if (doubles) {
    std::uint64_t c = 0;
    for (std::size_t d = 0; d < 2; ++d) {
      if (!double_size(static_cast<double>(cap[d]), c)) invalid = true;
      capacity[d] = c;
    }
    invalid = invalid || capacity[0] == 0 || capacity[1] == 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t d = 0; d < 2; ++d) {
        dsizes[i][d] = static_cast<double>(sizes[i][d]);
        if (!double_size(dsizes[i][d], sizes[i][d])) invalid = true;
      }
  }
  bool oversized = false;
  for (const auto& s : sizes) oversized = oversized || s[0] > capacity[0] || s[1] > capacity[1];
  expect e = expect::ok;
  if (invalid) e = expect::invalid;
  else if (oversized && opts.oversize_policy == oversize::error) e = expect::infeasible;
  else if (!algorithm_ok) e = expect::invalid;
  fulcrum::multi_packing<2> result;
  expect_outcome(e, [&] {
    if (doubles) {
      const std::array<double, 2> dcap{static_cast<double>(cap[0]), static_cast<double>(cap[1])};
      result = fulcrum::pack(dsizes, dcap, opts);
      const auto again = fulcrum::pack(dsizes, dcap, opts);
      fuzz::require(again.bins == result.bins && again.loads == result.loads, "same input, same packing");
    } else {
      result = fulcrum::pack(sizes, cap, opts);
      const auto again = fulcrum::pack(sizes, cap, opts);
      fuzz::require(again.bins == result.bins && again.loads == result.loads, "same input, same packing");
    }
  });
  if (e == expect::ok) check_multi<2>(result, sizes, capacity, opts);
}

/// pack_for_ranks: steps x ranks bins, every item once, capacities, empty bins only in the last step.
void fuzz_ranks(fuzz::byte_reader& in, const fulcrum::pack_options& base) {
  const std::size_t ranks = in.in_range(0, 12);
  fulcrum::rank_pack_options opts;
  opts.oversize_policy = base.oversize_policy;
  const std::uint8_t flags = in.take<std::uint8_t>();
  opts.passes = 1 + flags % 4;
  opts.shuffle = flags & 4;
  opts.seed = in.take<std::uint8_t>();
  const unsigned size_class = in.take<std::uint8_t>();
  const unsigned cap_class = in.take<std::uint8_t>();
  const std::array<std::uint64_t, 2> cap{draw(in, cap_class), (flags & 8) ? draw(in, cap_class >> 3) : in.take<std::uint8_t>() % 10};
  std::vector<std::array<std::uint64_t, 2>> sizes;
  while (!in.empty() && sizes.size() < 128)
    sizes.push_back({draw(in, size_class), (flags & 8) ? draw(in, size_class >> 3) : in.take<std::uint8_t>() % 8});
  const std::size_t n = sizes.size();
  bool oversized = false;
  std::vector<bool> over(n);
  for (std::size_t i = 0; i < n; ++i) over[i] = sizes[i][0] > cap[0] || sizes[i][1] > cap[1], oversized = oversized || over[i];
  expect e = expect::ok;
  if (ranks == 0 || cap[0] == 0 || cap[1] == 0) e = expect::invalid;
  else if (oversized && opts.oversize_policy == oversize::error) e = expect::infeasible;
  fulcrum::rank_packing r;
  expect_outcome(e, [&] {
    r = fulcrum::pack_for_ranks(sizes, cap, ranks, opts);
    const auto again = fulcrum::pack_for_ranks(sizes, cap, ranks, opts);
    fuzz::require(again.bins == r.bins && again.loads == r.loads, "pack_for_ranks: same input, same plan");
  });
  if (e != expect::ok) return;
  fuzz::require(r.ranks() == ranks && r.dims == 2 && r.bins.groups().size() == r.steps() * ranks, "steps x ranks bins");
  fuzz::require(fulcrum::testing::check_exactly_once(r.bins.groups(), n), "pack_for_ranks: every item exactly once");
  fuzz::require(r.loads.size() == r.bins.groups().size() * 2, "loads: bins x dims");
  std::size_t used = 0;
  for (std::size_t b = 0; b < r.bins.groups().size(); ++b) {
    const auto g = r.bins(b / ranks, b % ranks);
    if (g.empty()) {
      fuzz::require(b / ranks + 1 == r.steps(), "empty bins only in the last step");
      continue;
    }
    ++used;
    bool own = false;
    for (std::size_t j = 0; j < g.size(); ++j) {
      if (j > 0) fuzz::require(g[j - 1] < g[j], "items in index order within a bin");
      own = own || (over[g[j]] && opts.oversize_policy == oversize::own_bin);
    }
    if (own) fuzz::require(g.size() == 1, "an oversize item under own_bin is alone in its bin");
    for (std::size_t d = 0; d < 2; ++d) {
      reliability::u128 total = 0;
      for (auto i : g) total += opts.oversize_policy == oversize::truncate ? std::min(sizes[i][d], cap[d]) : sizes[i][d];
      fuzz::require(total == r.load(b / ranks, b % ranks, d), "pack_for_ranks: load recomputed in 128 bits");
      if (!own) fuzz::require(total <= cap[d], "pack_for_ranks: bin within capacity in every dimension");
    }
  }
  fuzz::require(used == r.used_bins, "used_bins recomputed");
  fuzz::require(r.used_bins >= r.lower_bound && r.steps() >= r.step_lower_bound(), "bins and steps >= their lower bounds");
  if (n <= 9 && !oversized) {
    const std::size_t opt = reliability::optimum_bins<2>(sizes, cap);
    fuzz::require(r.lower_bound <= opt, "pack_for_ranks: lower bound <= optimum");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::byte_reader in(data, size);
  const std::uint8_t mode = in.take<std::uint8_t>();
  fulcrum::pack_options opts;
  opts.algorithm = static_cast<pack_algorithm>(in.take<std::uint8_t>() % 8);
  opts.oversize_policy = static_cast<oversize>(in.take<std::uint8_t>() % 3);
  opts.limits.nodes = 2000;  // deterministic and small: the exact search returns its best plan at the limit
  const std::size_t max_items = opts.algorithm == pack_algorithm::exact ? 48 : 256;
  if ((mode & 3) == 3) fuzz_ranks(in, opts);
  else if (mode & 1) fuzz_2d(in, opts, max_items);
  else fuzz_1d(in, opts, max_items);
  return 0;
}
