// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan: the subcommands and the algorithm front doors they call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <fulcrum/balance/partition.hpp>
#include <fulcrum/packing/packing.hpp>

#include "common.hpp"

namespace fplan {

// ---- balance ---------------------------------------------------------------------------------
struct balance_settings {
  std::size_t ranks = 64;
  std::size_t micro_batches = 1;  ///< per rank; parts = ranks * micro_batches
  std::string algorithm = "automatic";
  bool equal_counts = false;
  std::size_t time_limit_ms = 0;  ///< for complete: stop and return the best plan after this long (0: node limit only)
  [[nodiscard]] std::size_t parts() const { return ranks * micro_batches; }
};

/// Names accepted by --algorithm for balance (first is the default).
std::vector<std::string> balance_algorithms();

struct balance_result {
  fulcrum::partition plan;
  std::string algorithm;  ///< what ran
};
/// Runs the chosen balancing algorithm on precomputed costs.
balance_result solve_balance(std::span<const double> costs, std::size_t k, const balance_settings& s);

struct balance_run {
  balance_result result;
  double time_ms = 0;
};
balance_run run_balance(std::span<const double> costs, std::size_t k, const balance_settings& s);

int cmd_balance(const balance_settings& s, const input_options& in, const cost_options& cost, const output_options& out);

// ---- pack ------------------------------------------------------------------------------------
struct pack_settings {
  std::uint64_t capacity = 16384;
  std::string algorithm = "automatic";
  std::string oversize = "error";  ///< error, truncate, own_bin
  std::size_t time_limit_ms = 10000;  ///< exact: return the best packing found after this long
};
std::vector<std::string> pack_algorithms();
struct pack_result {
  fulcrum::packing plan;
  std::string algorithm;  ///< what ran
};
/// Runs the chosen packing algorithm on token counts.
pack_result solve_pack(const std::vector<std::uint64_t>& sizes, const pack_settings& s);
struct pack_run {
  pack_result result;
  double time_ms = 0;
};
pack_run run_pack(const std::vector<std::uint64_t>& sizes, const pack_settings& s);
int cmd_pack(const pack_settings& s, const input_options& in, const output_options& out);

// ---- pipeline and recompute --------------------------------------------------------------------
struct pipeline_settings {
  std::string layers;              ///< JSON/CSV layer profile; empty: built-in profile
  std::string profile = "vlm130j"; ///< built-in profile name
  std::size_t stages = 8;
  std::uint64_t memory_cap = 0;    ///< per-stage cap on the layers' memory; 0 = none
  std::size_t micro_batches = 16;  ///< for the simulated 1F1B iteration
};
int cmd_pipeline(const pipeline_settings& s, const output_options& out);

struct recompute_settings {
  pipeline_settings pipeline;
  std::uint64_t device_memory = 0;  ///< activation memory per stage (profile's unit); 0 = 60% of the heaviest need
  std::size_t micro_batches = 8;    ///< micro-batches per step (1F1B in-flight count per stage)
};
int cmd_recompute(const recompute_settings& s, const output_options& out);

// ---- dispatch simulation -----------------------------------------------------------------------
struct dispatch_settings {
  std::size_t ranks = 16;
  std::size_t ranks_per_node = 8;
  std::size_t batch = 1024;           ///< global batch: samples per step over all ranks
  std::size_t steps = 20;             ///< steps simulated (fewer if the data runs out)
  std::size_t micro_batches = 4;      ///< per rank per step
  double bytes_per_token = 4;         ///< payload bytes per token (int32 token ids)
  std::string algorithm = "node_aware";  ///< planner: node_aware (post_balance), lpt, balance
};
std::vector<std::string> dispatch_planners();
int cmd_dispatch(const dispatch_settings& s, const input_options& in, const cost_options& cost, const output_options& out);

// ---- bench -------------------------------------------------------------------------------------
struct bench_settings {
  std::string what = "balance";  ///< balance or pack
  std::vector<std::string> algorithms;  ///< empty: all
  std::size_t ranks = 64;
  std::uint64_t capacity = 16384;
  std::size_t repeat = 1;
  std::size_t time_limit_ms = 2000;  ///< for complete
};
int cmd_bench(const bench_settings& s, const input_options& in, const cost_options& cost, const output_options& out);

// ---- stream ------------------------------------------------------------------------------------
struct stream_settings {
  std::size_t ranks = 8;
  std::uint64_t max_tokens = 8192;  ///< token budget per micro-batch
  std::uint64_t max_images = 0;     ///< image cap per micro-batch (0: tokens only)
  std::size_t buffer = 16384;
  std::size_t max_wait = 0;
  std::size_t warmup_steps = 0;
  double warmup_start = 0.25;
  std::uint64_t seed = fulcrum::default_seed;
  bool drop_last = false;
  std::string oversize = "error";  ///< error or truncate
};
/// Streams the input through the streaming batcher, micro-batches as JSON lines (docs/cli.md).
int cmd_stream(const stream_settings& s, const input_options& in, const output_options& out);

// ---- calibrate ---------------------------------------------------------------------------------
struct calibrate_settings {
  std::string input;            ///< timings CSV; empty: the embedded default timings
  std::size_t samples = 20000;  ///< embedded timings: how many
  std::uint64_t seed = fulcrum::default_seed;
  std::string robust = "huber";  ///< huber, trimmed, none
  bool absolute = false;         ///< absolute instead of relative residuals
  double tokens_per_tile = 576;  ///< text_tokens,image_tiles input: LLM tokens per tile
};
/// Fits a cost model to timings; writes it as JSON and a fit-vs-data SVG (docs/cli.md).
int cmd_calibrate(const calibrate_settings& s, const output_options& out);

}  // namespace fplan
