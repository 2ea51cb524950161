// SPDX-License-Identifier: Apache-2.0
// Cost models compared (docs/benchmarks.md, "Cost models"; issue 20): balance() plans W1 and W2
// samples over k ranks under four cost models, and every plan is scored by its true imbalance,
// max/mean per-rank cost under the analytic FLOPs model (core/flops_model.hpp) of a 7B dense
// (LLaMA-7B shape) or a MoE (Mixtral-8x7B shape) LLM; on W1 plus a frozen CLIP ViT-L/14-336
// encoder per image. The four models:
//   (a) tokens          the sample's token count;
//   (b) attention       the hand-picked attention_cost{} default, L + L^2/4096;
//   (c) flops           the FLOPs model itself (the truth: the best a cost model can do);
//   (d) calibrated      fitted (core/cost_fit.hpp, Huber) to 20,000 synthetic timings of other
//                       samples of the workload: true FLOPs / 400 TFLOP/s, 5% noise, 1% stragglers;
//                       W2 features [L, L^2, 1], W1 [L, L^2, image tiles, 1].
// Then how closely the fit recovers the hidden truth's coefficients. Plain program (no Google
// Benchmark timing loop): prints three markdown tables, the last one balance() under padded_cost against
// balance() by tokens on padded W2 micro-batches. Run: build/bench/bench_cost_models [n]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/grouped.hpp>
#include <fulcrum/core/cost_fit.hpp>
#include <fulcrum/core/flops_model.hpp>
#include <fulcrum/testing/cost_timings.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

