// The multimodal orchestrator (dispatch/orchestrator.hpp) on a thread_world: a W1 + audio step
// (testing/multimodal_step.hpp: vision per image, audio per clip, LLM per sample), every rank
// holding an equal contiguous shard of i.i.d. samples (a DistributedSampler), or with --skew=1 an
// uneven one (rank r holds 2 (r + 1) / (k + 1) of the mean). Plans are computed on every rank of the thread_world by
// orchestrate_distributed (hash-checked); figures come from the plan and a model:
//   - per phase max/mean of the cost, before (data where the loader put it) and after;
//   - inter-node payload bytes of all forward routes (the backward routes move the consumed
//     phases' bytes again), and inter-node messages of the flat and the node-wise exchange;
//   - simulated step time = sum over phases of makespan * seconds per cost unit (ViT-L 4.5e-6,
//     Whisper-large encoder 9e-6, 7B LLM 1.05e-4: 6 * params FLOPs per token at 400 TFLOP/s)
//     + every route's exchange time (forward, and backward for the consumed routes) under the
//     alpha-beta model of comm/hierarchical.hpp (intra 900 GB/s, inter 50 GB/s per rank, 3 / 10 us
//     per message; --intra_gbps, --inter_gbps), flat or node-wise, whichever is faster per route.
// Configurations: none (no balancing), llm-only (encoders unbalanced, the LLM phase balanced from
// scratch: what VeOmni / verl do), scratch (every phase from scratch, OrchMLLM-style without
// placement) and fulcrum (every phase placement-aware, post_balance with 1% slack).
// Usage: bench_orchestrator [--samples_per_rank=256] [--skew=0] [--intra_gbps=900] [--inter_gbps=50] [--seeds=5]
// [--tolerance=0.01]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <fulcrum/comm/hierarchical.hpp>
#include <fulcrum/comm/thread_world.hpp>
#include <fulcrum/dispatch/orchestrator.hpp>
#include <fulcrum/testing/multimodal_step.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

struct config {
  const char* name;
  fulcrum::phase_mode encoders;
  fulcrum::phase_mode llm;
};

struct figures {
  double maxmean[3] = {0, 0, 0}, before[3] = {0, 0, 0};
  double inter_bytes = 0, flat_msgs = 0, hier_msgs = 0;
  double compute_s = 0, exchange_flat_s = 0, exchange_best_s = 0;
  double plan_ms = 0;
};

double tolerance = 0.01;  // --tolerance: post_balance slack of the fulcrum configuration

double arg(int argc, char** argv, const char* name, double fallback) {
  const std::string key = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], key.c_str(), key.size()) == 0) return std::atof(argv[i] + key.size());
  return fallback;
}

