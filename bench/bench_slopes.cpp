// SPDX-License-Identifier: Apache-2.0
// Scaling slopes of every front door (issue 22): each front door runs on a realistic workload at
// n = 10^3 .. 10^7 (capped where noted), and the log-log slope of its time over n (least squares
// over the decades measured, and the slope of the last decade) is printed next to the complexity
// its header states; balance() is also swept over k = 8 .. 4096 at fixed n. Time per point: the
// best thread CPU time of repeated calls (at least 3 calls and 0.1 s for fast points, one call
// past 0.3 s).
// Workloads: W1 total tokens clipped to 8192 (packing, capacity 8192; pack_for_ranks on 8 ranks
// with the attention cost L + L^2/4096), W1 attention costs (balance, k = 64; two-level 8 ranks x 4
// micro-batches; post_balance 8 ranks from a round-robin start, 2 per node), sevenths (partition
// onto 16 stages), n recompute layers x 3 options under half the full memory, and the streaming
// batcher (buffer 16384, 8 ranks, cap 8192, attention cost) pushing n W1 items then finish().
// Exit status 1 if a fitted slope exceeds the limit of its stated complexity (O(n) and
// O(n log n) -> 1.15; the sweeps over k: see the table).
//
//   build/<dir>/bench/bench_slopes [--max=10000000] [--only=substring]
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/post_balance.hpp>
#include <fulcrum/balance/two_level.hpp>
#include <fulcrum/core/cost_model.hpp>
#include <fulcrum/packing/pack.hpp>
#include <fulcrum/packing/rank_packing.hpp>
#include <fulcrum/pipeline/partition.hpp>
#include <fulcrum/recompute/select.hpp>
#include <fulcrum/runtime/streaming_batcher.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

template <class T>
void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

const std::vector<std::uint32_t>& tokens(std::size_t n) {
  static std::vector<std::uint32_t> all;
  if (all.size() < n) {
    all = fulcrum::testing::generate_w1_tokens(n);
    for (auto& t : all) t = std::min<std::uint32_t>(t, 8192);
  }
  static std::vector<std::uint32_t> view;
  view.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
  return view;
}

std::vector<double> attention_costs(std::size_t n) {
  const auto& t = tokens(n);
  std::vector<double> c(n);
  for (std::size_t i = 0; i < n; ++i) c[i] = fulcrum::attention_cost{}(t[i]);
  return c;
}

std::vector<double> sevenths(std::size_t n) {
  std::vector<double> c(n);
  std::uint64_t x = 88172645463325252ull;
  for (auto& v : c) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    v = static_cast<double>(1 + x % 1000) / 7.0;
  }
  return c;
}

/// CPU time of this thread in seconds (stable when other jobs share the cores; every front door
/// here is single-threaded).
double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// Best CPU time of one call in seconds.
double best_time(const std::function<void()>& run) {
  double best = 1e300, total = 0;
  for (int rep = 0; rep < 50; ++rep) {
    const double t0 = thread_seconds();
    run();
    const double s = thread_seconds() - t0;
    best = std::min(best, s);
    total += s;
    if (s > 0.3 || (rep >= 2 && total > 0.1)) break;
  }
  return best;
}

struct door {
  const char* name;
  const char* stated;  ///< complexity stated in the header (the term in the swept variable)
  double limit;        ///< slope limit that stated complexity allows over this range
  std::size_t max_n;   ///< largest n (10^7 unless too slow; then said in the table)
  std::function<std::function<void()>(std::size_t)> make;  ///< input for n -> timed call
  bool k_sweep = false;                                    ///< the swept variable is k (n fixed)
};

std::function<void()> pack_with(fulcrum::pack_algorithm a, std::size_t n) {
  auto s = std::make_shared<std::vector<std::uint32_t>>(tokens(n));
  return [s, a] {
    fulcrum::pack_options o;
    o.algorithm = a;
    keep(fulcrum::pack(*s, std::uint64_t{8192}, o));
  };
}

/// n of the sweeps over k.
constexpr std::size_t k_sweep_n = 100000;

