// SPDX-License-Identifier: Apache-2.0
#include "common.hpp"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <fulcrum/core/flops_model.hpp>
#include <fulcrum/io/dataset.hpp>
#include <fulcrum/io/detail/number.hpp>
#include <fulcrum/io/file.hpp>
#include <fulcrum/io/model_config.hpp>
#include <fulcrum/testing/workloads.hpp>
#include <fulcrum/version.hpp>

namespace fplan {

// ---- option values ---------------------------------------------------------------------------

std::string range_text(std::uint64_t lo, std::uint64_t hi) { return std::to_string(lo) + ".." + std::to_string(hi); }

namespace {
std::string plain(double v) {
  char buf[400];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}
}  // namespace

std::string range_text(double lo, double hi) { return plain(lo) + ".." + plain(hi); }

namespace {
[[noreturn]] void bad_value(const std::string& option, const std::string& text, const std::string& problem,
                            const std::string& range) {
  throw fulcrum::invalid_input(option + " = " + (text.empty() ? "\"\"" : text) + ": " + problem + "; " + option +
                               " must be " + range);
}
}  // namespace

std::uint64_t parse_count(const std::string& option, const std::string& text, std::uint64_t lo, std::uint64_t hi) {
  namespace d = fulcrum::io::detail;
  std::uint64_t v = 0;
  const auto st = d::to_unsigned(text, hi, v);
  if (st == d::integer_status::not_number) bad_value(option, text, "is not a number", range_text(lo, hi));
  if (st != d::integer_status::ok) bad_value(option, text, d::integer_problem(st, hi), range_text(lo, hi));
  if (v < lo) bad_value(option, text, std::string("is below ").append(std::to_string(lo)), range_text(lo, hi));
  return v;
}

double parse_real(const std::string& option, const std::string& text, double lo, double hi) {
  namespace d = fulcrum::io::detail;
  double v = 0;
  const auto st = d::to_real(text, v);
  if (st != d::real_status::ok) bad_value(option, text, d::real_problem(st), range_text(lo, hi));
  if (v < lo) bad_value(option, text, lo == 0 ? std::string("is negative") : std::string("is below ").append(plain(lo)), range_text(lo, hi));
  if (v > hi) bad_value(option, text, std::string("is above ").append(plain(hi)), range_text(lo, hi));
  return v;
}

void check_outputs(const output_options& out) {
  namespace fs = std::filesystem;
  auto check = [](const char* option, const std::string& path) {
    if (path.empty()) return;
    const fs::path p(path);
    std::error_code ec;
    const auto where = std::string(option) + " = " + path + ": ";
    if (p.filename().empty() || fs::is_directory(fs::status(p, ec)))
      throw fulcrum::invalid_input(where + "is a directory, expected a file name");
    const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    const auto st = fs::status(dir, ec);
    if (!fs::exists(st)) throw fulcrum::invalid_input(where + "directory " + dir.string() + " does not exist");
    if (!fs::is_directory(st)) throw fulcrum::invalid_input(where + dir.string() + " is not a directory");
  };
  check("--output", out.output);
  check("--svg", out.svg);
  if (!out.output.empty() && !out.svg.empty()) {
    std::error_code ec;
    const bool same = fs::weakly_canonical(out.output, ec) == fs::weakly_canonical(out.svg, ec) || out.output == out.svg;
    if (same) throw fulcrum::invalid_input("--output and --svg name the same file: " + out.output);
  }
}

dataset load_dataset(const input_options& in) {
  dataset d;
  if (in.input.empty()) {
    d.samples = fulcrum::testing::generate_w1(in.samples, in.seed);
    std::ostringstream os;
    os << "default W1 (LLaVA-like, seed " << in.seed << ")";
    d.source = os.str();
    return d;
  }
  fulcrum::io::dataset_fields fields;
  fields.text = in.text_field;
  fields.images = in.images_field;
  fields.tokens = in.tokens_field;
  fulcrum::io::dataset_format format = fulcrum::io::dataset_format::automatic;
  if (in.format == "jsonl") format = fulcrum::io::dataset_format::jsonl;
  if (in.format == "csv") format = fulcrum::io::dataset_format::csv;
  d.samples = fulcrum::io::read_dataset(in.input, format, fields);
  if (d.samples.empty()) throw fulcrum::invalid_input(in.input + ": no samples");
  d.source = in.input;
  return d;
}

std::vector<std::uint64_t> tokens_of(const dataset& d) {
  std::vector<std::uint64_t> t(d.samples.size());
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = d.samples[i].tokens();
  return t;
}

std::vector<double> costs_of(const dataset& d, const cost_options& c) {
  if (c.model == "tokens") return fulcrum::evaluate_costs(d.samples, fulcrum::identity_cost{}, fulcrum::tokens_of{}, "cost");
  if (c.model == "linear")
    return fulcrum::evaluate_costs(d.samples, fulcrum::linear_cost{c.a, c.b}, fulcrum::tokens_of{}, "cost");
  if (c.model == "flops") {  // training FLOPs of the model in --model-config (docs/cost_models.md)
    if (c.model_config.empty())
      throw fulcrum::invalid_input("--cost flops: needs --model-config FILE (a Hugging Face config.json)");
    const auto config = fulcrum::io::read_model_config(c.model_config);
    const fulcrum::flops_model llm(config.llm);
    if (config.vision)
      return fulcrum::evaluate_costs(d.samples, fulcrum::multimodal_flops_model(llm, *config.vision), std::identity{},
                                     "cost");
    return fulcrum::evaluate_costs(d.samples, llm, fulcrum::tokens_of{}, "cost");
  }
  return fulcrum::evaluate_costs(d.samples, fulcrum::attention_cost{c.a, c.b, c.c}, fulcrum::tokens_of{}, "cost");
}

std::string describe_cost(const cost_options& c) {
  std::ostringstream os;
  auto coef = [&](double v, const char* term, bool first) {
    if (v == 0) return;
    if (!first) os << " + ";
    if (v != 1 || *term == '\0') {
      if (v > 0 && v < 1 && std::fabs(1 / v - std::round(1 / v)) < 1e-9 && *term != '\0')
        os << term << "/" << std::llround(1 / v);
      else
        os << v << (*term ? "*" : "") << term;
    } else {
      os << term;
    }
  };
  if (c.model == "tokens") return "L (tokens)";
  if (c.model == "flops") return "training FLOPs of " + c.model_config;
  if (c.model == "linear") {
    coef(c.a, "L", true);
    coef(c.b, "", c.a == 0);
    return os.str();
  }
  coef(c.a, "L", true);
  coef(c.b, "L^2", c.a == 0);
  coef(c.c, "", c.a == 0 && c.b == 0);
  return os.str();
}

// ---- progress ------------------------------------------------------------------------------

progress::progress(std::string label, const std::string& mode, std::size_t total)
    : label_(std::move(label)), total_(total), start_(std::chrono::steady_clock::now()) {
  enabled_ = mode == "always" || (mode == "auto" && ::isatty(STDERR_FILENO) != 0);
  if (enabled_) thread_ = std::thread([this] { run(); });
}

progress::~progress() { finish(); }

void progress::step(std::size_t done) { done_.store(done, std::memory_order_relaxed); }

void progress::finish() {
  {
    std::lock_guard lock(m_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (drew_) {
    // Final state: a full bar and the total time.
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const std::string bar(30, '#');
    if (total_ > 0)
      std::fprintf(stderr, "\r%s [%s] %zu/%zu %.1fs\n", label_.c_str(), bar.c_str(), total_, total_, secs);
    else
      std::fprintf(stderr, "\r%s [%s] done %.1fs\n", label_.c_str(), bar.c_str(), secs);
  }
}

void progress::run() {
  constexpr int width = 30;
  std::unique_lock lock(m_);
  int tick = 0;
  while (!cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; })) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (secs < 1.0) continue;
    std::string bar(width, ' ');
    std::ostringstream tail;
    if (total_ > 0) {
      const std::size_t done = std::min(done_.load(std::memory_order_relaxed), total_);
      const auto filled = static_cast<int>(static_cast<double>(width) * static_cast<double>(done) / static_cast<double>(total_));
      for (int i = 0; i < filled; ++i) bar[static_cast<std::size_t>(i)] = '#';
      tail << ' ' << done << '/' << total_;
    } else {
      // Indeterminate: a block bouncing across the bar.
      const int pos = tick % (2 * (width - 4));
      const int at = pos < width - 4 ? pos : 2 * (width - 4) - pos;
      for (int i = 0; i < 4; ++i) bar[static_cast<std::size_t>(at + i)] = '#';
    }
    ++tick;
    std::fprintf(stderr, "\r%s [%s]%s %.1fs ", label_.c_str(), bar.c_str(), tail.str().c_str(), secs);
    std::fflush(stderr);
    drew_ = true;
  }
}