namespace {

transformer_config llama_7b() {
  transformer_config c;
  c.layers = 32, c.hidden = 4096, c.ffn = 11008, c.heads = 32, c.kv_heads = 32, c.vocab = 32000;
  return c;
}
transformer_config mixtral_8x7b() {
  transformer_config c;
  c.layers = 32, c.hidden = 4096, c.ffn = 14336, c.heads = 32, c.kv_heads = 8, c.vocab = 32000;
  c.experts = 8, c.top_k = 2;
  return c;
}
encoder_config clip_vit_l_336() {
  encoder_config e;
  e.model.layers = 24, e.model.hidden = 1024, e.model.ffn = 4096, e.model.heads = 16, e.model.gated = false;
  e.patches_per_tile = 577;
  e.projector_in = 1024;
  e.pass = training_pass::forward;  // frozen (LLaVA-1.5 fine-tuning)
  return e;
}

constexpr double flops_per_ms = 4e11;  // 400 TFLOP/s

/// max/mean no plan can beat: max(largest sample, mean load) / mean load, under the truth.
template <class Item, class True>
double imbalance_floor(const std::vector<Item>& items, std::size_t k, const True& truth) {
  double mx = 0, sum = 0;
  for (const auto& it : items) mx = std::max(mx, static_cast<double>(truth(it))), sum += truth(it);
  const double mean = sum / static_cast<double>(k);
  return std::max(mx, mean) / mean;
}

template <class Item, class True>
double true_imbalance(const std::vector<Item>& items, const partition& plan, const True& truth) {
  std::vector<double> loads(plan.parts.size(), 0.0);
  for (std::size_t r = 0; r < plan.parts.size(); ++r)
    for (auto i : plan.parts[r]) loads[r] += truth(items[i]);
  double mx = 0, sum = 0;
  for (double l : loads) mx = std::max(mx, l), sum += l;
  return mx / (sum / static_cast<double>(loads.size()));
}

struct recovery {
  std::string name;
  std::vector<std::string> coef;
  std::vector<double> got, want;
  double c_share = 0;  // fitted constant as a share of the mean time
  double rms = 0, inlier_rms = 0;
  std::size_t outliers = 0;
};
std::vector<recovery> recoveries;

void row(const char* workload, const char* model, std::size_t k, const double (&imb)[4], double floor) {
  std::printf("| %s | %s | %zu | %.4f | %.4f | %.4f | %.4f | %.4f |\n", workload, model, k, imb[0], imb[1], imb[2],
              imb[3], floor);
}

void run_w2(const char* model_name, const flops_model& truth, std::size_t n, const std::vector<std::size_t>& ks) {
  const auto items = testing::generate_w2(n);
  // Calibration timings on other W2 samples.
  const auto calib = testing::generate_w2(20000, default_seed + 7);
  std::vector<double> lengths, true_ms;
  for (auto l : calib) lengths.push_back(l), true_ms.push_back(truth(l) / flops_per_ms);
  const auto times = testing::noisy_timings(true_ms, 11);
  const auto fit = fit_attention_cost(lengths, times);
  const attention_cost exact = truth.as_attention_cost();
  recovery rec{std::string("W2, ") + model_name,
               {"a (per token)", "b (per token^2)"},
               {fit.model.a, fit.model.b},
               {exact.a / flops_per_ms, exact.b / flops_per_ms}};
  double mean = 0;
  for (double t : true_ms) mean += t;
  rec.c_share = fit.model.c / (mean / static_cast<double>(true_ms.size()));
  rec.rms = fit.fit.rms_relative_error, rec.inlier_rms = fit.fit.inlier_rms_relative_error,
  rec.outliers = fit.fit.outliers;
  recoveries.push_back(rec);
  auto score = [&](const auto& cost) {
    return [&, cost](std::size_t k) { return true_imbalance(items, balance(items, k, {}, cost), truth); };
  };
  for (std::size_t k : ks) {
    const double imb[4] = {score(identity_cost{})(k), score(attention_cost{})(k), score(truth)(k), score(fit.model)(k)};
    row("W2", model_name, k, imb, imbalance_floor(items, k, truth));
  }
}

void run_w1(const char* model_name, const multimodal_flops_model& truth, std::size_t n,
            const std::vector<std::size_t>& ks) {
  const auto items = testing::generate_w1(n);
  const auto calib = testing::generate_w1(20000, default_seed + 7);
  std::vector<double> x, true_ms;
  for (const auto& s : calib) {
    const double l = static_cast<double>(s.tokens());
    x.insert(x.end(), {l, l * l, static_cast<double>(s.images), 1.0});
    true_ms.push_back(truth(s) / flops_per_ms);
  }
  const auto times = testing::noisy_timings(true_ms, 11);
  const auto fit = fit_cost(x, 4, times);
  const auto& cf = fit.coefficients;
  const auto fitted = composite_cost(projected_cost{attention_cost{cf[0], cf[1], cf[3]}, tokens_of{}},
                                     projected_cost{linear_cost{cf[2], 0.0}, images_of{}});
  const attention_cost exact = truth.llm().as_attention_cost();
  const double per_tile = truth.phases(multimodal_sample{0, 1, 576}).encoder;
  recovery rec{std::string("W1, ") + model_name + " + ViT-L",
               {"a (per token)", "b (per token^2)", "per image tile"},
               {cf[0], cf[1], cf[2]},
               {exact.a / flops_per_ms, exact.b / flops_per_ms, per_tile / flops_per_ms}};
  double mean = 0;
  for (double t : true_ms) mean += t;
  rec.c_share = cf[3] / (mean / static_cast<double>(true_ms.size()));
  rec.rms = fit.rms_relative_error, rec.inlier_rms = fit.inlier_rms_relative_error, rec.outliers = fit.outliers;
  recoveries.push_back(rec);
  auto score = [&](const auto& cost) {
    return [&, cost](std::size_t k) { return true_imbalance(items, balance(items, k, {}, cost), truth); };
  };
  for (std::size_t k : ks) {
    const double imb[4] = {score(projected_cost{identity_cost{}, tokens_of{}})(k),
                           score(projected_cost{attention_cost{}, tokens_of{}})(k), score(truth)(k), score(fitted)(k)};
    row("W1", model_name, k, imb, imbalance_floor(items, k, truth));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? static_cast<std::size_t>(std::strtoull(argv[1], nullptr, 10)) : 65536;
  const std::vector<std::size_t> ks{64, 512, 4096};
  const flops_model dense(llama_7b()), moe(mixtral_8x7b());
  std::printf("%zu samples per workload; true imbalance = max/mean per-rank FLOPs of balance()'s plan\n\n", n);
  std::printf(
      "| workload | LLM | ranks | (a) tokens | (b) attention L+L^2/4096 | (c) FLOPs | (d) calibrated | floor |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
  run_w1("7B dense", multimodal_flops_model(dense, clip_vit_l_336()), n, ks);
  run_w1("MoE 8x7B top-2", multimodal_flops_model(moe, clip_vit_l_336()), n, ks);
  run_w2("7B dense", dense, n, ks);
  run_w2("MoE 8x7B top-2", moe, n, ks);
  std::printf("\nFit recovery (20,000 timings, 5%% noise, 1%% stragglers x[2,10], Huber, relative residuals)\n\n");
  std::printf("| data, model | coefficient | fitted | truth | error |\n|---|---|---:|---:|---:|\n");
  for (const auto& r : recoveries) {
    for (std::size_t j = 0; j < r.coef.size(); ++j)
      std::printf("| %s | %s | %.6g | %.6g | %+.2f%% |\n", r.name.c_str(), r.coef[j].c_str(), r.got[j], r.want[j],
                  100 * (r.got[j] / r.want[j] - 1));
    std::printf("| %s | c (fixed; truth 0) | %.3g%% of the mean time | 0 | |\n", r.name.c_str(), 100 * r.c_share);
    std::printf("| %s | fit error | RMS rel. %.2f%% (inliers %.2f%%), %zu outliers | | |\n", r.name.c_str(),
                100 * r.rms, 100 * r.inlier_rms, r.outliers);
  }
  // Padded micro-batches: balance() under padded_cost (optimum) vs balance() by tokens, then padded.
  std::printf("\nPadded micro-batches, W2: largest count x longest over the mean tokens per part\n\n");
  std::printf("| k | balance() under padded_cost (optimal) | balance() by tokens, then padded | padded time |\n");
  std::printf("|---:|---:|---:|---:|\n");
  const auto w2 = testing::generate_w2(n);
  double tokens = 0;
  for (auto l : w2) tokens += l;
  for (std::size_t k : ks) {
    const auto t0 = std::chrono::steady_clock::now();
    const partition padded = balance(w2, k, {}, padded_cost{1.0});
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const partition by_tokens = balance(w2, k);
    double worst = 0;
    for (std::size_t r = 0; r < k; ++r) {
      std::uint32_t mx = 0;
      for (auto i : by_tokens.parts[r]) mx = std::max(mx, w2[i]);
      worst = std::max(worst, static_cast<double>(mx) * static_cast<double>(by_tokens.parts[r].size()));
    }
    const double mean = tokens / static_cast<double>(k);
    std::printf("| %zu | %.3f | %.1f | %.1f ms |\n", k, padded.makespan / mean, worst / mean, ms);
  }
  return 0;
}
