// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan pack: pack samples into sequences of at most --capacity tokens, using as few
// sequences (bins) as possible. Before: next fit in input order, i.e. concatenating samples and
// starting a new sequence whenever the next one would not fit (what a plain packer does).
#include <algorithm>
#include <functional>
#include <sstream>


#include "commands.hpp"

namespace fplan {

int cmd_pack(const pack_settings& s, const input_options& in, const output_options& out) {
  const dataset data = load_dataset(in);
  const auto sizes = tokens_of(data);
  std::size_t oversized = 0;
  const std::uint64_t longest = sizes.empty() ? 0 : *std::max_element(sizes.begin(), sizes.end());
  for (auto v : sizes) oversized += v > s.capacity ? 1 : 0;

  pack_run run;
  {
    progress bar("fulcrum-plan pack", out.progress);
    run = run_pack(sizes, s);
  }
  pack_settings baseline = s;
  baseline.algorithm = "next_fit";
  const fulcrum::packing before = solve_pack(sizes, baseline).plan;
  const auto& p = run.result.plan;

  auto as_double = [](const std::vector<std::uint64_t>& v) { return std::vector<double>(v.begin(), v.end()); };
  const double cap = static_cast<double>(s.capacity);
  std::uint64_t total = 0;  // tokens actually packed (after truncation)
  for (auto v : sizes) total += s.oversize == "truncate" ? std::min(v, s.capacity) : v;

  fulcrum::io::plan_document plan;
  plan.command = "pack";
  plan.algorithm = run.result.algorithm;
  plan.source = data.source;
  plan.items = sizes.size();
  plan.group_kind = "bin";
  plan.numbers = {{"capacity", cap}, {"oversized", static_cast<double>(oversized)}};
  plan.strings = {{"oversize", s.oversize}, {"requested_algorithm", s.algorithm}, {"size", "tokens"}};
  plan.groups = p.bins;
  plan.loads = as_double(p.loads);
  plan.before = fulcrum::io::plan_stats::of("next fit (input order)", as_double(before.loads));
  plan.before.efficiency = fulcrum::packing_efficiency(total, before.bin_count(), s.capacity);
  plan.after = fulcrum::io::plan_stats::of(run.result.algorithm, as_double(p.loads));
  plan.after.efficiency = fulcrum::packing_efficiency(total, p.bin_count(), s.capacity);
  plan.lower_bound = static_cast<double>(p.lower_bound);
  plan.objective = static_cast<double>(p.bin_count());
  plan.gap = fulcrum::relative_gap(plan.objective, plan.lower_bound);
  plan.proven_optimal = p.proven_optimal;
  plan.time_ms = run.time_ms;

  fulcrum::io::load_chart chart;
  chart.title = "Tokens per packed sequence: next fit vs " + run.result.algorithm;
  std::ostringstream sub;
  sub << sizes.size() << " samples from " << data.source << ", capacity " << s.capacity << " tokens; "
      << before.bin_count() << " vs " << p.bin_count() << " sequences (lower bound " << p.lower_bound << ')';
  chart.subtitle = sub.str();
  chart.x_label = "sequence (bin), sorted fullest first";
  chart.y_label = "tokens in the sequence";
  auto sorted_desc = [](std::vector<double> v) {
    std::sort(v.begin(), v.end(), std::greater<>());
    return v;
  };
  chart.series = {{"before: next fit (input order)", sorted_desc(plan.before.loads)},
                  {"after: " + run.result.algorithm, sorted_desc(plan.after.loads)}};
  chart.references = {{"capacity " + std::to_string(s.capacity), cap}};
  chart.zoom = false;

  std::vector<summary_row> rows;
  rows.push_back({"sequences (bins)", std::to_string(before.bin_count()), std::to_string(p.bin_count())});
  rows.push_back({"lower bound (L2)", std::to_string(p.lower_bound), std::to_string(p.lower_bound)});
  rows.push_back({"gap to bound", pct(fulcrum::relative_gap(static_cast<double>(before.bin_count()), plan.lower_bound), 3),
                  pct(plan.gap, 3) + (p.proven_optimal ? " (optimal)" : "")});
  rows.push_back({"efficiency (tokens/capacity)", pct(plan.before.efficiency), pct(plan.after.efficiency)});
  auto padding = [&](const fulcrum::packing& q) {  // empty room of the bins (own bins over capacity have none)
    double pad = 0;
    for (auto l : q.loads) pad += l < s.capacity ? static_cast<double>(s.capacity - l) : 0.0;
    return pad;
  };
  rows.push_back({"padding tokens", fmt(padding(before)), fmt(padding(p))});
  rows.push_back({"fullest / emptiest bin", fmt(plan.before.max) + " / " + fmt(plan.before.min),
                  fmt(plan.after.max) + " / " + fmt(plan.after.min)});
  rows.push_back({"time", "", fmt_ms(run.time_ms)});
  std::vector<std::string> notes;
  if (oversized > 0 && s.oversize == "truncate")
    notes.push_back(std::to_string(oversized) + " samples longer than the capacity were truncated to " +
                    std::to_string(s.capacity) + " tokens (longest: " + std::to_string(longest) + ")");
  if (oversized > 0 && s.oversize == "own_bin")
    notes.push_back(std::to_string(oversized) + " samples longer than the capacity got a sequence of their own (longest: " +
                    std::to_string(longest) + ")");

  std::ostringstream head;
  head << "fulcrum-plan pack: " << sizes.size() << " samples from " << data.source << ", " << total
       << " tokens, into sequences of " << s.capacity << " tokens";
  return emit(head.str(), rows, plan, chart, out, notes);
}

}  // namespace fplan
