// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan: plans sequence packing, rank balancing, pipeline stages, recompute and dispatch
// for a dataset of per-sample sizes (or a model's layer profile), prints a before/after summary,
// and writes the plan (JSON, docs/plan-schema.md) and a chart (SVG). See docs/cli.md.
//
// Exit status: 0 success, 1 failure (e.g. cannot write output), 2 bad input or usage,
// 3 infeasible (no plan satisfies the constraints).
#include <cstdint>
#include <exception>
#include <iostream>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include <fulcrum/core/error.hpp>
#include <fulcrum/packing/packing.hpp>
#include <fulcrum/version.hpp>

#include "commands.hpp"

namespace {

namespace lim = fplan::limits;

/// "--ranks" from "-k,--ranks".
std::string long_name(const std::string& names) {
  const auto at = names.find("--");
  if (at == std::string::npos) return names;
  return names.substr(at, names.find(',', at) - at);
}

/// A whole-number option with a documented range, read exactly and checked when parsed (before
/// anything is read or allocated): `--ranks = 0: is below 1; --ranks must be 1..65536` (exit 2).
template <class T>
CLI::Option* count_option(CLI::App* cmd, const std::string& names, T& target, std::uint64_t lo, std::uint64_t hi,
                          const std::string& help) {
  const std::string option = long_name(names);
  auto* o = cmd->add_option_function<std::string>(
      names, [&target, option, lo, hi](const std::string& v) { target = static_cast<T>(fplan::parse_count(option, v, lo, hi)); },
      help + " (" + fplan::range_text(lo, hi) + ")");
  o->default_str(std::to_string(target));
  return o;
}

/// A real option with a documented range (finite; overflow and underflow named).
CLI::Option* real_option(CLI::App* cmd, const std::string& names, double& target, double lo, double hi, const std::string& help) {
  const std::string option = long_name(names);
  auto* o = cmd->add_option_function<std::string>(
      names, [&target, option, lo, hi](const std::string& v) { target = fplan::parse_real(option, v, lo, hi); },
      help + " (" + fplan::range_text(lo, hi) + ")");
  std::ostringstream def;
  def << target;
  o->default_str(def.str());
  return o;
}

void add_input_options(CLI::App* cmd, fplan::input_options& in) {
  cmd->add_option("-i,--input", in.input, "Dataset of per-sample sizes: JSON Lines (.jsonl) or CSV (.csv); "
                                          "default: embedded W1 (LLaVA-like, 100,000 samples)");
  cmd->add_option("--format", in.format, "Input format")->check(CLI::IsMember({"auto", "jsonl", "csv"}))->capture_default_str();
  cmd->add_option("--text-field", in.text_field, "Field holding a sample's text tokens")->capture_default_str();
  cmd->add_option("--images-field", in.images_field,
                  "Field holding a sample's image count (576 tokens each); \"\" for text-only data")
      ->capture_default_str();
  cmd->add_option("--tokens-field", in.tokens_field, "Field holding a sample's total tokens (overrides text/images)");
  count_option(cmd, "--samples", in.samples, 1, lim::max_samples, "Samples in the default dataset");
  count_option(cmd, "--seed", in.seed, 0, UINT64_MAX, "Seed of the default dataset");
}

void add_cost_options(CLI::App* cmd, fplan::cost_options& c) {
  cmd->add_option("--cost", c.model,
                  "Cost of a sample of L tokens: tokens (L), linear (a*L + b), attention (a*L + b*L^2 + c), flops "
                  "(training FLOPs of --model-config)")
      ->check(CLI::IsMember({"tokens", "linear", "attention", "flops"}))
      ->capture_default_str();
  cmd->add_option(
      "--model-config", c.model_config,
      "--cost flops: the model's Hugging Face config.json (llama, mistral, qwen2/3, mixtral, gpt_neox, llava)");
  real_option(cmd, "--cost-a", c.a, 0, lim::max_cost_coefficient, "Cost coefficient a");
  real_option(cmd, "--cost-b", c.b, 0, lim::max_cost_coefficient, "Cost coefficient b");
  real_option(cmd, "--cost-c", c.c, 0, lim::max_cost_coefficient, "Cost coefficient c");
}

void add_output_options(CLI::App* cmd, fplan::output_options& out) {
  cmd->add_option("-o,--output", out.output, "Write the plan as JSON (schema: docs/plan-schema.md)");
  cmd->add_option("--svg", out.svg, "Write a chart of the load per group, before and after (SVG)");
  cmd->add_option("--progress", out.progress, "Progress bar on stderr for runs over a second")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", out.quiet, "Print nothing but errors");
}

}  // namespace

