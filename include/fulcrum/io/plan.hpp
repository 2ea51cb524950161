// SPDX-License-Identifier: Apache-2.0
/// @file io/plan.hpp
/// The plan file: a versioned JSON document holding a plan (groups of item indices with their
/// loads) and its statistics before and after. Schema: docs/plan-schema.md, `schema_version` 1.
///
/// `write_plan` emits it (deterministic: same plan, same bytes); `read_plan` parses and validates
/// it: the schema version, every field's type, and that the groups partition the items
/// 0..items-1 (every item exactly once), loads one per group, choices one per item.
/// Errors throw `invalid_input` naming the source and the JSON path (`groups.items[3][7]`).
/// O(bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fulcrum/core/error.hpp"
#include "fulcrum/core/grouping.hpp"
#include "fulcrum/core/stats.hpp"
#include "fulcrum/io/detail/json.hpp"

namespace fulcrum::io {

/// The schema version `write_plan` writes and `read_plan` accepts.
inline constexpr int plan_schema_version = 1;

/// Summary of one set of group loads (a "before" or "after" column).
struct plan_stats {
  std::string label;        ///< what produced these loads, e.g. "round-robin", "lpt"
  std::size_t groups = 0;   ///< bins / ranks / stages
  double total = 0;         ///< sum of loads
  double max = 0;           ///< heaviest group
  double min = 0;           ///< lightest group
  double mean = 0;          ///< total / groups
  double imbalance = 1;     ///< max / mean
  double efficiency = 1;    ///< packing: total / (bins * capacity); otherwise mean / max
  std::vector<double> loads;  ///< per-group loads (for charts)

