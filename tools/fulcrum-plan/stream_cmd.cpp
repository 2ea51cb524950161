// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan stream: samples read lazily (JSONL/CSV file, stdin "-", or the embedded W1) are pushed
// one at a time through the streaming batcher (runtime/streaming_batcher.hpp); every micro-batch is
// written as one JSON line as soon as its step is emitted:
//   {"step":0,"rank":3,"samples":[12,40,...],"tokens":8190,"images":7}
// A sample's id is its 0-based position in the input. A summary goes to stderr (unless --quiet);
// the progress bar appears on stderr only when it is a terminal (--progress auto).
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <fulcrum/io/dataset.hpp>
#include <fulcrum/runtime/streaming_batcher.hpp>
#include <fulcrum/testing/workloads.hpp>

#include "commands.hpp"

namespace fplan {

namespace {

template <std::size_t D>
int run_stream(const stream_settings& s, const input_options& in, const output_options& out) {
  fulcrum::stream_options<D> o;
  o.buffer = s.buffer;
  o.ranks = s.ranks;
  o.seed = s.seed;
  o.warmup_steps = s.warmup_steps;
  o.warmup_start = s.warmup_start;
  o.max_wait = s.max_wait;
  o.end = s.drop_last ? fulcrum::stream_end::drop_last : fulcrum::stream_end::flush;
  o.oversize_policy = s.oversize == "truncate" ? fulcrum::oversize::truncate : fulcrum::oversize::error;
  if constexpr (D == 2) {
    o.caps = {s.max_images, s.max_tokens};
  } else {
    o.caps = {s.max_tokens};
  }
  fulcrum::streaming_batcher<D> batcher(o);  // options checked before any input is read

  // Output: stdout, or a temporary next to --output renamed into place at the end (no
  // half-written file on error).
  namespace fs = std::filesystem;
  fs::path temp;
  std::ofstream file;
  if (!out.output.empty()) {
    const fs::path target(out.output);
    temp =
        target.parent_path() / ("." + target.filename().string() + "." +
                                std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".tmp");
    file.open(temp, std::ios::binary);
    if (!file) throw std::runtime_error("--output = " + out.output + ": cannot open for writing");
  }
  std::ostream& sink = out.output.empty() ? std::cout : static_cast<std::ostream&>(file);
  std::uint64_t steps = 0, micro_batches = 0, emitted = 0;
  std::string line;
  auto write_steps = [&] {
    while (auto step = batcher.next()) {
      ++steps;
      for (std::size_t r = 0; r < step->ranks; ++r) {
        line.clear();
        line += "{\"step\":" + std::to_string(step->index) + ",\"rank\":" + std::to_string(r) + ",\"samples\":[";
        bool first = true;
        for (const auto id : step->micro_batch(r)) {
          if (!first) line += ',';
          first = false;
          line += std::to_string(id);
        }
        line += "],\"tokens\":" + std::to_string(step->loads[r * D + D - 1]);
        if constexpr (D == 2) line += ",\"images\":" + std::to_string(step->loads[r * D]);
        line += "}\n";
        sink << line;
        micro_batches += step->micro_batch(r).empty() ? 0 : 1;
        emitted += step->micro_batch(r).size();
      }
    }
  };
  std::uint64_t id = 0;
  std::string source;
  try {
    progress bar("fulcrum-plan stream", out.progress);
    auto push = [&](const fulcrum::multimodal_sample& sm) {
      if constexpr (D == 2) {
        batcher.push(id++, {sm.images, sm.tokens()});
      } else {
        batcher.push(id++, sm.tokens());
      }
      bar.step(static_cast<std::size_t>(id));
      if (batcher.ready()) write_steps();
    };
    if (in.input.empty()) {
      std::ostringstream os;
      os << "default W1 (LLaVA-like, " << in.samples << " samples, seed " << in.seed << ")";
      source = os.str();
      for (const auto& sm : fulcrum::testing::generate_w1(in.samples, in.seed)) push(sm);
    } else {
      fulcrum::io::dataset_fields fields;
      fields.text = in.text_field;
      fields.images = in.images_field;
      fields.tokens = in.tokens_field;
      auto format = fulcrum::io::dataset_format::jsonl;
      if (in.format == "csv" || (in.format == "auto" && in.input != "-" &&
                                 fulcrum::io::format_of(in.input) == fulcrum::io::dataset_format::csv))
        format = fulcrum::io::dataset_format::csv;
      if (in.input == "-") {
        source = "<stdin>";
        fulcrum::io::for_each_sample(std::cin, format, push, fields, source);
      } else {
        source = in.input;
        std::ifstream input;
        fulcrum::io::detail::open_input(input, in.input);
        fulcrum::io::for_each_sample(input, format, push, fields, source);
      }
      if (id == 0) throw fulcrum::invalid_input(source + ": no samples");
    }
    batcher.finish();
    write_steps();
    sink.flush();
    if (!sink)
      throw std::runtime_error(out.output.empty() ? "cannot write to stdout"
                                                  : "--output = " + out.output + ": write failed");
    if (!out.output.empty()) {
      file.close();
      std::error_code ec;
      fs::rename(temp, out.output, ec);
      if (ec) throw std::runtime_error("--output = " + out.output + ": cannot move into place: " + ec.message());
    }
  } catch (...) {
    if (!out.output.empty()) {
      file.close();
      std::error_code ec;
      fs::remove(temp, ec);
    }
    throw;
  }
  if (!out.quiet) {
    const auto st = batcher.stats();
    std::ostringstream os;
    os << "fulcrum-plan stream: " << id << " samples from " << source << " -> " << steps << " steps x " << s.ranks
       << " ranks, " << micro_batches << " micro-batches (lower bound " << st.lower_bound << "), DistRatio tokens "
       << fmt(st.dist[D - 1], 5);
    if constexpr (D == 2) os << ", images " << fmt(st.dist[0], 5);
    if (!batcher.dropped().empty()) os << "; " << batcher.dropped().size() << " samples dropped (--drop-last)";
    std::cerr << os.str() << '\n';
  }
  return exit_ok;
}

}  // namespace

int cmd_stream(const stream_settings& s, const input_options& in, const output_options& out) {
  if (s.buffer < s.ranks)
    throw fulcrum::invalid_input("--buffer = " + std::to_string(s.buffer) + ": must be at least --ranks (" +
                                 std::to_string(s.ranks) + ")");
  if (s.max_wait != 0 && (s.max_wait < s.ranks || s.max_wait > s.buffer))
    throw fulcrum::invalid_input("--max-wait = " + std::to_string(s.max_wait) +
                                 ": must be 0 or in --ranks..--buffer (" + std::to_string(s.ranks) + ".." +
                                 std::to_string(s.buffer) + ")");
  return s.max_images > 0 ? run_stream<2>(s, in, out) : run_stream<1>(s, in, out);
}

}  // namespace fplan