int main(int argc, char** argv) {
  std::ostringstream version;
  version << "fulcrum-plan " << FULCRUM_VERSION_MAJOR << '.' << FULCRUM_VERSION_MINOR << '.' << FULCRUM_VERSION_PATCH;
  CLI::App app{"fulcrum-plan: load-balancing plans for large-model training (packing, rank balancing, "
               "pipeline stages, recompute, dispatch). Without --input it runs on the embedded W1 dataset.",
               "fulcrum-plan"};
  app.set_version_flag("--version", version.str());
  app.require_subcommand(1);

  fplan::input_options in;
  fplan::cost_options cost;
  fplan::output_options out;
  int status = fplan::exit_ok;

  // balance
  fplan::balance_settings bal;
  auto* balance = app.add_subcommand("balance", "Balance samples over ranks (and micro-batches) under a cost model");
  count_option(balance, "-k,--ranks", bal.ranks, 1, lim::max_ranks, "Ranks (data-parallel groups)");
  count_option(balance, "-m,--micro-batches", bal.micro_batches, 1, lim::max_micro_batches,
               "Micro-batches per rank (parts = ranks x micro-batches, at most 1048576)");
  balance->add_option("-a,--algorithm", bal.algorithm, "Balancing algorithm")
      ->check(CLI::IsMember(fplan::balance_algorithms()))
      ->capture_default_str();
  balance->add_flag("--equal-counts", bal.equal_counts, "Give every part floor(n/k) or ceil(n/k) samples");
  count_option(balance, "--time-limit-ms", bal.time_limit_ms, 0, lim::max_time_limit_ms,
               "complete: return the best plan found after this long (0: node limit only)");
  add_input_options(balance, in);
  add_cost_options(balance, cost);
  add_output_options(balance, out);
  balance->callback([&] {
    fplan::check_outputs(out);
    status = fplan::cmd_balance(bal, in, cost, out);
  });

  // pack
  fplan::pack_settings pk;
  auto* pack = app.add_subcommand("pack", "Pack samples into sequences of at most --capacity tokens (fewest sequences)");
  count_option(pack, "-c,--capacity", pk.capacity, 1, lim::exact_double, "Tokens per packed sequence");
  pack->add_option("-a,--algorithm", pk.algorithm, "Packing algorithm")
      ->check(CLI::IsMember(fplan::pack_algorithms()))
      ->capture_default_str();
  pack->add_option(
          "--oversize", pk.oversize,
          "Samples longer than the capacity: error (exit 3), truncate them to it, or own_bin (a sequence each)")
      ->check(CLI::IsMember(fulcrum::enum_choices<fulcrum::oversize>()))
      ->capture_default_str();
  count_option(pack, "--time-limit-ms", pk.time_limit_ms, 0, lim::max_time_limit_ms,
               "exact: return the best packing found after this long");
  add_input_options(pack, in);
  add_output_options(pack, out);
  pack->callback([&] {
    fplan::check_outputs(out);
    status = fplan::cmd_pack(pk, in, out);
  });

  // pipeline
  fplan::pipeline_settings pl;
  auto* pipeline = app.add_subcommand("pipeline", "Split a model's layers into contiguous pipeline stages (exact bottleneck)");
  pipeline->add_option("-l,--layers", pl.layers, "Layer profile: JSON {\"layers\": [{\"cost\": .., \"memory\": ..}]} or CSV (cost,memory)");
  pipeline->add_option("--profile", pl.profile, "Built-in profile when no --layers")
      ->check(CLI::IsMember({"vlm130", "vlm130j", "vlm520", "vlm1040"}))
      ->capture_default_str();
  count_option(pipeline, "-p,--stages", pl.stages, 1, lim::max_stages, "Pipeline stages");
  count_option(pipeline, "--memory-cap", pl.memory_cap, 0, lim::exact_double, "Cap on the sum of layer memory per stage (0: none)");
  count_option(pipeline, "-m,--micro-batches", pl.micro_batches, 1, lim::max_schedule_micro_batches,
               "Micro-batches of the simulated 1F1B iteration");
  add_output_options(pipeline, out);
  pipeline->callback([&] {
    fplan::check_outputs(out);
    status = fplan::cmd_pipeline(pl, out);
  });

  // recompute
  fplan::recompute_settings rc;
  auto* recompute = app.add_subcommand("recompute", "Choose keep / selective / full recompute per layer within each stage's memory");
  recompute->add_option("-l,--layers", rc.pipeline.layers, "Layer profile (JSON or CSV, as for pipeline)");
  recompute->add_option("--profile", rc.pipeline.profile, "Built-in profile when no --layers")
      ->check(CLI::IsMember({"vlm130", "vlm130j", "vlm520", "vlm1040"}))
      ->capture_default_str();
  count_option(recompute, "-p,--stages", rc.pipeline.stages, 1, lim::max_stages, "Pipeline stages");
  count_option(recompute, "-m,--micro-batches", rc.micro_batches, 1, lim::max_schedule_micro_batches,
               "Micro-batches per step (1F1B)");
  count_option(recompute, "--memory", rc.device_memory, 0, lim::exact_double,
               "Activation memory per stage, in the profile's memory unit (0: 60% of what the heaviest stage needs)");
  add_output_options(recompute, out);
  recompute->callback([&] {
    fplan::check_outputs(out);
    status = fplan::cmd_recompute(rc, out);
  });

  // dispatch-sim
  fplan::dispatch_settings ds;
  auto* dispatch = app.add_subcommand("dispatch-sim", "Simulate per-step dispatch over thread ranks (real all-to-all of payload bytes)");
  count_option(dispatch, "-k,--ranks", ds.ranks, 1, lim::max_thread_ranks, "Simulated ranks (threads)");
  count_option(dispatch, "--ranks-per-node", ds.ranks_per_node, 1, lim::max_thread_ranks, "Ranks per node (for inter-node bytes)");
  count_option(dispatch, "-b,--batch", ds.batch, 1, lim::max_batch, "Global batch: samples per step");
  count_option(dispatch, "--steps", ds.steps, 1, lim::max_steps, "Steps to simulate");
  count_option(dispatch, "-m,--micro-batches", ds.micro_batches, 1, lim::max_micro_batches,
               "Micro-batches per rank per step (ranks x micro-batches at most 1048576)");
  real_option(dispatch, "--bytes-per-token", ds.bytes_per_token, 0, lim::max_bytes_per_token,
              "Payload bytes per token (one step's payload at most 1 GiB)");
  dispatch->add_option("-a,--algorithm", ds.algorithm, "Planner: node_aware (minimal movement), lpt, balance")
      ->check(CLI::IsMember(fplan::dispatch_planners()))
      ->capture_default_str();
  add_input_options(dispatch, in);
  add_cost_options(dispatch, cost);
  add_output_options(dispatch, out);
  dispatch->callback([&] {
    fplan::check_outputs(out);
    status = fplan::cmd_dispatch(ds, in, cost, out);
  });

  // bench
  fplan::bench_settings bs;
  auto* bench = app.add_subcommand("bench", "Run several algorithms on the same data and compare them");
  bench->add_option("what", bs.what, "balance or pack")->check(CLI::IsMember({"balance", "pack"}))->capture_default_str();
  bench->add_option("-a,--algorithms", bs.algorithms, "Algorithms to run (default: all)")->delimiter(',');
  count_option(bench, "-k,--ranks", bs.ranks, 1, lim::max_ranks, "Ranks (balance)");
  count_option(bench, "-c,--capacity", bs.capacity, 1, lim::exact_double, "Tokens per sequence (pack)");
  count_option(bench, "-r,--repeat", bs.repeat, 1, lim::max_repeat, "Runs per algorithm (best time reported)");
  count_option(bench, "--time-limit-ms", bs.time_limit_ms, 0, lim::max_time_limit_ms, "Time limit of the complete search");
  add_input_options(bench, in);
  add_cost_options(bench, cost);
  add_output_options(bench, out);
  bench->callback([&] {
    fplan::check_outputs(out);
    status = fplan::cmd_bench(bs, in, cost, out);
  });

  // stream
  fplan::stream_settings st;
  auto* stream = app.add_subcommand(
      "stream", "Stream samples through the online batcher; write micro-batches as JSON lines (stdout or --output)");
  count_option(stream, "-k,--ranks", st.ranks, 1, lim::max_ranks, "Ranks: micro-batches per step");
  count_option(stream, "-c,--max-tokens", st.max_tokens, 1, lim::exact_double, "Token budget per micro-batch");
  count_option(stream, "--max-images", st.max_images, 0, lim::exact_double,
               "Image cap per micro-batch (0: tokens only)");
  count_option(stream, "-b,--buffer", st.buffer, 1, lim::max_samples, "Samples held by the batcher");
  count_option(stream, "--max-wait", st.max_wait, 0, lim::max_samples,
               "Emit once this many samples are buffered (0: --buffer)");
  count_option(stream, "--warmup-steps", st.warmup_steps, 0, lim::max_steps, "Ramp the caps over the first steps");
  real_option(stream, "--warmup-start", st.warmup_start, 0.001, 1, "Cap fraction at the first warm-up step");
  count_option(stream, "--stream-seed", st.seed, 0, UINT64_MAX, "Seed of the batcher's shuffles");
  stream->add_flag("--drop-last", st.drop_last, "Drop the samples that do not fill a last step (default: flush them)");
  stream->add_option("--oversize", st.oversize, "Samples over a cap: error (exit 3) or truncate")
      ->check(CLI::IsMember({"error", "truncate"}))
      ->capture_default_str();
  stream->add_option("-i,--input", in.input,
                     "Dataset: JSON Lines or CSV file, \"-\" for stdin; default: embedded W1 (--samples)");
  stream->add_option("--format", in.format, "Input format")
      ->check(CLI::IsMember({"auto", "jsonl", "csv"}))
      ->capture_default_str();
  stream->add_option("--text-field", in.text_field, "Field holding a sample's text tokens")->capture_default_str();
  stream->add_option("--images-field", in.images_field, "Field holding a sample's image count; \"\" for text-only data")
      ->capture_default_str();
  stream->add_option("--tokens-field", in.tokens_field,
                     "Field holding a sample's total tokens (overrides text/images)");
  count_option(stream, "--samples", in.samples, 1, lim::max_samples, "Samples in the default dataset");
  count_option(stream, "--seed", in.seed, 0, UINT64_MAX, "Seed of the default dataset");
  stream->add_option("-o,--output", out.output, "Write the micro-batches (JSON lines) to this file instead of stdout");
  stream->add_option("--progress", out.progress, "Progress bar on stderr (auto: only when stderr is a terminal)")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  stream->add_flag("-q,--quiet", out.quiet, "No summary on stderr");
  stream->callback([&] {
    fplan::check_outputs(out);
    status = fplan::cmd_stream(st, in, out);
  });

  // calibrate
  fplan::calibrate_settings cal;
  auto* calibrate = app.add_subcommand(
      "calibrate", "Fit a cost model (a*L + b*L^2 + c) to measured timings; write it as JSON and plot fit vs data");
  calibrate->add_option("-i,--input", cal.input,
                        "Timings CSV: columns tokens,time or text_tokens,image_tiles,time; default: embedded timings");
  count_option(calibrate, "--samples", cal.samples, 3, lim::max_samples, "Timings in the embedded default data");
  count_option(calibrate, "--seed", cal.seed, 0, UINT64_MAX, "Seed of the embedded default data");
  calibrate->add_option("--robust", cal.robust, "Outlier handling: huber (IRLS), trimmed, none")
      ->check(CLI::IsMember({"huber", "trimmed", "none"}))
      ->capture_default_str();
  calibrate->add_flag("--absolute", cal.absolute, "Fit absolute residuals t - pred (default: relative (t - pred)/t)");
  real_option(calibrate, "--tokens-per-tile", cal.tokens_per_tile, 0, 1e6,
              "LLM tokens per image tile (text_tokens,image_tiles input)");
  calibrate->add_option("-o,--output", out.output, "Write the fitted cost model as JSON");
  calibrate->add_option("--svg", out.svg, "Write a plot of the fit against the timings (SVG)");
  calibrate->add_flag("-q,--quiet", out.quiet, "Print nothing but errors");
  calibrate->callback([&] {
    fplan::check_outputs(out);
    status = fplan::cmd_calibrate(cal, out);
  });

  try {
    try {
      app.parse(argc, argv);
    } catch (const CLI::Success& e) {
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      app.exit(e);
      return fplan::exit_bad_input;
    }
  } catch (const fulcrum::invalid_input& e) {
    std::cerr << "fulcrum-plan: error: " << e.what() << '\n';
    return fplan::exit_bad_input;
  } catch (const fulcrum::infeasible& e) {
    std::cerr << "fulcrum-plan: infeasible: " << e.what() << '\n';
    return fplan::exit_infeasible;
  } catch (const std::exception& e) {
    std::cerr << "fulcrum-plan: error: " << e.what() << '\n';
    return fplan::exit_failure;
  }
  return status;
}