figures run(std::size_t k, std::size_t rpn, std::size_t per_rank, bool skew, const config& cfg, std::uint64_t seed,
            const fulcrum::comm::bandwidth_model& bw) {
  const std::size_t n = per_rank * k;
  const auto all = fulcrum::testing::generate_w1(n, seed);
  const auto audio = fulcrum::testing::generate_w1_audio(n, seed);
  std::vector<std::size_t> base{0};
  for (std::size_t r = 0; r < k; ++r)
    base.push_back(skew ? base.back() + 2 * n * (r + 1) / (k * (k + 1)) : (r + 1) * n / k);
  base.back() = n;
  fulcrum::orchestrator_options o;
  o.ranks_per_node = rpn;
  o.tolerance = tolerance;
  fulcrum::comm::thread_world world(k);
  std::vector<fulcrum::orchestrator_plan> plans(k);
  std::vector<double> ms(k);
  world.run([&](fulcrum::comm::thread_world::endpoint& ep) {
    const std::size_t r = ep.rank(), lo = base[r], hi = base[r + 1];
    auto local =
        fulcrum::testing::multimodal_phases(std::span(all).subspan(lo, hi - lo), std::span(audio).subspan(lo, hi - lo));
    local[0].mode = local[1].mode = cfg.encoders;
    local[2].mode = cfg.llm;
    const auto t0 = std::chrono::steady_clock::now();
    plans[r] = fulcrum::orchestrate_distributed(ep, hi - lo, local, o);
    ms[r] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  });
  for (const auto& p : plans)
    if (p.hash != plans[0].hash) {
      std::fprintf(stderr, "ranks disagree on the plan\n");
      std::exit(1);
    }
  const auto& plan = plans[0];
  figures f;
  for (double v : ms) f.plan_ms = std::max(f.plan_ms, v);
  const double sec_per_cost[3] = {4.5e-6, 9e-6, 1.05e-4};
  for (std::size_t q = 0; q < 3; ++q) {
    const auto& a = plan.phases[q];
    const double mean = std::max(a.mean(), 1e-300);
    f.maxmean[q] = a.makespan() / mean;
    f.before[q] = a.makespan_before() / mean;
    f.compute_s += a.makespan() * sec_per_cost[q];
  }
  for (const auto& rt : plan.routes) {
    const bool consumed = rt.from_phase != fulcrum::phase_route::origin;
    const auto e = fulcrum::comm::choose_exchange(rt.bytes, k, rpn, bw);
    const double times = consumed ? 2.0 : 1.0;  // backward route: gradients of the same size
    f.inter_bytes += static_cast<double>(rt.bytes_inter_node) * times;
    f.flat_msgs += static_cast<double>(e.flat_inter_messages) * times;
    f.hier_msgs += static_cast<double>(e.hier_inter_messages) * times;
    f.exchange_flat_s += e.flat_seconds * times;
    f.exchange_best_s += std::min(e.flat_seconds, e.hierarchical_seconds) * times;
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const auto per_rank = static_cast<std::size_t>(arg(argc, argv, "samples_per_rank", 256));
  const auto seeds = static_cast<std::uint64_t>(arg(argc, argv, "seeds", 5));
  const bool skew = arg(argc, argv, "skew", 0) != 0;
  tolerance = arg(argc, argv, "tolerance", 0.01);
  fulcrum::comm::bandwidth_model bw;
  bw.intra_bytes_per_s = arg(argc, argv, "intra_gbps", 900) * 1e9;
  bw.inter_bytes_per_s = arg(argc, argv, "inter_gbps", 50) * 1e9;
  const config configs[] = {
      {"none", fulcrum::phase_mode::keep, fulcrum::phase_mode::keep},
      {"llm-only", fulcrum::phase_mode::keep, fulcrum::phase_mode::scratch},
      {"scratch", fulcrum::phase_mode::scratch, fulcrum::phase_mode::scratch},
      {"fulcrum", fulcrum::phase_mode::placement_aware, fulcrum::phase_mode::placement_aware},
  };
  std::printf(
      "W1 + audio, %zu samples per rank on average, mean of %llu seeds; intra %.0f GB/s, inter %.0f GB/s per rank, "
      "tolerance %g\n",
      per_rank, static_cast<unsigned long long>(seeds), bw.intra_bytes_per_s / 1e9, bw.inter_bytes_per_s / 1e9,
      tolerance);
  std::printf(
      "| ranks x nodes | config | vision max/mean | audio max/mean | llm max/mean | inter-node GB | inter msgs "
      "flat / node-wise | compute ms | exchange ms flat / best | step ms | vs none | plan ms |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (auto [k, rpn] : {std::pair<std::size_t, std::size_t>{8, 4}, {16, 8}, {16, 4}}) {
    double none_step = 0;
    for (const auto& cfg : configs) {
      figures m;
      for (std::uint64_t s = 0; s < seeds; ++s) {
        const auto f = run(k, rpn, per_rank, skew, cfg, fulcrum::default_seed + s, bw);
        for (int q = 0; q < 3; ++q) {
          m.maxmean[q] += f.maxmean[q] / static_cast<double>(seeds);
          m.before[q] += f.before[q] / static_cast<double>(seeds);
        }
        m.inter_bytes += f.inter_bytes / static_cast<double>(seeds);
        m.flat_msgs += f.flat_msgs / static_cast<double>(seeds);
        m.hier_msgs += f.hier_msgs / static_cast<double>(seeds);
        m.compute_s += f.compute_s / static_cast<double>(seeds);
        m.exchange_flat_s += f.exchange_flat_s / static_cast<double>(seeds);
        m.exchange_best_s += f.exchange_best_s / static_cast<double>(seeds);
        m.plan_ms = std::max(m.plan_ms, f.plan_ms);
      }
      const double step = m.compute_s + m.exchange_best_s;
      if (cfg.llm == fulcrum::phase_mode::keep) none_step = step;
      std::printf(
          "| %zu x %zu | %s | %.3f (%.3f) | %.3f (%.3f) | %.3f (%.3f) | %.3f | %.0f / %.0f | %.1f | %.2f / %.2f | %.1f "
          "| "
          "%.3fx | %.1f |\n",
          k, k / rpn, cfg.name, m.maxmean[0], m.before[0], m.maxmean[1], m.before[1], m.maxmean[2], m.before[2],
          m.inter_bytes / 1e9, m.flat_msgs, m.hier_msgs, m.compute_s * 1e3, m.exchange_flat_s * 1e3,
          m.exchange_best_s * 1e3, step * 1e3, none_step / step, m.plan_ms);
    }
  }
  std::printf("(max/mean: after (before); before = the loader's placement)\n");
  return 0;
}
