// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan: plans sequence packing, rank balancing, pipeline stages, recompute and dispatch
// for a dataset of per-sample sizes (or a model's layer profile), prints a before/after summary,
// and writes the plan (JSON, docs/plan-schema.md) and a chart (SVG). See docs/cli.md.
//
// Exit status: 0 success, 1 failure (e.g. cannot write output), 2 bad input or usage,
// 3 infeasible (no plan satisfies the constraints).
#include <exception>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include <fulcrum/core/error.hpp>
#include <fulcrum/version.hpp>

#include "commands.hpp"

namespace {

void add_input_options(CLI::App* cmd, fplan::input_options& in) {
  cmd->add_option("-i,--input", in.input, "Dataset of per-sample sizes: JSON Lines (.jsonl) or CSV (.csv); "
                                          "default: embedded W1 (LLaVA-like, 100,000 samples)");
  cmd->add_option("--format", in.format, "Input format")->check(CLI::IsMember({"auto", "jsonl", "csv"}))->capture_default_str();
  cmd->add_option("--text-field", in.text_field, "Field holding a sample's text tokens")->capture_default_str();
  cmd->add_option("--images-field", in.images_field,
                  "Field holding a sample's image count (576 tokens each); \"\" for text-only data")
      ->capture_default_str();
  cmd->add_option("--tokens-field", in.tokens_field, "Field holding a sample's total tokens (overrides text/images)");
  cmd->add_option("--samples", in.samples, "Samples in the default dataset")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--seed", in.seed, "Seed of the default dataset")->capture_default_str();
}

void add_cost_options(CLI::App* cmd, fplan::cost_options& c) {
  cmd->add_option("--cost", c.model, "Cost of a sample of L tokens: tokens (L), linear (a*L + b), attention (a*L + b*L^2 + c)")
      ->check(CLI::IsMember({"tokens", "linear", "attention"}))
      ->capture_default_str();
  cmd->add_option("--cost-a", c.a, "Cost coefficient a")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--cost-b", c.b, "Cost coefficient b")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--cost-c", c.c, "Cost coefficient c")->check(CLI::NonNegativeNumber)->capture_default_str();
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
  balance->add_option("-k,--ranks", bal.ranks, "Ranks (data-parallel groups)")->check(CLI::PositiveNumber)->capture_default_str();
  balance->add_option("-m,--micro-batches", bal.micro_batches, "Micro-batches per rank (parts = ranks x micro-batches)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  balance->add_option("-a,--algorithm", bal.algorithm, "Balancing algorithm")
      ->check(CLI::IsMember(fplan::balance_algorithms()))
      ->capture_default_str();
  balance->add_flag("--equal-counts", bal.equal_counts, "Give every part floor(n/k) or ceil(n/k) samples");
  balance->add_option("--time-limit-ms", bal.time_limit_ms, "complete: return the best plan found after this long (0: node limit only)")
      ->capture_default_str();
  add_input_options(balance, in);
  add_cost_options(balance, cost);
  add_output_options(balance, out);
  balance->callback([&] { status = fplan::cmd_balance(bal, in, cost, out); });

  // pack
  fplan::pack_settings pk;
  auto* pack = app.add_subcommand("pack", "Pack samples into sequences of at most --capacity tokens (fewest sequences)");
  pack->add_option("-c,--capacity", pk.capacity, "Tokens per packed sequence")->check(CLI::PositiveNumber)->capture_default_str();
  pack->add_option("-a,--algorithm", pk.algorithm, "Packing algorithm")
      ->check(CLI::IsMember(fplan::pack_algorithms()))
      ->capture_default_str();
  pack->add_option("--oversize", pk.oversize,
                   "Samples longer than the capacity: error (exit 3), truncate them to it, or own_bin (a sequence each)")
      ->check(CLI::IsMember({"error", "truncate", "own_bin"}))
      ->capture_default_str();
  pack->add_option("--time-limit-ms", pk.time_limit_ms, "exact: return the best packing found after this long")
      ->capture_default_str();
  add_input_options(pack, in);
  add_output_options(pack, out);
  pack->callback([&] { status = fplan::cmd_pack(pk, in, out); });

  // pipeline
  fplan::pipeline_settings pl;
  auto* pipeline = app.add_subcommand("pipeline", "Split a model's layers into contiguous pipeline stages (exact bottleneck)");
  pipeline->add_option("-l,--layers", pl.layers, "Layer profile: JSON {\"layers\": [{\"cost\": .., \"memory\": ..}]} or CSV (cost,memory)");
  pipeline->add_option("--profile", pl.profile, "Built-in profile when no --layers")
      ->check(CLI::IsMember({"vlm130", "vlm130j", "vlm520", "vlm1040"}))
      ->capture_default_str();
  pipeline->add_option("-p,--stages", pl.stages, "Pipeline stages")->check(CLI::PositiveNumber)->capture_default_str();
  pipeline->add_option("--memory-cap", pl.memory_cap, "Cap on the sum of layer memory per stage (0: none)")->capture_default_str();
  pipeline->add_option("-m,--micro-batches", pl.micro_batches, "Micro-batches of the simulated 1F1B iteration")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_output_options(pipeline, out);
  pipeline->callback([&] { status = fplan::cmd_pipeline(pl, out); });

  // recompute
  fplan::recompute_settings rc;
  auto* recompute = app.add_subcommand("recompute", "Choose keep / selective / full recompute per layer within each stage's memory");
  recompute->add_option("-l,--layers", rc.pipeline.layers, "Layer profile (JSON or CSV, as for pipeline)");
  recompute->add_option("--profile", rc.pipeline.profile, "Built-in profile when no --layers")
      ->check(CLI::IsMember({"vlm130", "vlm130j", "vlm520", "vlm1040"}))
      ->capture_default_str();
  recompute->add_option("-p,--stages", rc.pipeline.stages, "Pipeline stages")->check(CLI::PositiveNumber)->capture_default_str();
  recompute->add_option("-m,--micro-batches", rc.micro_batches, "Micro-batches per step (1F1B)")->check(CLI::PositiveNumber)->capture_default_str();
  recompute->add_option("--memory", rc.device_memory,
                        "Activation memory per stage, in the profile's memory unit (0: 60% of what the heaviest stage needs)")
      ->capture_default_str();
  add_output_options(recompute, out);
  recompute->callback([&] { status = fplan::cmd_recompute(rc, out); });

  // dispatch-sim
  fplan::dispatch_settings ds;
  auto* dispatch = app.add_subcommand("dispatch-sim", "Simulate per-step dispatch over thread ranks (real all-to-all of payload bytes)");
  dispatch->add_option("-k,--ranks", ds.ranks, "Simulated ranks (threads)")->check(CLI::PositiveNumber)->capture_default_str();
  dispatch->add_option("--ranks-per-node", ds.ranks_per_node, "Ranks per node (for inter-node bytes)")->check(CLI::PositiveNumber)->capture_default_str();
  dispatch->add_option("-b,--batch", ds.batch, "Global batch: samples per step")->check(CLI::PositiveNumber)->capture_default_str();
  dispatch->add_option("--steps", ds.steps, "Steps to simulate")->check(CLI::PositiveNumber)->capture_default_str();
  dispatch->add_option("-m,--micro-batches", ds.micro_batches, "Micro-batches per rank per step")->check(CLI::PositiveNumber)->capture_default_str();
  dispatch->add_option("--bytes-per-token", ds.bytes_per_token, "Payload bytes per token")->check(CLI::NonNegativeNumber)->capture_default_str();
  dispatch->add_option("-a,--algorithm", ds.algorithm, "Planner: node_aware (minimal movement), lpt, balance")
      ->check(CLI::IsMember(fplan::dispatch_planners()))
      ->capture_default_str();
  add_input_options(dispatch, in);
  add_cost_options(dispatch, cost);
  add_output_options(dispatch, out);
  dispatch->callback([&] { status = fplan::cmd_dispatch(ds, in, cost, out); });

  // bench
  fplan::bench_settings bs;
  auto* bench = app.add_subcommand("bench", "Run several algorithms on the same data and compare them");
  bench->add_option("what", bs.what, "balance or pack")->check(CLI::IsMember({"balance", "pack"}))->capture_default_str();
  bench->add_option("-a,--algorithms", bs.algorithms, "Algorithms to run (default: all)")->delimiter(',');
  bench->add_option("-k,--ranks", bs.ranks, "Ranks (balance)")->check(CLI::PositiveNumber)->capture_default_str();
  bench->add_option("-c,--capacity", bs.capacity, "Tokens per sequence (pack)")->check(CLI::PositiveNumber)->capture_default_str();
  bench->add_option("-r,--repeat", bs.repeat, "Runs per algorithm (best time reported)")->check(CLI::PositiveNumber)->capture_default_str();
  bench->add_option("--time-limit-ms", bs.time_limit_ms, "Time limit of the complete search")->capture_default_str();
  add_input_options(bench, in);
  add_cost_options(bench, cost);
  add_output_options(bench, out);
  bench->callback([&] { status = fplan::cmd_bench(bs, in, cost, out); });

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