  /// Fills the load statistics from `l` (efficiency = mean / max).
  static plan_stats of(std::string label, std::vector<double> l) {
    plan_stats s;
    s.label = std::move(label);
    const load_stats st = summarize_loads(std::span<const double>(l));
    s.groups = st.groups;
    s.total = st.sum;
    s.max = st.max;
    s.min = st.min;
    s.mean = st.mean;
    s.imbalance = st.imbalance;
    s.efficiency = st.max > 0 ? st.mean / st.max : 1.0;
    s.loads = std::move(l);
    return s;
  }
};

/// A plan with its provenance and statistics.
struct plan_document {
  std::string command;     ///< pack, balance, pipeline, recompute, dispatch-sim
  std::string algorithm;   ///< the algorithm that produced `groups`
  std::string source;      ///< input description (file path or "default W1 ...")
  std::size_t items = 0;   ///< samples (or layers) in the input
  std::string group_kind;  ///< "bin", "rank", "stage", "micro-batch"
  std::vector<std::pair<std::string, double>> numbers;       ///< numeric parameters (capacity, ranks, ...)
  std::vector<std::pair<std::string, std::string>> strings;  ///< text parameters (cost model, ...)
  grouping groups;                   ///< item indices per group; partitions 0..items-1
  std::vector<double> loads;         ///< load per group (tokens, cost, ...)
  std::vector<std::size_t> owners;   ///< optional: rank of each group (rank-aware plans); empty otherwise
  std::vector<std::size_t> choices;  ///< optional: one choice per item (recompute option per layer)
  plan_stats before;                 ///< baseline the plan is compared with
  plan_stats after;                  ///< the plan
  double lower_bound = 0;            ///< lower bound on the objective (bins, makespan, bottleneck, time)
  double objective = 0;              ///< the plan's objective value in the bound's unit
  double gap = 0;                    ///< (objective - lower_bound) / lower_bound
  bool proven_optimal = false;
  double time_ms = 0;                ///< wall time of the algorithm call
};

namespace detail {
inline void write_stats(std::ostream& os, const plan_stats& s) {
  os << "{\"label\": ";
  write_json_string(os, s.label);
  os << ", \"groups\": " << s.groups << ", \"total\": ";
  write_json_number(os, s.total);
  os << ", \"max\": ";
  write_json_number(os, s.max);
  os << ", \"min\": ";
  write_json_number(os, s.min);
  os << ", \"mean\": ";
  write_json_number(os, s.mean);
  os << ", \"imbalance\": ";
  write_json_number(os, s.imbalance);
  os << ", \"efficiency\": ";
  write_json_number(os, s.efficiency);
  os << ",\n      \"loads\": [";
  for (std::size_t i = 0; i < s.loads.size(); ++i) {
    if (i) os << ", ";
    write_json_number(os, s.loads[i]);
  }
  os << "]}";
}
}  // namespace detail

/// Writes `plan` as JSON (schema version 1). `generator` names the writing program.
inline void write_plan(std::ostream& os, const plan_document& plan, std::string_view generator = "fulcrum") {
  using detail::write_json_number;
  using detail::write_json_string;
  os << "{\n  \"schema_version\": " << plan_schema_version << ",\n  \"generator\": ";
  write_json_string(os, generator);
  os << ",\n  \"command\": ";
  write_json_string(os, plan.command);
  os << ",\n  \"algorithm\": ";
  write_json_string(os, plan.algorithm);
  os << ",\n  \"input\": {\"source\": ";
  write_json_string(os, plan.source);
  os << ", \"items\": " << plan.items << "},\n  \"parameters\": {";
  bool first = true;
  for (const auto& [k, v] : plan.numbers) {
    os << (first ? "" : ", ");
    first = false;
    write_json_string(os, k);
    os << ": ";
    write_json_number(os, v);
  }
  for (const auto& [k, v] : plan.strings) {
    os << (first ? "" : ", ");
    first = false;
    write_json_string(os, k);
    os << ": ";
    write_json_string(os, v);
  }
  os << "},\n  \"groups\": {\"kind\": ";
  write_json_string(os, plan.group_kind);
  os << ", \"count\": " << plan.groups.size() << ",\n    \"loads\": [";
  for (std::size_t g = 0; g < plan.loads.size(); ++g) {
    if (g) os << ", ";
    write_json_number(os, plan.loads[g]);
  }
  os << "],\n";
  if (!plan.owners.empty()) {
    os << "    \"owners\": [";
    for (std::size_t g = 0; g < plan.owners.size(); ++g) os << (g ? ", " : "") << plan.owners[g];
    os << "],\n";
  }
  os << "    \"items\": [";
  for (std::size_t g = 0; g < plan.groups.size(); ++g) {
    os << (g ? ",\n      [" : "\n      [");
    const auto members = plan.groups[g];
    for (std::size_t i = 0; i < members.size(); ++i) os << (i ? "," : "") << members[i];
    os << ']';
  }
  os << "\n    ]},\n";
  if (!plan.choices.empty()) {
    os << "  \"choices\": [";
    for (std::size_t i = 0; i < plan.choices.size(); ++i) os << (i ? ", " : "") << plan.choices[i];
    os << "],\n";
  }
  os << "  \"stats\": {\n    \"before\": ";
  detail::write_stats(os, plan.before);
  os << ",\n    \"after\": ";
  detail::write_stats(os, plan.after);
  os << ",\n    \"lower_bound\": ";
  write_json_number(os, plan.lower_bound);
  os << ", \"objective\": ";
  write_json_number(os, plan.objective);
  os << ", \"gap\": ";
  write_json_number(os, plan.gap);
  os << ", \"proven_optimal\": " << (plan.proven_optimal ? "true" : "false") << ", \"time_ms\": ";
  write_json_number(os, plan.time_ms);
  os << "\n  }\n}\n";
}

/// The plan as a JSON string.
[[nodiscard]] inline std::string plan_to_json(const plan_document& plan, std::string_view generator = "fulcrum") {
  std::ostringstream os;
  write_plan(os, plan, generator);
  return os.str();
}

namespace detail {

class plan_reader {
 public:
  explicit plan_reader(std::string_view source) : source_(source) {}

  /// "source: path: reason", or "source: path = value: reason" when reason starts with "= ".
  [[noreturn]] void fail(std::string_view path, std::string_view reason) const {
    const bool value = reason.starts_with("= ");
    throw invalid_input(std::string(source_) + ": " + std::string(path) + (value ? " " : ": ") + std::string(reason));
  }

