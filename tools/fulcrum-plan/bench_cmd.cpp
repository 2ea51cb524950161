// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan bench: runs the chosen algorithms on the chosen data and prints a comparison table
// (groups, objective, lower bound, gap, imbalance, wall time: best of --repeat runs). --output
// writes the plan of the best algorithm; --svg charts every algorithm's loads (sorted).
#include <algorithm>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>

#include "commands.hpp"

namespace fplan {

int cmd_bench(const bench_settings& s, const input_options& in, const cost_options& cost, const output_options& out) {
  const bool packing = s.what == "pack";
  std::vector<std::string> algorithms = s.algorithms;
  if (algorithms.empty()) algorithms = packing ? pack_algorithms() : balance_algorithms();
  const dataset data = load_dataset(in);
  const auto sizes = tokens_of(data);
  const auto costs = costs_of(data, cost);

  struct row {
    std::string name, ran;
    std::size_t groups = 0;
    double objective = 0, bound = 0, gap = 0, imbalance = 1, ms = std::numeric_limits<double>::infinity();
    bool optimal = false;
    fulcrum::grouping plan;
    std::vector<double> loads;
  };
  std::vector<row> rows;
  {
    progress bar("fulcrum-plan bench", out.progress, algorithms.size() * s.repeat);
    std::size_t done = 0;
    for (const auto& a : algorithms) {
      row r;
      r.name = a;
      for (std::size_t rep = 0; rep < s.repeat; ++rep) {
        if (packing) {
          pack_settings ps;
          ps.capacity = s.capacity;
          ps.algorithm = a;
          auto run = run_pack(sizes, ps);
          r.ms = std::min(r.ms, run.time_ms);
          const auto& p = run.result.plan;
          r.ran = run.result.algorithm;
          r.groups = p.bin_count();
          r.objective = static_cast<double>(p.bin_count());
          r.bound = static_cast<double>(p.lower_bound);
          r.optimal = p.proven_optimal;
          r.plan = p.bins;
          r.loads.assign(p.loads.begin(), p.loads.end());
        } else {
          balance_settings bs;
          bs.ranks = s.ranks;
          bs.algorithm = a;
          bs.time_limit_ms = s.time_limit_ms;
          auto run = run_balance(costs, s.ranks, bs);
          r.ms = std::min(r.ms, run.time_ms);
          const auto& p = run.result.plan;
          r.ran = run.result.algorithm;
          r.groups = p.parts.size();
          r.objective = p.makespan;
          r.bound = p.lower_bound;
          r.optimal = p.proven_optimal;
          r.plan = p.parts;
          r.loads = p.loads;
        }
        bar.step(++done);
      }
      r.gap = fulcrum::relative_gap(r.objective, r.bound);
      r.imbalance = fulcrum::summarize_loads(std::span<const double>(r.loads)).imbalance;
      rows.push_back(std::move(r));
    }
  }

  if (!out.quiet) {
    std::cout << "fulcrum-plan bench " << s.what << ": " << sizes.size() << " samples from " << data.source << ", "
              << (packing ? "capacity " + std::to_string(s.capacity) + " tokens" : std::to_string(s.ranks) + " ranks, cost " + describe_cost(cost))
              << ", best of " << s.repeat << " run(s)\n\n";
    std::cout << "  " << std::left << std::setw(22) << "algorithm" << std::right << std::setw(9) << (packing ? "bins" : "ranks")
              << std::setw(16) << (packing ? "bins" : "makespan") << std::setw(16) << "lower bound" << std::setw(12) << "gap"
              << std::setw(12) << "max/mean" << std::setw(12) << "time" << "\n";
    for (const auto& r : rows)
      std::cout << "  " << std::left << std::setw(22) << r.name << std::right << std::setw(9) << r.groups << std::setw(16)
                << fmt(r.objective, packing ? 0 : 1) << std::setw(16) << fmt(r.bound, packing ? 0 : 1) << std::setw(12)
                << pct(r.gap, 4) << std::setw(12) << fmt(r.imbalance, 5) << std::setw(12) << fmt_ms(r.ms)
                << (r.optimal ? "  optimal" : "") << "\n";
  }

  // Best: smallest objective, then fastest.
  const auto best = std::min_element(rows.begin(), rows.end(), [](const row& a, const row& b) {
    return a.objective != b.objective ? a.objective < b.objective : a.ms < b.ms;
  });
  const auto worst = std::max_element(rows.begin(), rows.end(), [](const row& a, const row& b) { return a.objective < b.objective; });
  fulcrum::io::plan_document plan;
  plan.command = "bench";
  plan.algorithm = best->ran;
  plan.source = data.source;
  plan.items = sizes.size();
  plan.group_kind = packing ? "bin" : "rank";
  plan.numbers = {{packing ? "capacity" : "ranks", packing ? static_cast<double>(s.capacity) : static_cast<double>(s.ranks)}};
  plan.strings = {{"what", s.what}, {"cost", packing ? "tokens" : describe_cost(cost)}};
  for (const auto& r : rows) plan.numbers.emplace_back("time_ms." + r.name, r.ms);
  plan.groups = best->plan;
  plan.loads = best->loads;
  plan.before = fulcrum::io::plan_stats::of(worst->name + " (worst)", worst->loads);
  plan.after = fulcrum::io::plan_stats::of(best->name + " (best)", best->loads);
  plan.lower_bound = best->bound;
  plan.objective = best->objective;
  plan.gap = best->gap;
  plan.proven_optimal = best->optimal;
  plan.time_ms = best->ms;

  fulcrum::io::load_chart chart;
  chart.title = packing ? "Tokens per bin, sorted, by packing algorithm" : "Load per rank, sorted, by balancing algorithm";
  chart.subtitle = std::to_string(sizes.size()) + " samples from " + data.source;
  chart.x_label = packing ? "bin (sorted fullest first)" : "rank (sorted heaviest first)";
  chart.y_label = packing ? "tokens" : "load (cost units)";
  for (const auto& r : rows) {
    auto v = r.loads;
    std::sort(v.begin(), v.end(), std::greater<>());
    chart.series.push_back({r.name, std::move(v)});
  }
  chart.references = {{(packing ? "capacity " : "lower bound ") + fmt(packing ? static_cast<double>(s.capacity) : best->bound),
                       packing ? static_cast<double>(s.capacity) : best->bound}};
  chart.bar_limit = 0;  // lines: one per algorithm
  chart.zoom = !packing;
  output_options quiet = out;
  quiet.quiet = true;
  emit("", {}, plan, chart, quiet);
  if (!out.quiet) {
    if (!out.output.empty()) std::cout << "\nwrote plan of " << best->name << ": " << out.output << '\n';
    if (!out.svg.empty()) std::cout << "wrote chart: " << out.svg << '\n';
  }
  return exit_ok;
}

}  // namespace fplan
