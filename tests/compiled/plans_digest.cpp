// SPDX-License-Identifier: Apache-2.0
// Compiled mode vs header-only: this program is built twice, once against fulcrum::fulcrum
// (header-only) and once against fulcrum::compiled (FULCRUM_COMPILED: the workers come from the
// static library). Each prints every plan of a fixed set of pack() and balance() calls (every
// algorithm, every oversize policy, one and several dimensions, equal counts, part capacity,
// limits) as text; CTest checks the two outputs are identical, byte for byte (doubles printed as
// their bit patterns).
//   plans_digest --write FILE     writes the plans
//   plans_digest --compare FILE   exits 1 (naming the first differing line) unless they match
#include <fulcrum/fulcrum.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <span>
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

void put_doubles(std::ostringstream& os, const char* what, const std::vector<double>& v) {
  os << what << '=';
  for (const double x : v) os << std::bit_cast<std::uint64_t>(x) << ' ';
  os << '\n';
}

template <class T>
void put_values(std::ostringstream& os, const char* what, const std::vector<T>& v) {
  os << what << '=';
  for (const auto& x : v) os << x << ' ';
  os << '\n';
}

void put(std::ostringstream& os, const char* what, const fulcrum::rank_packing& p) {
  os << what << " steps=" << p.steps() << " ranks=" << p.ranks() << " lb=" << p.lower_bound << " used=" << p.used_bins
     << " opt=" << p.proven_optimal << " cost_dist=" << std::bit_cast<std::uint64_t>(p.cost_dist) << '\n';
  put_values(os, "loads", p.loads);
  put_doubles(os, "costs", p.costs);
  put_doubles(os, "dist", p.dist);
  put_doubles(os, "pad", p.pad);
  put(os, p.bins.groups());
}

void put(std::ostringstream& os, const char* what, const fulcrum::stage_partition& p) {
  os << what << " bottleneck=" << std::bit_cast<std::uint64_t>(p.bottleneck)
     << " lb=" << std::bit_cast<std::uint64_t>(p.lower_bound) << " opt=" << p.proven_optimal << '\n';
  put_values(os, "boundaries", p.boundaries);
  put_doubles(os, "stage_costs", p.stage_costs);
}

void put(std::ostringstream& os, const char* what, const fulcrum::schedule_result& r) {
  os << what << " time=" << std::bit_cast<std::uint64_t>(r.iteration_time)
     << " bubble=" << std::bit_cast<std::uint64_t>(r.bubble_fraction) << '\n';
  put_doubles(os, "busy", r.busy_time);
  put_values(os, "in_flight", r.peak_in_flight);
  put_doubles(os, "peak_memory", r.peak_activation_memory);
}

void put(std::ostringstream& os, const char* what, const fulcrum::pipeline_plan& p) {
  put(os, what, p.partition);
  put_values(os, "recompute_choice", p.recompute_choice);
  put_doubles(os, "forward", p.stage_forward);
  put_doubles(os, "backward", p.stage_backward);
  put_doubles(os, "recompute", p.stage_recompute);
  put_values(os, "memory", p.stage_memory);
  put(os, "schedule", p.schedule);
  os << "time=" << std::bit_cast<std::uint64_t>(p.iteration_time) << " lb=" << std::bit_cast<std::uint64_t>(p.lower_bound)
     << " opt=" << p.proven_optimal << " nodes=" << p.nodes << '\n';
}

void put(std::ostringstream& os, const char* what, const fulcrum::recompute_plan& p) {
  os << what << " memory=" << p.memory << " time=" << std::bit_cast<std::uint64_t>(p.time)
     << " lb=" << std::bit_cast<std::uint64_t>(p.lower_bound) << " opt=" << p.proven_optimal << '\n';
  put_values(os, "choice", p.choice);
}

template <class F>
void guarded(std::ostringstream& os, const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    os << what << " threw: " << e.what() << '\n';
  }
}