  const json_value& member(const json_value& obj, std::string_view path, std::string_view key) const {
    if (!obj.is_object()) fail(path, "is not an object");
    const json_value* v = obj.find(key);
    if (v == nullptr) fail(std::string(path) + (path.empty() ? "" : ".") + std::string(key), "missing");
    return *v;
  }
  std::string string_at(const json_value& v, std::string_view path) const {
    if (!v.is_string()) fail(path, std::string("is ") + kind_name(v.type) + ", expected a string");
    return v.text;
  }
  double number_at(const json_value& v, std::string_view path) const {
    if (!v.is_number()) fail(path, std::string("is ") + kind_name(v.type) + ", expected a number");
    double d = 0;
    const real_status st = to_real(v.text, d);
    if (st != real_status::ok) fail(path, "= " + v.text + ": " + real_problem(st));
    return d;
  }
  std::uint64_t unsigned_at(const json_value& v, std::string_view path,
                            std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) const {
    if (!v.is_number()) fail(path, std::string("is ") + kind_name(v.type) + ", expected a number");
    std::uint64_t out = 0;
    const integer_status st = to_unsigned(v.text, max, out);
    if (st != integer_status::ok) fail(path, "= " + v.text + ": " + integer_problem(st, max));
    return out;
  }
  const json_value& array_at(const json_value& v, std::string_view path) const {
    if (!v.is_array()) fail(path, std::string("is ") + kind_name(v.type) + ", expected an array");
    return v;
  }
  std::vector<double> numbers_at(const json_value& v, std::string_view path) const {
    array_at(v, path);
    std::vector<double> out;
    out.reserve(v.values.size());
    for (std::size_t i = 0; i < v.values.size(); ++i)
      out.push_back(number_at(v.values[i], std::string(path) + "[" + std::to_string(i) + "]"));
    return out;
  }
  plan_stats stats_at(const json_value& v, const std::string& path) const {
    plan_stats s;
    s.label = string_at(member(v, path, "label"), path + ".label");
    s.groups = unsigned_at(member(v, path, "groups"), path + ".groups");
    s.total = number_at(member(v, path, "total"), path + ".total");
    s.max = number_at(member(v, path, "max"), path + ".max");
    s.min = number_at(member(v, path, "min"), path + ".min");
    s.mean = number_at(member(v, path, "mean"), path + ".mean");
    s.imbalance = number_at(member(v, path, "imbalance"), path + ".imbalance");
    s.efficiency = number_at(member(v, path, "efficiency"), path + ".efficiency");
    s.loads = numbers_at(member(v, path, "loads"), path + ".loads");
    if (s.loads.size() != s.groups) fail(path + ".loads", "length differs from " + path + ".groups");
    return s;
  }

