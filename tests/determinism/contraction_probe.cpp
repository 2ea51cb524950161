// Determinism probe: prints, one per line, the bits of costs, loads, bounds and plans that
// fulcrum computes on inputs chosen so that an FMA-contracting build would change them (a
// cancellation a*L + b ~ 0, where the fused and the twice-rounded result differ; two items whose
// costs tie only when the product is rounded, so LPT's order flips when it is fused).
// Built twice by tests/determinism/CMakeLists.txt: with -O2 -march=x86-64-v3 -ffp-contract=fast
// (a consumer's hostile flags: FMA hardware, contraction allowed) and with -ffp-contract=off
// (the reference); compare_outputs.cmake requires the two outputs to be equal byte for byte.
#include <bit>
#include <cstdint>
#include <cstdio>
#include <span>
#include <vector>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/core/cost_model.hpp>
#include <fulcrum/pipeline/partition.hpp>
#include <fulcrum/pipeline/search.hpp>
#include <fulcrum/recompute/joint.hpp>
#include <fulcrum/recompute/select.hpp>

namespace {
void put(const char* what, double x) {
  std::printf("%s %016llx\n", what, static_cast<unsigned long long>(std::bit_cast<std::uint64_t>(x)));
}
void put(const char* what, std::uint64_t x) {
  std::printf("%s %llu\n", what, static_cast<unsigned long long>(x));
}

struct length_item {
  double length;
};

// A user cost part that ends in a product: composite_cost must not fuse it into its sum.
struct scaled_length {
  double scale;
  double operator()(const length_item& x) const { return scale * x.length; }
};

// Keeps the inputs opaque to the optimiser so that nothing is constant-folded.
template <class T>
T launder(T x) {
  volatile T v = x;
  return v;
}
}  // namespace

int main() {
#if defined(FULCRUM_PROBE_NEEDS_FMA) && (defined(__GNUC__) || defined(__clang__)) && \
    (defined(__x86_64__) || defined(__i386__))
  if (!__builtin_cpu_supports("fma") || !__builtin_cpu_supports("avx2")) {
    std::printf("SKIP: this CPU has no FMA/AVX2: the x86-64-v3 probe cannot run\n");
    return 77;
  }
#endif
  // 1. costs: cancellation a*L + b with L = 3 (+ ulps)
  const double a = launder(0.1), b = launder(-0.3);
  const fulcrum::linear_cost lin{a, b};
  std::vector<length_item> items;
  for (int k = 0; k < 64; ++k) items.push_back({launder(3.0) + k * 0x1p-51});
  for (std::size_t i = 0; i < items.size(); ++i) put("linear", lin(items[i].length));
  const fulcrum::attention_cost att{a, launder(1.0 / 4096.0), launder(-0.30219726562500004)};
  for (std::size_t i = 0; i < items.size(); ++i) put("attention", att(items[i].length));
  const fulcrum::composite_cost comp{scaled_length{a},
                                     fulcrum::projected_cost{fulcrum::identity_cost{}, [](const length_item& x) {
                                                               return -x.length / 10.0 + 0.3000000000000001;
                                                             }}};
  for (std::size_t i = 0; i < items.size(); ++i) put("composite", comp(items[i]));

  // 2. a plan: L = 3 and L = 3 + 2^-51 tie when the product is rounded; fused, the second item is
  // costlier and LPT takes it first.
  const std::vector<length_item> pair{{launder(3.0)}, {launder(3.0000000000000004)}};
  const auto plan = fulcrum::lpt(pair, 2, lin, &length_item::length);
  for (std::size_t g = 0; g < plan.parts.size(); ++g)
    for (auto i : plan.parts[g]) put("lpt.part_of", std::uint64_t{g} * 100 + i);
  for (double l : plan.loads) put("lpt.load", l);
  put("lpt.lower_bound", plan.lower_bound);

  // 3. pipeline and recompute plans whose bounds and times mix products and sums
  std::vector<fulcrum::pipeline_layer> layers;
  std::vector<std::vector<fulcrum::recompute_option>> options;
  for (int i = 0; i < 12; ++i) {
    const double f = launder(0.1) * (1 + i % 3) + launder(0.7) * (i % 2);
    layers.push_back({f, launder(2.1) * f, 3, 4 + std::uint64_t(i % 3)});
    options.push_back({{4 + std::uint64_t(i % 3), 0.0}, {2, launder(0.3) * f}, {0, f}});
  }
  fulcrum::pipeline_search_options o;
  o.stages = 4;
  o.micro_batches = 7;
  o.p2p_time = launder(0.1);
  o.device_memory = 64;
  o.bottleneck_tolerance = 0.5;
  o.limits.nodes = 2;  // stops early: the lower bound is a mixed product-sum
  for (const auto& p : {fulcrum::search_partition(layers, o), fulcrum::search_partition(layers, options, o),
                        fulcrum::joint_partition_recompute(layers, options, o)}) {
    for (auto x : p.partition.boundaries) put("pipeline.boundary", std::uint64_t{x});
    for (auto x : p.recompute_choice) put("pipeline.choice", std::uint64_t{x});
    put("pipeline.iteration_time", p.iteration_time);
    put("pipeline.lower_bound", p.lower_bound);
    put("pipeline.nodes", p.nodes);
  }
  const auto rp = fulcrum::select_recompute(options, 20);
  for (auto x : rp.choice) put("recompute.choice", std::uint64_t{x});
  put("recompute.time", rp.time);
  put("recompute.lower_bound", rp.lower_bound);
  return 0;
}