// The other front doors with compiled workers (see the file comment).
void more_plans(std::ostringstream& os, const std::vector<item>& items, std::uint64_t& state) {
  const auto tokens = [](const item& it) { return it.tokens; };
  const auto both = [](const item& it) { return std::array<std::uint32_t, 2>{it.tokens, it.images}; };
  const auto five = [](const item& it) {
    return std::array<std::uint64_t, 5>{it.tokens, it.images, 1, it.tokens % 7, 2};
  };
  const std::vector<item> some(items.begin(), items.begin() + 1000);
  // Multi-constraint packers by name and with a runtime dimension.
  std::vector<fulcrum::size_vector<3>> s3(some.size());
  std::vector<std::uint64_t> flat;
  for (std::size_t i = 0; i < some.size(); ++i) {
    s3[i] = {some[i].tokens, some[i].images, 1 + i % 3};
    flat.insert(flat.end(), s3[i].begin(), s3[i].end());
  }
  const fulcrum::size_vector<3> c3{4096, 8, 6};
  guarded(os, "mnf", [&] { put(os, "mnf", fulcrum::multi_next_fit<3>(s3, c3)); });
  guarded(os, "mff", [&] { put(os, "mff", fulcrum::multi_first_fit<3>(s3, c3)); });
  guarded(os, "mffd", [&] { put(os, "mffd", fulcrum::multi_first_fit_decreasing<3>(s3, c3)); });
  guarded(os, "mbfd", [&] { put(os, "mbfd", fulcrum::multi_best_fit_decreasing<3>(s3, c3)); });
  os << "mlb " << fulcrum::multi_lower_bound<3>(s3, c3) << '\n';
  guarded(os, "flat", [&] {
    const auto f = fulcrum::multi_pack_flat(flat, 3, c3);
    os << "flat lb=" << f.lower_bound << '\n';
    put_values(os, "loads", f.loads);
    put(os, f.bins);
  });
  // pack_for_ranks: one dimension with and without a cost model, two and five dimensions.
  for (const auto policy : {fulcrum::oversize::error, fulcrum::oversize::truncate, fulcrum::oversize::own_bin}) {
    fulcrum::rank_pack_options ro;
    ro.oversize_policy = policy;
    os << "pack_for_ranks policy=" << static_cast<int>(policy) << '\n';
    guarded(os, "r1", [&] { put(os, "r1", fulcrum::pack_for_ranks(some, 2500, 8, ro, fulcrum::balance_sizes{}, tokens)); });
    guarded(os, "r1c", [&] { put(os, "r1c", fulcrum::pack_for_ranks(some, 4096, 8, ro, fulcrum::attention_cost{}, tokens)); });
    guarded(os, "r2", [&] {
      put(os, "r2", fulcrum::pack_for_ranks(some, std::array<std::uint32_t, 2>{4096, 3}, 4, ro, fulcrum::balance_sizes{}, both));
    });
    guarded(os, "r5", [&] {
      put(os, "r5", fulcrum::pack_for_ranks(some, std::array<std::uint64_t, 5>{4096, 8, 16, 20, 40}, 4, ro,
                                            fulcrum::balance_sizes{}, five));
    });
  }
  // Two-level, phases, post-balance.
  std::vector<fulcrum::multimodal_sample> samples(600);
  for (auto& x : samples)
    x = fulcrum::multimodal_sample{static_cast<std::uint32_t>(1 + next(state) % 4000),
                                   static_cast<std::uint32_t>(next(state) % 5), 64};
  for (const bool equal : {false, true}) {
    fulcrum::balance_options bo;
    bo.equal_counts = equal;
    os << "two_level equal=" << equal << '\n';
    guarded(os, "tl", [&] {
      const auto t = fulcrum::balance_two_level(samples, 8, 4, bo, fulcrum::attention_cost{}, fulcrum::tokens_of{});
      put(os, "tl.ranks", t.ranks);
      put(os, t.micro_batches.groups());
      put_doubles(os, "mb_loads", t.micro_batch_loads);
      os << "lockstep=" << std::bit_cast<std::uint64_t>(t.lockstep_time) << " bottom_up=" << t.bottom_up << '\n';
    });
    bo.part_capacity = 4000.0 * 600 / 32 * 1.02;
    guarded(os, "tlcap", [&] {
      const auto t = fulcrum::balance_two_level(samples, 8, 4, bo, fulcrum::identity_cost{}, fulcrum::tokens_of{});
      put(os, "tlcap.ranks", t.ranks);
      put(os, t.micro_batches.groups());
    });
    bo.part_capacity = std::numeric_limits<double>::infinity();
    guarded(os, "phases", [&] {
      const auto ph = fulcrum::balance_phases(samples, 8, bo, fulcrum::projected_cost{fulcrum::linear_cost{}, fulcrum::images_of{}},
                                              fulcrum::projected_cost{fulcrum::attention_cost{}, fulcrum::tokens_of{}});
      put(os, "vision", ph.vision);
      put(os, "llm", ph.llm);
      put_values(os, "llm_rank", ph.llm_rank);
      put(os, ph.transfer);
      os << "kept=" << ph.samples_kept << '\n';
    });
  }
  std::vector<double> costs(samples.size());
  std::vector<fulcrum::index_type> rank(samples.size());
  std::vector<std::uint64_t> bytes(samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    costs[i] = static_cast<double>(samples[i].tokens());
    rank[i] = static_cast<fulcrum::index_type>(next(state) % 16);
    bytes[i] = samples[i].tokens() * 2ULL;
  }
  for (const double tolerance : {0.0, 0.01}) {
    fulcrum::post_balance_options po;
    po.ranks_per_node = 4;
    po.tolerance = tolerance;
    guarded(os, "post", [&] {
      const auto r = fulcrum::post_balance(costs, rank, bytes, 16, po);
      put(os, "post", r.plan);
      os << "moved " << r.bytes_moved_inter_node << ' ' << r.bytes_moved_intra_node << ' ' << r.samples_moved << '\n';
    });
  }
  // Pipeline: partition, schedule, searches; recompute.
  std::vector<double> layer_costs(96);
  std::vector<fulcrum::pipeline_layer> layers(layer_costs.size());
  std::vector<std::vector<fulcrum::recompute_option>> options(layers.size());
  for (std::size_t l = 0; l < layers.size(); ++l) {
    layer_costs[l] = 1.0 + static_cast<double>(next(state) % 1000) / 100.0;
    layers[l] = {layer_costs[l], 2 * layer_costs[l], 10 + next(state) % 20, 50 + next(state) % 50};
    options[l] = {{layers[l].activation_memory, 0.0},
                  {layers[l].activation_memory / 2, 0.3 * layers[l].forward},
                  {4, layers[l].forward}};
  }
  using fulcrum::stage_algorithm;
  for (const auto a : {stage_algorithm::automatic, stage_algorithm::nicol, stage_algorithm::exact_bisection,
                       stage_algorithm::dynamic_programming}) {
    fulcrum::pipeline_options po;
    po.algorithm = a;
    guarded(os, "stages", [&] { put(os, "stages", fulcrum::partition_stages(layer_costs, 8, po)); });
    po.stage_speed.assign(8, 1.0);
    po.stage_speed[3] = 1.5;
    if (a != stage_algorithm::nicol)
      guarded(os, "stages_speed", [&] { put(os, "stages_speed", fulcrum::partition_stages(layer_costs, 8, po)); });
  }
  const auto uniform = fulcrum::uniform_boundaries(layer_costs.size(), 8);
  put_values(os, "uniform", uniform);
  guarded(os, "eval", [&] { put(os, "eval", fulcrum::evaluate_partition(layer_costs, uniform)); });
  for (const auto kind : {fulcrum::pipeline_schedule::gpipe, fulcrum::pipeline_schedule::one_f_one_b,
                          fulcrum::pipeline_schedule::interleaved_1f1b}) {
    fulcrum::schedule_options so;
    so.kind = kind;
    so.micro_batches = 8;
    so.virtual_stages = kind == fulcrum::pipeline_schedule::interleaved_1f1b ? 2 : 1;
    so.p2p_time = 0.1;
    const std::vector<double> fw(layer_costs.begin(), layer_costs.begin() + 8);
    const std::vector<double> bw(layer_costs.begin() + 8, layer_costs.begin() + 16);
    guarded(os, "sim", [&] { put(os, "sim", fulcrum::simulate_schedule(fw, bw, so)); });
  }
  fulcrum::pipeline_search_options so;
  so.stages = 4;
  so.micro_batches = 8;
  so.device_memory = 4000;
  so.limits.nodes = 20000;
  const std::span<const fulcrum::pipeline_layer> first(layers.data(), 24);
  const std::vector<std::vector<fulcrum::recompute_option>> first_options(options.begin(), options.begin() + 24);
  guarded(os, "search", [&] { put(os, "search", fulcrum::search_partition(first, so)); });
  guarded(os, "search_rc", [&] { put(os, "search_rc", fulcrum::search_partition(first, first_options, so)); });
  guarded(os, "joint", [&] { put(os, "joint", fulcrum::joint_partition_recompute(first, first_options, so)); });
  const std::vector<std::size_t> quarter{0, 6, 12, 18, 24};
  guarded(os, "evalp", [&] { put(os, "evalp", fulcrum::evaluate_pipeline(first, first_options, quarter, so)); });
  using fulcrum::recompute_algorithm;
  for (const auto a : {recompute_algorithm::automatic, recompute_algorithm::dynamic_programming,
                       recompute_algorithm::branch_and_bound, recompute_algorithm::greedy}) {
    fulcrum::recompute_options ro;
    ro.algorithm = a;
    ro.limits.nodes = 20000;
    guarded(os, "select", [&] { put(os, "select", fulcrum::select_recompute(options, 4000, ro)); });
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
  more_plans(os, items, state);
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