 private:
  std::string_view source_;
};

}  // namespace detail

/// Parses and validates a plan document (see file docs). `source` names the input in errors.
[[nodiscard]] inline plan_document read_plan(std::string_view text, std::string_view source = "<plan>") {
  const detail::json_value doc_value = detail::parse_json(text, std::string(source));
  const detail::plan_reader r(source);
  const auto& doc = doc_value;
  if (!doc.is_object()) r.fail("(document)", "is not a JSON object");
  const auto version = r.unsigned_at(r.member(doc, "", "schema_version"), "schema_version");
  if (version != static_cast<std::uint64_t>(plan_schema_version))
    r.fail("schema_version", "= " + std::to_string(version) + ": unsupported (this reader knows version 1)");
  plan_document p;
  p.command = r.string_at(r.member(doc, "", "command"), "command");
  p.algorithm = r.string_at(r.member(doc, "", "algorithm"), "algorithm");
  const auto& input = r.member(doc, "", "input");
  p.source = r.string_at(r.member(input, "input", "source"), "input.source");
  p.items = r.unsigned_at(r.member(input, "input", "items"), "input.items", std::numeric_limits<index_type>::max());
  const auto& params = r.member(doc, "", "parameters");
  if (!params.is_object()) r.fail("parameters", "is not an object");
  for (std::size_t i = 0; i < params.keys.size(); ++i) {
    const auto& v = params.values[i];
    if (v.is_number()) p.numbers.emplace_back(params.keys[i], r.number_at(v, "parameters." + params.keys[i]));
    else p.strings.emplace_back(params.keys[i], r.string_at(v, "parameters." + params.keys[i]));
  }
  const auto& groups = r.member(doc, "", "groups");
  p.group_kind = r.string_at(r.member(groups, "groups", "kind"), "groups.kind");
  const auto count = r.unsigned_at(r.member(groups, "groups", "count"), "groups.count");
  const auto& items = r.array_at(r.member(groups, "groups", "items"), "groups.items");
  if (items.values.size() != count) r.fail("groups.items", "length differs from groups.count");
  std::size_t total = 0;
  for (std::size_t g = 0; g < items.values.size(); ++g)
    total += r.array_at(items.values[g], "groups.items[" + std::to_string(g) + "]").values.size();
  if (total != p.items)
    r.fail("groups.items", "holds " + std::to_string(total) + " items but input.items = " + std::to_string(p.items) +
                               " (every item must appear exactly once)");
  std::vector<std::size_t> offsets{0};
  std::vector<index_type> indices;
  indices.reserve(total);
  std::vector<bool> seen(p.items, false);
  for (std::size_t g = 0; g < items.values.size(); ++g) {
    const std::string gpath = "groups.items[" + std::to_string(g) + "]";
    const auto& members = r.array_at(items.values[g], gpath);
    for (std::size_t j = 0; j < members.values.size(); ++j) {
      const std::string ipath = gpath + "[" + std::to_string(j) + "]";
      const auto i = r.unsigned_at(members.values[j], ipath, std::numeric_limits<index_type>::max());
      if (i >= p.items) r.fail(ipath, "= " + std::to_string(i) + ": is not below input.items");
      if (seen[i]) r.fail(ipath, "= " + std::to_string(i) + ": item appears twice");
      seen[i] = true;
      indices.push_back(static_cast<index_type>(i));
    }
    offsets.push_back(indices.size());
  }
  p.groups = grouping(std::move(offsets), std::move(indices));
  p.loads = r.numbers_at(r.member(groups, "groups", "loads"), "groups.loads");
  if (p.loads.size() != count) r.fail("groups.loads", "length differs from groups.count");
  if (const auto* owners = groups.find("owners")) {
    r.array_at(*owners, "groups.owners");
    if (owners->values.size() != count) r.fail("groups.owners", "length differs from groups.count");
    for (std::size_t g = 0; g < owners->values.size(); ++g)
      p.owners.push_back(r.unsigned_at(owners->values[g], "groups.owners[" + std::to_string(g) + "]"));
  }
  if (const auto* choices = doc.find("choices")) {
    r.array_at(*choices, "choices");
    if (choices->values.size() != p.items) r.fail("choices", "length differs from input.items");
    for (std::size_t i = 0; i < choices->values.size(); ++i)
      p.choices.push_back(r.unsigned_at(choices->values[i], "choices[" + std::to_string(i) + "]"));
  }
  const auto& stats = r.member(doc, "", "stats");
  p.before = r.stats_at(r.member(stats, "stats", "before"), "stats.before");
  p.after = r.stats_at(r.member(stats, "stats", "after"), "stats.after");
  p.lower_bound = r.number_at(r.member(stats, "stats", "lower_bound"), "stats.lower_bound");
  p.objective = r.number_at(r.member(stats, "stats", "objective"), "stats.objective");
  p.gap = r.number_at(r.member(stats, "stats", "gap"), "stats.gap");
  const auto& opt = r.member(stats, "stats", "proven_optimal");
  if (opt.type != detail::json_value::kind::boolean) r.fail("stats.proven_optimal", "is not a boolean");
  p.proven_optimal = opt.boolean;
  p.time_ms = r.number_at(r.member(stats, "stats", "time_ms"), "stats.time_ms");
  return p;
}

}  // namespace fulcrum::io
