// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan: shared pieces of the subcommands (input, cost model, progress, reporting, output).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fulcrum/core/cost_model.hpp>
#include <fulcrum/core/rng.hpp>
#include <fulcrum/core/sample.hpp>
#include <fulcrum/io/plan.hpp>
#include <fulcrum/io/svg_chart.hpp>

namespace fplan {

/// Exit statuses: 0 success, 1 other failure (I/O), 2 bad input or usage, 3 infeasible.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_bad_input = 2;
inline constexpr int exit_infeasible = 3;

/// Where the per-sample sizes come from.
struct input_options {
  std::string input;                       ///< file; empty = embedded default W1
  std::string format = "auto";             ///< auto, jsonl, csv
  std::string text_field = "text_tokens";
  std::string images_field = "images";
  std::string tokens_field;                ///< total-token field (text-only data)
  std::size_t samples = 100000;            ///< size of the default dataset
  std::uint64_t seed = fulcrum::default_seed;
};

/// Cost of one sample as a function of its total tokens L.
struct cost_options {
  std::string model = "attention";  ///< tokens (L), linear (a*L + b), attention (a*L + b*L^2 + c)
  double a = 1.0;
  double b = 1.0 / 4096.0;
  double c = 0.0;
};

/// Where results go.
struct output_options {
  std::string output;           ///< plan.json path
  std::string svg;              ///< chart.svg path
  std::string progress = "auto";  ///< auto (when stderr is a terminal), always, never
  bool quiet = false;
};

struct dataset {
  std::string source;  ///< "file.jsonl" or "default W1 (100000 samples, seed 20240601)"
  std::vector<fulcrum::multimodal_sample> samples;
};

/// Loads the dataset (file or embedded default). Throws fulcrum::invalid_input on bad input.
dataset load_dataset(const input_options& in);

/// Total tokens per sample.
std::vector<std::uint64_t> tokens_of(const dataset& d);

/// Cost per sample under the chosen model; `describe_cost` gives "L + L^2/4096"-like text.
std::vector<double> costs_of(const dataset& d, const cost_options& c);
std::string describe_cost(const cost_options& c);

/// A progress indicator on stderr that appears only once the work has run for a second.
class progress {
 public:
  progress(std::string label, const std::string& mode, std::size_t total = 0);
  ~progress();
  progress(const progress&) = delete;
  progress& operator=(const progress&) = delete;
  void step(std::size_t done);  ///< work units finished so far (of `total`)
  void finish();

 private:
  void run();
  std::string label_;
  std::size_t total_;
  std::atomic<std::size_t> done_{0};
  bool enabled_;
  bool drew_ = false;
  std::chrono::steady_clock::time_point start_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

/// Milliseconds taken by f().
template <class F>
double time_ms(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  std::forward<F>(f)();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

/// One row of the before/after table.
struct summary_row {
  std::string name;
  std::string before;
  std::string after;
};

/// Formatting helpers.
std::string fmt(double v, int precision = 0);
std::string pct(double fraction, int precision = 2);
std::string fmt_ms(double ms);

/// Prints the header line, the before/after table and notes; writes plan.json and chart.svg
/// (atomically) when asked. Returns the exit status.
int emit(const std::string& headline, const std::vector<summary_row>& rows, const fulcrum::io::plan_document& plan,
         const fulcrum::io::load_chart& chart, const output_options& out, const std::vector<std::string>& notes = {});

/// Standard rows from a plan's before/after stats.
std::vector<summary_row> standard_rows(const fulcrum::io::plan_document& plan, const std::string& group_word,
                                       const std::string& load_word, bool packing);

}  // namespace fplan
