// SPDX-License-Identifier: Apache-2.0
// Compiled mode vs header-only: this program is built twice, once against fulcrum::fulcrum
// (header-only) and once against fulcrum::compiled (FULCRUM_COMPILED: the workers come from the
// static library). Each prints every plan of a fixed set of pack() and balance() calls (every
// algorithm, every oversize policy, one and several dimensions, equal counts, part capacity,
// limits) as text; CTest checks the two outputs are identical, byte for byte (doubles printed as
// their bit patterns).
//   plans_digest --write FILE     writes the plans
//   plans_digest --compare FILE   exits 1 (naming the first differing line) unless they match
#include <fulcrum/balance/balance.hpp>
#include <fulcrum/packing/pack.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct item {
  std::uint32_t tokens;
  std::uint32_t images;
};

std::uint64_t next(std::uint64_t& state) {  // splitmix64: the same values everywhere
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void put(std::ostringstream& os, const fulcrum::grouping& g) {
  for (std::size_t b = 0; b < g.size(); ++b) {
    os << '[';
    for (const auto i : g[b]) os << i << ' ';
    os << ']';
  }
  os << '\n';
}

template <class Load>
void put(std::ostringstream& os, const char* what, const fulcrum::basic_packing<Load>& p) {
  os << what << " bins=" << p.bins.size() << " lb=" << p.lower_bound << " opt=" << p.proven_optimal
     << " alg=" << static_cast<int>(p.algorithm) << " loads=";
  for (const auto& l : p.loads) {
    if constexpr (std::is_same_v<Load, std::uint64_t>)
      os << l << ' ';
    else
      for (const auto d : l) os << d << ',';
  }
  os << '\n';
  put(os, p.bins);
}

void put(std::ostringstream& os, const char* what, const fulcrum::partition& p) {
  os << what << " makespan=" << std::bit_cast<std::uint64_t>(p.makespan)
     << " lb=" << std::bit_cast<std::uint64_t>(p.lower_bound) << " opt=" << p.proven_optimal << " loads=";
  for (const double l : p.loads) os << std::bit_cast<std::uint64_t>(l) << ' ';
  os << '\n';
  put(os, p.parts);
}

template <class F>
void guarded(std::ostringstream& os, const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    os << what << " threw: " << e.what() << '\n';
  }
}

std::string plans() {
  std::ostringstream os;
  std::uint64_t state = 20240601;
  std::vector<item> items(3000);
  for (auto& it : items)
    it = {static_cast<std::uint32_t>(1 + next(state) % 3000), static_cast<std::uint32_t>(next(state) % 4)};
  std::vector<std::uint32_t> narrow(items.size());
  std::vector<std::uint64_t> wide(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    narrow[i] = items[i].tokens;
    wide[i] = items[i].tokens;
  }
  const auto tokens = [](const item& it) { return it.tokens; };
  const auto both = [](const item& it) { return std::array<std::uint32_t, 2>{it.tokens, it.images}; };
  const auto five = [](const item& it) {
    return std::array<std::uint64_t, 5>{it.tokens, it.images, 1, it.tokens % 7, 2};
  };
  using fulcrum::oversize;
  using fulcrum::pack_algorithm;
  for (const auto a : {pack_algorithm::automatic, pack_algorithm::next_fit, pack_algorithm::first_fit,
                       pack_algorithm::best_fit, pack_algorithm::first_fit_decreasing,
                       pack_algorithm::best_fit_decreasing, pack_algorithm::histogram, pack_algorithm::exact}) {
    for (const auto policy : {oversize::error, oversize::truncate, oversize::own_bin}) {
      fulcrum::pack_options opts;
      opts.algorithm = a;
      opts.oversize_policy = policy;
      opts.limits.nodes = 20000;
      const std::size_t n = a == pack_algorithm::exact ? 60 : items.size();
      const std::vector<item> some(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(n));
      const std::vector<std::uint32_t> some32(narrow.begin(), narrow.begin() + static_cast<std::ptrdiff_t>(n));
      const std::vector<std::uint64_t> some64(wide.begin(), wide.begin() + static_cast<std::ptrdiff_t>(n));
      os << "pack alg=" << static_cast<int>(a) << " policy=" << static_cast<int>(policy) << '\n';
      guarded(os, "proj", [&] { put(os, "proj", fulcrum::pack(some, 4096, opts, tokens)); });
      guarded(os, "u32", [&] { put(os, "u32", fulcrum::pack(some32, 2500, opts)); });
      guarded(os, "u64", [&] { put(os, "u64", fulcrum::pack(some64, 2500, opts)); });
      guarded(os, "d2", [&] { put(os, "d2", fulcrum::pack(some, std::array<std::uint32_t, 2>{2500, 3}, opts, both)); });
      guarded(os, "d5", [&] {
        put(os, "d5", fulcrum::pack(some, std::array<std::uint64_t, 5>{4096, 8, 16, 20, 40}, opts, five));
      });
    }
  }
  using fulcrum::balance_algorithm;
  for (const auto a : {balance_algorithm::automatic, balance_algorithm::greedy, balance_algorithm::karmarkar_karp,
                       balance_algorithm::multifit, balance_algorithm::complete, balance_algorithm::local_search}) {
    for (const bool equal : {false, true}) {
      fulcrum::balance_options opts;
      opts.algorithm = a;
      opts.equal_counts = equal;
      opts.limits.nodes = 20000;
      const std::vector<item> some(items.begin(), items.begin() + (a == balance_algorithm::complete ? 40 : 3000));
      os << "balance alg=" << static_cast<int>(a) << " equal=" << equal << '\n';
      guarded(os, "k32", [&] { put(os, "k32", fulcrum::balance(some, 32, opts, fulcrum::identity_cost{}, tokens)); });
      guarded(os, "k7", [&] { put(os, "k7", fulcrum::balance(some, 7, opts, fulcrum::attention_cost{}, tokens)); });
      opts.part_capacity = 3000.0 * static_cast<double>(some.size()) / 32.0;
      guarded(os, "cap", [&] { put(os, "cap", fulcrum::balance(some, 33, opts, fulcrum::identity_cost{}, tokens)); });
      opts.part_capacity = 1.0;
      guarded(os, "tight",
              [&] { put(os, "tight", fulcrum::balance(some, 4, opts, fulcrum::identity_cost{}, tokens)); });
    }
  }
  return os.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s --write|--compare FILE\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const std::string text = plans();
  if (mode == "--write") {
    std::ofstream(argv[2]) << text;
    return 0;
  }
  std::ifstream in(argv[2]);
  std::stringstream expected;
  expected << in.rdbuf();
  if (expected.str().empty()) {
    std::fprintf(stderr, "no plans in %s\n", argv[2]);
    return 1;
  }
  std::istringstream a(expected.str()), b(text);
  std::string la, lb;
  for (std::size_t line = 1;; ++line) {
    const bool ga = static_cast<bool>(std::getline(a, la)), gb = static_cast<bool>(std::getline(b, lb));
    if (!ga && !gb) break;
    if (ga != gb || la != lb) {
      std::fprintf(stderr, "plans differ at line %zu:\n  header-only: %.300s\n  compiled:    %.300s\n", line,
                   la.c_str(), lb.c_str());
      return 1;
    }
  }
#if defined(FULCRUM_COMPILED)
  std::printf("compiled-mode plans equal the header-only plans (%zu bytes)\n", text.size());
#endif
  return 0;
}