// ---- reporting -----------------------------------------------------------------------------

std::string fmt(double v, int precision) {
  std::ostringstream os;
  if (!std::isfinite(v)) return "-";
  os.setf(std::ios::fixed);
  os.precision(precision);
  os << v;
  return os.str();
}

std::string fmt_ms(double ms) { return ms < 1 ? fmt(ms, 3) + " ms" : ms < 100 ? fmt(ms, 1) + " ms" : fmt(ms, 0) + " ms"; }

std::string pct(double fraction, int precision) {
  const double p = 100.0 * fraction;
  // Tiny non-zero values keep two significant digits instead of rounding to 0.000%.
  if (p != 0 && std::fabs(p) < std::pow(10.0, -precision)) {
    std::ostringstream os;
    os.precision(2);
    os << p << '%';
    return os.str();
  }
  return fmt(p, precision) + "%";
}

std::vector<summary_row> standard_rows(const fulcrum::io::plan_document& plan, const std::string& group_word,
                                       const std::string& load_word, bool packing) {
  const auto& b = plan.before;
  const auto& a = plan.after;
  std::vector<summary_row> rows;
  rows.push_back({group_word, fmt(static_cast<double>(b.groups)), fmt(static_cast<double>(a.groups))});
  rows.push_back({"max " + load_word, fmt(b.max), fmt(a.max)});
  rows.push_back({"mean " + load_word, fmt(b.mean, 1), fmt(a.mean, 1)});
  rows.push_back({"min " + load_word, fmt(b.min), fmt(a.min)});
  rows.push_back({"imbalance (max/mean)", fmt(b.imbalance, 4), fmt(a.imbalance, 4)});
  rows.push_back({packing ? "efficiency (tokens/capacity)" : "efficiency (mean/max)", pct(b.efficiency), pct(a.efficiency)});
  const double before_objective = packing ? static_cast<double>(b.groups) : b.max;
  rows.push_back({"lower bound", fmt(plan.lower_bound, packing ? 0 : 1), fmt(plan.lower_bound, packing ? 0 : 1)});
  rows.push_back({"gap to bound", pct(fulcrum::relative_gap(before_objective, plan.lower_bound), 3),
                  pct(plan.gap, 3) + (plan.proven_optimal ? " (optimal)" : "")});
  rows.push_back({"time", "", fmt_ms(plan.time_ms)});
  return rows;
}