std::function<void()> balance_with(fulcrum::balance_algorithm a, std::size_t n, std::size_t k) {
  auto c = std::make_shared<std::vector<double>>(attention_costs(n));
  return [c, a, k] {
    fulcrum::balance_options o;
    o.algorithm = a;
    keep(fulcrum::balance(*c, k, o));
  };
}

}  // namespace

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // as bench_growth: every size allocates the same way
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
  std::size_t cap_n = 10000000;
  std::string only;
  for (int a = 1; a < argc; ++a) {
    if (std::strncmp(argv[a], "--max=", 6) == 0) cap_n = std::strtoull(argv[a] + 6, nullptr, 10);
    if (std::strncmp(argv[a], "--only=", 7) == 0) only = argv[a] + 7;
  }
  using fulcrum::balance_algorithm;
  using fulcrum::pack_algorithm;
  constexpr std::size_t M = 1000000, T = 10000000;
  std::vector<door> doors = {
      {"pack next_fit", "O(n)", 1.15, T, [](std::size_t n) { return pack_with(pack_algorithm::next_fit, n); }},
      {"pack first_fit", "O(n log B)", 1.15, T, [](std::size_t n) { return pack_with(pack_algorithm::first_fit, n); }},
      {"pack best_fit", "O(n log n + C)", 1.15, T,
       [](std::size_t n) { return pack_with(pack_algorithm::best_fit, n); }},
      {"pack first_fit_decreasing", "O(n log n)", 1.15, T,
       [](std::size_t n) { return pack_with(pack_algorithm::first_fit_decreasing, n); }},
      {"pack best_fit_decreasing", "O(n log n + C)", 1.15, T,
       [](std::size_t n) { return pack_with(pack_algorithm::best_fit_decreasing, n); }},
      {"pack histogram (automatic)", "O(n + C)", 1.15, T,
       [](std::size_t n) { return pack_with(pack_algorithm::histogram, n); }},
      {"pack_for_ranks (8 ranks, cost)", "O(n K log C + n log n + steps P m^2)", 1.15, T,
       [](std::size_t n) {
         auto s = std::make_shared<std::vector<std::uint32_t>>(tokens(n));
         return std::function<void()>([s] {
           keep(fulcrum::pack_for_ranks(*s, std::uint64_t{8192}, 8, fulcrum::rank_pack_options{},
                                        fulcrum::attention_cost{}));
         });
       }},
      {"balance greedy (k=64)", "O(n + n log k)", 1.15, T,
       [](std::size_t n) { return balance_with(balance_algorithm::greedy, n, 64); }},
      {"balance karmarkar_karp (k=64)", "O(n log n + n k log k)", 1.15, M,
       [](std::size_t n) { return balance_with(balance_algorithm::karmarkar_karp, n, 64); }},
      {"balance multifit (k=64)", "O(iterations n log k)", 1.15, M,
       [](std::size_t n) { return balance_with(balance_algorithm::multifit, n, 64); }},
      {"balance local_search (k=64)", "O(n log n) + steps", 1.15, T,
       [](std::size_t n) { return balance_with(balance_algorithm::local_search, n, 64); }},
      {"balance automatic (k=64)", "LPT + local search + <= k re-splits", 1.15, T,
       [](std::size_t n) { return balance_with(balance_algorithm::automatic, n, 64); }},
      {"balance greedy, k sweep (n=1e5)", "O(n log k): k^0", 0.3, 4096,
       [](std::size_t k) { return balance_with(balance_algorithm::greedy, k_sweep_n, k); }, true},
      {"balance karmarkar_karp, k sweep", "O(n k log k): k^1.1", 1.15, 4096,
       [](std::size_t k) { return balance_with(balance_algorithm::karmarkar_karp, k_sweep_n, k); }, true},
      {"balance multifit, k sweep", "O(it n log k): k^0", 0.3, 4096,
       [](std::size_t k) { return balance_with(balance_algorithm::multifit, k_sweep_n, k); }, true},
      {"balance automatic, k sweep", "k re-splits: k^1", 1.15, 4096,
       [](std::size_t k) { return balance_with(balance_algorithm::automatic, k_sweep_n, k); }, true},
      {"balance_two_level (8 x 4)", "algorithm on n + O(n + k m)", 1.15, M,
       [](std::size_t n) {
         auto c = std::make_shared<std::vector<double>>(attention_costs(n));
         return std::function<void()>([c] { keep(fulcrum::balance_two_level(*c, 8, 4)); });
       }},
      {"post_balance (8 ranks)", "O(M (n log n + n C + k))", 1.15, M,
       [](std::size_t n) {
         auto c = std::make_shared<std::vector<double>>(attention_costs(n));
         auto at = std::make_shared<std::vector<fulcrum::index_type>>(n);
         auto bytes = std::make_shared<std::vector<std::uint64_t>>(n);
         for (std::size_t i = 0; i < n; ++i)
           (*at)[i] = static_cast<fulcrum::index_type>(i % 8), (*bytes)[i] = 1 + i % 5;
         return std::function<void()>([c, at, bytes] {
           fulcrum::post_balance_options o;
           o.ranks_per_node = 2;
           keep(fulcrum::post_balance(*c, *at, *bytes, 8, o));
         });
       }},
      {"partition_stages (16 stages)", "O(n + (p log n)^2)", 1.15, T,
       [](std::size_t n) {
         auto c = std::make_shared<std::vector<double>>(sevenths(n));
         return std::function<void()>([c] { keep(fulcrum::partition_stages(*c, 16)); });
       }},
      {"select_recompute (n layers x 3)", "O(NK log(NK) + 1e5 (H + K))", 1.15, M,
       [](std::size_t n) {
         auto layers = std::make_shared<std::vector<std::vector<fulcrum::recompute_option>>>(n);
         std::uint64_t full = 0;
         for (std::size_t i = 0; i < n; ++i) {
           const std::uint64_t m = 1000 + (i * 7919) % 997;
           const double t = 1.0 + static_cast<double>((i * 104729) % 1009) / 7.0;
           (*layers)[i] = {{2 * m, 0.0}, {m, t}, {0, 3.0 * t}};
           full += 2 * m;
         }
         return std::function<void()>([layers, full] { keep(fulcrum::select_recompute(*layers, full / 2)); });
       }},
      {"streaming_batcher push+finish", "amortised O(K log C + passes r m) per item", 1.15, T,
       [](std::size_t n) {
         auto s = std::make_shared<std::vector<std::uint32_t>>(tokens(n));
         return std::function<void()>([s] {
           fulcrum::stream_options<1> o;
           o.caps = {8192};
           o.ranks = 8;
           fulcrum::streaming_batcher<1, fulcrum::attention_cost> b(o);
           std::size_t steps = 0;
           for (std::size_t i = 0; i < s->size(); ++i) {
             b.push(i, (*s)[i]);
             while (b.next()) ++steps;
           }
           b.finish();
           while (b.next()) ++steps;
           keep(steps);
         });
       }},
  };
  int failures = 0;
  std::printf("%-34s %-42s %6s %6s %6s  %s\n", "front door", "stated complexity", "slope", "last", "limit",
              "seconds per n (10^3, 10^4, ...; k = 8, 64, 512, 4096 for k sweeps)");
  const auto start = std::chrono::steady_clock::now();
  for (const door& d : doors) {
    if (!only.empty() && std::string(d.name).find(only) == std::string::npos) continue;
    std::vector<double> xs, ys;
    std::string cells;
    std::vector<std::size_t> grid;
    if (d.k_sweep)
      grid = {8, 64, 512, 4096};
    else
      for (std::size_t n = 1000; n <= std::min(d.max_n, cap_n); n *= 10) grid.push_back(n);
    for (const std::size_t n : grid) {
      const auto call = d.make(n);
      const double t = best_time(call);
      xs.push_back(std::log(static_cast<double>(n)));
      ys.push_back(std::log(t));
      char buf[32];
      std::snprintf(buf, sizeof buf, " %.3g", t);
      cells += buf;
    }
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    const double m = static_cast<double>(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) sx += xs[i], sy += ys[i], sxx += xs[i] * xs[i], sxy += xs[i] * ys[i];
    const double slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
    const std::size_t z = xs.size() - 1;
    const double last = (ys[z] - ys[z - 1]) / (xs[z] - xs[z - 1]);
    const bool ok = slope <= d.limit;
    failures += ok ? 0 : 1;
    std::string note = cells;
    if (!d.k_sweep && d.max_n < cap_n) note += "  (n <= 10^6: slow at 10^7)";
    std::printf("%-34s %-42s %6.2f %6.2f %6.2f %s%s\n", d.name, d.stated, slope, last, d.limit, note.c_str(),
                ok ? "" : "  <-- above its stated complexity");
    std::fflush(stdout);
  }
  std::printf("total %.0f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return failures == 0 ? 0 : 1;
}
