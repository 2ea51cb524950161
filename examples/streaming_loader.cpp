// A data-loader loop on the streaming batcher (runtime/streaming_batcher.hpp, docs/streaming.md).
//
// A W1-shaped dataset (LLaVA-like: images x 576 tokens + text) is written to a JSONL file 10x
// larger than the batcher's buffer and read lazily, one line at a time (io::for_each_sample). Four
// threads act as four data-parallel ranks (comm::thread_world). Every rank streams the whole file
// through its own batcher with the same options and seed, so all ranks see the same steps without
// talking; rank r trains on micro_batch(r) of every step. At a random step (drawn by rank 0 and
// broadcast) every rank checkpoints: the batcher's state() bytes plus how many samples it has read.
// The batcher is then destroyed ("killed"), restored from the bytes, and the file is read again
// from the saved position. At the end the ranks' micro-batches are gathered and checked: every
// sample of the epoch was trained on exactly once, every micro-batch within the caps, every rank
// ran the same number of steps.
//
// expect: exactly once: yes
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <fulcrum/comm/collectives.hpp>
#include <fulcrum/comm/thread_world.hpp>
#include <fulcrum/io/dataset.hpp>
#include <fulcrum/runtime/streaming_batcher.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

constexpr std::size_t ranks = 4, samples = 20000;

struct killed {};  // thrown to stop reading at the checkpoint, as a crash would

/// What one rank trained on: (step, item id) pairs, plus how many steps it ran.
struct rank_log {
  std::vector<std::uint64_t> ids;
  std::uint64_t steps = 0, checkpoint_step = 0;
  bool caps_held = true;
};

}  // namespace

int main() {
  // The dataset: one JSON object per line.
  const std::filesystem::path path = "streaming_loader_data.jsonl";  // in the working directory
  {
    std::ofstream out(path);
    for (const auto& s : fulcrum::testing::generate_w1(samples))
      out << "{\"text_tokens\": " << s.text_tokens << ", \"images\": " << s.images << "}\n";
  }

  fulcrum::stream_options<2> opts;
  opts.caps = {8, 8192};  // per micro-batch: at most 8 images and 8192 tokens
  opts.ranks = ranks;
  opts.buffer = 2048;      // the file holds ~10x the buffer
  opts.warmup_steps = 16;  // ramp the token budget from 25 % over the first 16 steps
  opts.seed = 7;
  opts.oversize_policy = fulcrum::oversize::truncate;  // longer samples are cut to the budget

  fulcrum::comm::thread_world world(ranks);
  const auto logs = world.run([&](fulcrum::comm::thread_world::endpoint& comm) {
    rank_log log;
    // Rank 0 draws the checkpoint step; every rank learns it.
    std::uint64_t ckpt = fulcrum::rng(2026).below(400) + 20;
    fulcrum::comm::broadcast(comm, std::span<std::uint64_t>(&ckpt, 1), 0);
    log.checkpoint_step = ckpt;

    auto train = [&](const fulcrum::stream_step& step) {
      for (const auto id : step.micro_batch(comm.rank())) log.ids.push_back(id);
      log.caps_held = log.caps_held && step.loads[comm.rank() * 2] <= 8 && step.loads[comm.rank() * 2 + 1] <= 8192;
      ++log.steps;
    };
    // Feeds the file from sample `from` on; throws `killed` after step `stop_after` (if any).
    auto feed = [&](fulcrum::streaming_batcher<2>& b, std::uint64_t from, std::optional<std::uint64_t> stop_after,
                    std::uint64_t& read) {
      std::ifstream in(path);
      std::uint64_t id = 0;
      fulcrum::io::for_each_sample(in, fulcrum::io::dataset_format::jsonl, [&](const fulcrum::multimodal_sample& s) {
        const std::uint64_t my_id = id++;
        if (my_id < from) return;  // already pushed before the checkpoint
        b.push(my_id, {s.images, s.tokens()});
        read = my_id + 1;
        while (auto step = b.next()) {
          train(*step);
          if (stop_after && step->index == *stop_after) throw killed{};
        }
      });
    };

    std::vector<std::byte> checkpoint;
    std::uint64_t read = 0;
    {
      auto batcher = std::make_unique<fulcrum::streaming_batcher<2>>(opts);
      try {
        feed(*batcher, 0, ckpt, read);
      } catch (const killed&) {
        checkpoint = batcher->state();  // what a trainer stores next to the model checkpoint
      }
      batcher.reset();  // the process dies
    }
    // Restart: restore the batcher and continue reading after the last sample it had taken.
    auto batcher = fulcrum::streaming_batcher<2>::restore(checkpoint, opts);
    while (auto step = batcher.next()) train(*step);  // steps pending at the checkpoint
    feed(batcher, read, std::nullopt, read);
    batcher.finish();
    while (auto step = batcher.next()) train(*step);
    return log;
  });

  // Exactly once over the epoch, same step count on every rank.
  std::vector<int> seen(samples, 0);
  bool same_steps = true, caps = true;
  for (const auto& log : logs) {
    for (const auto id : log.ids) ++seen[id];
    same_steps = same_steps && log.steps == logs[0].steps;
    caps = caps && log.caps_held;
  }
  std::size_t once = 0;
  for (const int c : seen) once += c == 1 ? 1 : 0;
  std::printf("dataset: %zu samples in %s, buffer %zu, %zu ranks\n", samples, path.string().c_str(), opts.buffer,
              ranks);
  std::printf("checkpoint after step %llu, restored; %llu steps per rank; caps held: %s\n",
              static_cast<unsigned long long>(logs[0].checkpoint_step), static_cast<unsigned long long>(logs[0].steps),
              caps ? "yes" : "no");
  std::filesystem::remove(path);
  const bool ok = once == samples && same_steps && caps;
  std::printf("exactly once: %s (%zu of %zu samples once)\n", ok ? "yes" : "no", once, samples);
  return ok ? 0 : 1;
}