int emit(const std::string& headline, const std::vector<summary_row>& rows, const fulcrum::io::plan_document& plan,
         const fulcrum::io::load_chart& chart, const output_options& out, const std::vector<std::string>& notes) {
  if (!out.quiet) {
    std::size_t w0 = 0, w1 = 0;
    const std::string bh = "before: " + plan.before.label, ah = "after: " + plan.after.label;
    w1 = bh.size();
    for (const auto& r : rows) w0 = std::max(w0, r.name.size()), w1 = std::max(w1, r.before.size());
    std::cout << headline << "\n\n";
    std::cout << "  " << std::left << std::setw(static_cast<int>(w0)) << "" << "  " << std::setw(static_cast<int>(w1)) << bh
              << "  " << ah << '\n';
    for (const auto& r : rows)
      std::cout << "  " << std::left << std::setw(static_cast<int>(w0)) << r.name << "  " << std::setw(static_cast<int>(w1))
                << r.before << "  " << r.after << '\n';
    if (!notes.empty()) std::cout << '\n';
    for (const auto& n : notes) std::cout << "  " << n << '\n';
  }
  std::ostringstream generator;
  generator << "fulcrum-plan " << FULCRUM_VERSION_MAJOR << '.' << FULCRUM_VERSION_MINOR << '.' << FULCRUM_VERSION_PATCH;
  // Render both files, write them next to their targets, then move both into place: both or
  // neither, never half-written (fulcrum::io::output_set).
  fulcrum::io::output_set files;
  if (!out.output.empty()) files.add(out.output, fulcrum::io::plan_to_json(plan, generator.str()));
  if (!out.svg.empty()) files.add(out.svg, fulcrum::io::to_svg(chart));
  files.commit();
  if (!out.quiet && !out.output.empty()) std::cout << "\nwrote plan: " << out.output << '\n';
  if (!out.quiet && !out.svg.empty()) std::cout << (out.output.empty() ? "\n" : "") << "wrote chart: " << out.svg << '\n';
  return exit_ok;
}

}  // namespace fplan
