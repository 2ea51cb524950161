// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan balance: spread samples over ranks (or micro-batches) so the heaviest is as light
// as possible. Before: round-robin (sample i -> rank i % k), what a plain sampler does.
#include <algorithm>
#include <sstream>
#include <string>

#include <fulcrum/balance/lpt.hpp>

#include "commands.hpp"

namespace fplan {

namespace {
std::vector<double> group_loads(const fulcrum::grouping& g, const std::vector<double>& costs) {
  std::vector<double> loads(g.size(), 0.0);
  for (std::size_t p = 0; p < g.size(); ++p)
    for (auto i : g[p]) loads[p] += costs[i];
  return loads;
}
}  // namespace

int cmd_balance(const balance_settings& s, const input_options& in, const cost_options& cost, const output_options& out) {
  if (s.ranks * s.micro_batches > limits::max_parts)  // each <= 65536: no overflow
    throw fulcrum::invalid_input("--ranks x --micro-batches = " + std::to_string(s.ranks) + " x " +
                                 std::to_string(s.micro_batches) + ": more than " + std::to_string(limits::max_parts) +
                                 " parts; --ranks x --micro-batches must be 1.." + std::to_string(limits::max_parts));
  const dataset data = load_dataset(in);
  const auto costs = costs_of(data, cost);
  const std::size_t k = s.parts();
  const std::size_t n = costs.size();

  std::vector<fulcrum::index_type> rr(n);
  for (std::size_t i = 0; i < n; ++i) rr[i] = static_cast<fulcrum::index_type>(i % k);
  const auto before_groups = fulcrum::grouping::from_assignment(rr, k);

  balance_run run;
  {
    progress bar("fulcrum-plan balance", out.progress);
    run = run_balance(costs, k, s);
  }
  const auto& p = run.result.plan;

  fulcrum::io::plan_document plan;
  plan.command = "balance";
  plan.algorithm = run.result.algorithm;
  plan.source = data.source;
  plan.items = n;
  plan.group_kind = s.micro_batches > 1 ? "micro-batch" : "rank";
  plan.numbers = {{"ranks", static_cast<double>(s.ranks)}, {"micro_batches", static_cast<double>(s.micro_batches)},
                  {"equal_counts", s.equal_counts ? 1.0 : 0.0}};
  plan.strings = {{"cost", describe_cost(cost)}, {"requested_algorithm", s.algorithm}};
  plan.groups = p.parts;
  plan.loads = p.loads;
  if (s.micro_batches > 1) {
    plan.owners.resize(k);
    for (std::size_t g = 0; g < k; ++g) plan.owners[g] = g / s.micro_batches;
  }
  plan.before = fulcrum::io::plan_stats::of("round-robin", group_loads(before_groups, costs));
  plan.after = fulcrum::io::plan_stats::of(run.result.algorithm, p.loads);
  plan.lower_bound = p.lower_bound;
  plan.objective = p.makespan;
  plan.gap = p.gap();
  plan.proven_optimal = p.proven_optimal;
  plan.time_ms = run.time_ms;

  const std::string word = s.micro_batches > 1 ? "micro-batches" : "ranks";
  fulcrum::io::load_chart chart;
  chart.title = "Load per " + std::string(s.micro_batches > 1 ? "micro-batch" : "rank") + ": round-robin vs " +
                run.result.algorithm;
  std::ostringstream sub;
  sub << n << " samples from " << data.source << ", " << k << ' ' << word << ", cost " << describe_cost(cost);
  chart.subtitle = sub.str();
  chart.x_label = s.micro_batches > 1 ? "micro-batch (rank-major)" : "rank";
  chart.y_label = "load (cost units)";
  chart.series = {{"before: round-robin", plan.before.loads}, {"after: " + run.result.algorithm, plan.after.loads}};
  chart.references = {{"lower bound " + fmt(p.lower_bound), p.lower_bound}};

  std::ostringstream head;
  head << "fulcrum-plan balance: " << n << " samples from " << data.source << " onto " << k << ' ' << word
       << ", cost " << describe_cost(cost);
  return emit(head.str(), standard_rows(plan, word, "load", false), plan, chart, out);
}

}  // namespace fplan
