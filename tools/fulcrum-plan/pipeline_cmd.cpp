// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan pipeline: split a model's layers into contiguous pipeline stages with the smallest
// bottleneck (exact). Before: the uniform split by layer count (DeepSpeed's partition_uniform).
#include <algorithm>
#include <numeric>
#include <sstream>

#include <fulcrum/io/layers.hpp>
#include <fulcrum/pipeline/partition.hpp>
#include <fulcrum/pipeline/schedule.hpp>
#include <fulcrum/testing/workloads.hpp>

#include "commands.hpp"

namespace fplan {

fulcrum::io::layer_table load_layers(const pipeline_settings& s) {
  if (!s.layers.empty()) return fulcrum::io::read_layers(s.layers);
  const auto p = fulcrum::testing::pipeline_profile(s.profile);
  return {p.name, p.cost, p.activation_memory};
}

fulcrum::grouping stage_groups(const std::vector<std::size_t>& boundaries) {
  std::vector<std::size_t> offsets(boundaries.begin(), boundaries.end());
  std::vector<fulcrum::index_type> layers(boundaries.back());
  std::iota(layers.begin(), layers.end(), fulcrum::index_type{0});
  return fulcrum::grouping(std::move(offsets), std::move(layers));
}

int cmd_pipeline(const pipeline_settings& s, const output_options& out) {
  const auto layers = load_layers(s);
  const std::size_t n = layers.cost.size();
  fulcrum::pipeline_options opts;
  if (s.memory_cap > 0) {
    opts.layer_memory = layers.memory;
    opts.stage_memory_cap.assign(s.stages, s.memory_cap);
  }

  fulcrum::stage_partition best;
  double ms = 0;
  {
    progress bar("fulcrum-plan pipeline", out.progress);
    ms = time_ms([&] { best = fulcrum::partition_stages(layers.cost, s.stages, opts); });
  }
  const auto uniform_b = fulcrum::uniform_boundaries(n, s.stages);
  fulcrum::pipeline_options eval_opts = opts;
  eval_opts.stage_memory_cap.clear();  // the baseline is shown even where it breaks the cap
  eval_opts.layer_memory.clear();
  const auto uniform = fulcrum::evaluate_partition(layers.cost, uniform_b, eval_opts);

  const double sum = std::accumulate(layers.cost.begin(), layers.cost.end(), 0.0);
  const double heaviest = *std::max_element(layers.cost.begin(), layers.cost.end());
  const double simple_bound = std::max(sum / static_cast<double>(s.stages), heaviest);

  fulcrum::io::plan_document plan;
  plan.command = "pipeline";
  plan.algorithm = "partition_stages (exact)";
  plan.source = s.layers.empty() ? "built-in profile " + s.profile : s.layers;
  plan.items = n;
  plan.group_kind = "stage";
  plan.numbers = {{"stages", static_cast<double>(s.stages)}, {"memory_cap", static_cast<double>(s.memory_cap)},
                  {"simple_lower_bound", simple_bound}};
  plan.strings = {{"model", layers.name}};
  plan.groups = stage_groups(best.boundaries);
  plan.loads = best.stage_costs;
  plan.before = fulcrum::io::plan_stats::of("uniform by layer count", uniform.stage_costs);
  plan.after = fulcrum::io::plan_stats::of("exact partition", best.stage_costs);
  // The partition is exact, so its bottleneck is the lower bound on every split's bottleneck.
  plan.lower_bound = best.proven_optimal ? best.bottleneck : simple_bound;
  plan.objective = best.bottleneck;
  plan.gap = fulcrum::relative_gap(best.bottleneck, plan.lower_bound);
  plan.proven_optimal = best.proven_optimal;
  plan.time_ms = ms;

  fulcrum::io::load_chart chart;
  chart.title = "Cost per pipeline stage: uniform split vs exact partition";
  std::ostringstream sub;
  sub << layers.name << ": " << n << " layers, " << s.stages << " stages; bottleneck " << fmt(uniform.bottleneck) << " -> "
      << fmt(best.bottleneck);
  chart.subtitle = sub.str();
  chart.x_label = "pipeline stage";
  chart.y_label = "stage cost (compute units)";
  chart.series = {{"before: uniform by layer count", uniform.stage_costs}, {"after: exact partition", best.stage_costs}};
  chart.references = {{"sum / stages " + fmt(sum / static_cast<double>(s.stages)), sum / static_cast<double>(s.stages)}};
  chart.zoom = false;

  // One training iteration of each split under 1F1B (a stage's cost = forward + backward, split 1:2).
  fulcrum::schedule_options sched;
  sched.micro_batches = s.micro_batches;
  auto simulate = [&](const std::vector<double>& stage_costs) {
    std::vector<double> fwd(stage_costs.size()), bwd(stage_costs.size());
    for (std::size_t i = 0; i < stage_costs.size(); ++i) fwd[i] = stage_costs[i] / 3.0, bwd[i] = stage_costs[i] - fwd[i];
    return fulcrum::simulate_schedule(fwd, bwd, sched);
  };
  const auto sim_before = simulate(uniform.stage_costs), sim_after = simulate(best.stage_costs);
  plan.numbers.emplace_back("micro_batches", static_cast<double>(s.micro_batches));
  plan.numbers.emplace_back("iteration_time_before", sim_before.iteration_time);
  plan.numbers.emplace_back("iteration_time_after", sim_after.iteration_time);

  std::vector<summary_row> rows = standard_rows(plan, "stages", "stage cost", false);
  rows[0].name = "stages";
  rows.insert(rows.end() - 1, {"1F1B iteration (" + std::to_string(s.micro_batches) + " micro-batches)",
                               fmt(sim_before.iteration_time), fmt(sim_after.iteration_time)});
  rows.insert(rows.end() - 1, {"pipeline bubble", pct(sim_before.bubble_fraction, 1), pct(sim_after.bubble_fraction, 1)});
  auto stage_layers = [](const std::vector<std::size_t>& b) {
    std::ostringstream os;
    for (std::size_t i = 0; i + 1 < b.size(); ++i) os << (i ? " " : "") << b[i + 1] - b[i];
    return os.str();
  };
  std::vector<std::string> notes = {"layers per stage, before: " + stage_layers(uniform_b),
                                    "layers per stage, after:  " + stage_layers(best.boundaries),
                                    "simple bound max(sum/stages, heaviest layer) = " + fmt(simple_bound, 1) +
                                        "; the exact bottleneck is the true optimum"};
  std::ostringstream head;
  head << "fulcrum-plan pipeline: " << layers.name << " (" << n << " layers) into " << s.stages << " stages";
  return emit(head.str(), rows, plan, chart, out, notes);
}

}  // namespace fplan
