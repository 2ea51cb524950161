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

/// The documented range of every numeric option (docs/cli.md). Each is checked, with exact
/// number parsing, when the command line is read: before any file is read or memory allocated.
namespace limits {
inline constexpr std::uint64_t exact_double = std::uint64_t{1} << 53;  ///< 9007199254740992: JSON numbers stay exact
inline constexpr std::uint64_t max_ranks = 65536;                     ///< balance/bench --ranks
inline constexpr std::uint64_t max_micro_batches = 65536;             ///< balance/dispatch-sim --micro-batches
inline constexpr std::uint64_t max_parts = std::uint64_t{1} << 20;     ///< ranks x micro-batches: 1048576
inline constexpr std::uint64_t max_samples = 10'000'000;              ///< --samples (embedded dataset)
inline constexpr std::uint64_t max_time_limit_ms = 86'400'000;        ///< --time-limit-ms: one day
inline constexpr std::uint64_t max_stages = 1024;                     ///< pipeline/recompute --stages
inline constexpr std::uint64_t max_schedule_micro_batches = 4096;      ///< pipeline/recompute --micro-batches
inline constexpr std::uint64_t max_thread_ranks = 1024;               ///< dispatch-sim --ranks (threads)
inline constexpr std::uint64_t max_batch = 10'000'000;                ///< dispatch-sim --batch
inline constexpr std::uint64_t max_steps = 1'000'000;                 ///< dispatch-sim --steps
inline constexpr double max_bytes_per_token = 1024;                   ///< dispatch-sim --bytes-per-token
inline constexpr double max_step_payload_bytes = 1073741824.0;        ///< dispatch-sim: one step's payload, 1 GiB
inline constexpr std::uint64_t max_repeat = 1000;                     ///< bench --repeat
inline constexpr double max_cost_coefficient = 1e9;                   ///< --cost-a/-b/-c
}  // namespace limits

/// Reads `text` as a whole number in lo..hi (exactly: "2.0" is 2, "1.0000000000000001" is not a
/// whole number). Throws fulcrum::invalid_input "--ranks = 0: is below 1; --ranks must be 1..65536".
std::uint64_t parse_count(const std::string& option, const std::string& text, std::uint64_t lo, std::uint64_t hi);
/// Reads `text` as a finite real in lo..hi; errors as parse_count (overflow and underflow named).
double parse_real(const std::string& option, const std::string& text, double lo, double hi);
/// "lo..hi" in plain digits (no exponent).
std::string range_text(double lo, double hi);
std::string range_text(std::uint64_t lo, std::uint64_t hi);

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
  std::string model = "attention";  ///< tokens (L), linear (a*L + b), attention (a*L + b*L^2 + c), flops
  double a = 1.0;
  double b = 1.0 / 4096.0;
  double c = 0.0;
  std::string model_config;  ///< --cost flops: a Hugging Face config.json (io/model_config.hpp)
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

/// Checks --output and --svg before any work: each names a file (not a directory) in an existing
/// directory, and not the same file. Throws fulcrum::invalid_input naming the option.
void check_outputs(const output_options& out);

/// Prints the header line, the before/after table and notes; writes plan.json and chart.svg when
/// asked, both or neither (fulcrum::io::output_set). Returns the exit status.
int emit(const std::string& headline, const std::vector<summary_row>& rows, const fulcrum::io::plan_document& plan,
         const fulcrum::io::load_chart& chart, const output_options& out, const std::vector<std::string>& notes = {});

/// Standard rows from a plan's before/after stats.
std::vector<summary_row> standard_rows(const fulcrum::io::plan_document& plan, const std::string& group_word,
                                       const std::string& load_word, bool packing);

}  // namespace fplan
