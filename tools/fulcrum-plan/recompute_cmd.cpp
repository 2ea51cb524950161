// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan recompute: choose, per layer, to keep its activations, recompute selectively or
// recompute fully, so every pipeline stage fits its activation memory at the least added time.
// Stages come from the exact partition (as `pipeline`); a stage's budget per micro-batch is its
// activation memory divided by the micro-batches 1F1B keeps in flight there (recompute/budget.hpp).
// Before: full recompute of every layer (the safe default many trainers use).
//
// Options per layer of cost c and activation memory m (the CLI's model; documented in docs/cli.md):
//   keep:      memory m,           time 0
//   selective: memory ceil(0.3 m), time 0.05 c   (recompute attention internals only)
//   full:      memory ceil(m / 16), time c / 3   (keep the layer input, redo the forward pass)
#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include <fulcrum/io/layers.hpp>
#include <fulcrum/pipeline/partition.hpp>
#include <fulcrum/recompute/budget.hpp>
#include <fulcrum/recompute/select.hpp>

#include "commands.hpp"

namespace fplan {

fulcrum::io::layer_table load_layers(const pipeline_settings& s);
fulcrum::grouping stage_groups(const std::vector<std::size_t>& boundaries);

int cmd_recompute(const recompute_settings& s, const output_options& out) {
  const auto layers = load_layers(s.pipeline);
  const std::size_t n = layers.cost.size(), p = s.pipeline.stages;
  const auto part = fulcrum::partition_stages(layers.cost, p);

  std::vector<std::vector<fulcrum::recompute_option>> options(n);
  for (std::size_t l = 0; l < n; ++l) {
    const auto m = layers.memory[l];
    const double c = layers.cost[l];
    options[l] = {{m, 0.0},
                  {static_cast<std::uint64_t>(std::ceil(0.3 * static_cast<double>(m))), 0.05 * c},
                  {(m + 15) / 16, c / 3.0}};
  }
  // Peak activation memory of each stage without recompute: in-flight micro-batches x sum of m.
  std::vector<std::uint64_t> keep_all(p, 0);
  std::vector<std::size_t> in_flight(p);
  std::uint64_t device = s.device_memory;
  for (std::size_t st = 0; st < p; ++st) {
    for (std::size_t l = part.boundaries[st]; l < part.boundaries[st + 1]; ++l) keep_all[st] += layers.memory[l];
    in_flight[st] = fulcrum::in_flight_micro_batches(st, p, s.micro_batches);
    if (s.device_memory == 0) device = std::max<std::uint64_t>(device, keep_all[st] * in_flight[st] * 6 / 10);
  }

  std::vector<std::size_t> choices(n, 0);
  std::vector<double> before_time(p, 0.0), after_time(p, 0.0);
  std::vector<std::uint64_t> after_mem(p, 0), budget(p, 0);
  double added = 0, added_full = 0, ms = 0;
  bool optimal = true;
  double bound = 0;
  {
    progress bar("fulcrum-plan recompute", out.progress, p);
    for (std::size_t st = 0; st < p; ++st) {
      const std::size_t b = part.boundaries[st], e = part.boundaries[st + 1];
      budget[st] = fulcrum::stage_activation_budget(device, 0, st, p, s.micro_batches);
      std::vector<std::vector<fulcrum::recompute_option>> stage_opts(options.begin() + static_cast<std::ptrdiff_t>(b),
                                                                    options.begin() + static_cast<std::ptrdiff_t>(e));
      fulcrum::recompute_plan plan;
      ms += time_ms([&] { plan = fulcrum::select_recompute(stage_opts, budget[st]); });
      for (std::size_t l = b; l < e; ++l) {
        choices[l] = plan.choice[l - b];
        before_time[st] += layers.cost[l] + options[l][2].time;
        added_full += options[l][2].time;
        after_time[st] += layers.cost[l] + options[l][choices[l]].time;
      }
      after_mem[st] = plan.memory;
      added += plan.time;
      bound += plan.lower_bound;
      optimal = optimal && plan.proven_optimal;
      bar.step(st + 1);
    }
  }

  fulcrum::io::plan_document plan;
  plan.command = "recompute";
  plan.algorithm = "select_recompute (exact)";
  plan.source = s.pipeline.layers.empty() ? "built-in profile " + s.pipeline.profile : s.pipeline.layers;
  plan.items = n;
  plan.group_kind = "stage";
  plan.numbers = {{"stages", static_cast<double>(p)}, {"micro_batches", static_cast<double>(s.micro_batches)},
                  {"device_activation_memory", static_cast<double>(device)}, {"added_time", added},
                  {"added_time_full_recompute", added_full}};
  plan.strings = {{"model", layers.name}, {"choices", "0 keep, 1 selective, 2 full"}};
  plan.groups = stage_groups(part.boundaries);
  plan.loads = after_time;
  plan.choices = choices;
  plan.before = fulcrum::io::plan_stats::of("full recompute everywhere", before_time);
  plan.after = fulcrum::io::plan_stats::of("selected recompute", after_time);
  plan.lower_bound = bound;
  plan.objective = added;
  plan.gap = fulcrum::relative_gap(added, bound);
  plan.proven_optimal = optimal;
  plan.time_ms = ms;

  fulcrum::io::load_chart chart;
  chart.title = "Time per stage with recompute: full recompute vs selected";
  std::ostringstream sub;
  sub << layers.name << ", " << p << " stages, " << s.micro_batches << " micro-batches (1F1B), activation memory "
      << device << " per stage; added time " << fmt(added_full) << " -> " << fmt(added);
  chart.subtitle = sub.str();
  chart.x_label = "pipeline stage";
  chart.y_label = "compute + recompute time";
  chart.series = {{"before: full recompute", before_time}, {"after: selected recompute", after_time}};
  chart.zoom = false;

  std::size_t counts[3] = {0, 0, 0};
  for (auto c : choices) ++counts[c];
  std::vector<summary_row> rows = standard_rows(plan, "stages", "stage time", false);
  rows.erase(rows.begin() + 6, rows.begin() + 8);  // bound/gap rows refer to added time below
  rows.insert(rows.end() - 1, {"added recompute time", fmt(added_full), fmt(added)});
  rows.insert(rows.end() - 1, {"lower bound / gap (added time)", "", fmt(bound, 1) + " / " + pct(plan.gap, 3) + (optimal ? " (optimal)" : "")});
  std::vector<std::string> notes;
  std::ostringstream layers_line;
  layers_line << "layers: " << counts[0] << " keep, " << counts[1] << " selective, " << counts[2] << " full recompute";
  notes.push_back(layers_line.str());
  for (std::size_t st = 0; st < p; ++st) {
    std::ostringstream os;
    os << "stage " << st << ": kept " << after_mem[st] << " of budget " << budget[st] << " per micro-batch ("
       << in_flight[st] << " in flight; keeping all would need " << keep_all[st] << ")";
    notes.push_back(os.str());
  }
  std::ostringstream head;
  head << "fulcrum-plan recompute: " << layers.name << " (" << n << " layers) on " << p << " stages";
  return emit(head.str(), rows, plan, chart, out, notes);
}

}  // namespace fplan
