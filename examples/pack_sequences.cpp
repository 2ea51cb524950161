// Pack variable-length samples into fixed-length training sequences.
//
// 20,000 W1 samples (LLaVA-like: 576 tokens per image + text) are packed into sequences of 8192
// tokens. A plain packer concatenates samples in order and starts a new sequence when the next
// sample does not fit (next fit); fulcrum::pack picks the best-fit-decreasing packer on the size
// histogram, O(n + C), and reports the Martello-Toth L2 lower bound on the number of sequences,
// so you see it is optimal (or how close). Samples longer than 8192 tokens are truncated.
//
// expect: pack +: [0-9]+ sequences, lower bound [0-9]+, gap 0\.0+%
#include <cstdint>
#include <cstdio>
#include <vector>

#include <fulcrum/packing/pack.hpp>
#include <fulcrum/testing/workloads.hpp>

int main() {
  constexpr std::uint64_t capacity = 8192;
  const auto samples = fulcrum::testing::generate_w1(20000);

  fulcrum::pack_options opts;
  opts.oversize_policy = fulcrum::oversize::truncate;  // the trainer cuts over-long samples

  // Before: next fit in input order. The projection tokens_of reads each sample's total tokens.
  opts.algorithm = fulcrum::pack_algorithm::next_fit;
  const auto naive = fulcrum::pack(samples, capacity, opts, fulcrum::tokens_of{});

  // After: the default (automatic) algorithm.
  opts.algorithm = fulcrum::pack_algorithm::automatic;
  const auto plan = fulcrum::pack(samples, capacity, opts, fulcrum::tokens_of{});

  std::uint64_t tokens = 0;
  for (auto load : plan.loads) tokens += load;
  auto report = [&](const char* name, const fulcrum::packing& p) {
    std::printf("%-16s: %zu sequences, lower bound %llu, gap %.4f%%, efficiency %.2f%%\n", name, p.bin_count(),
                static_cast<unsigned long long>(p.lower_bound),
                100.0 * fulcrum::relative_gap(static_cast<double>(p.bin_count()), static_cast<double>(p.lower_bound)),
                100.0 * fulcrum::packing_efficiency(tokens, p.bin_count(), capacity));
  };
  std::printf("%zu samples, %llu tokens, sequences of %llu tokens\n", samples.size(),
              static_cast<unsigned long long>(tokens), static_cast<unsigned long long>(capacity));
  report("next fit", naive);
  report("fulcrum::pack", plan);

  // Each bin is a list of sample indices: the sequence the trainer concatenates.
  const auto first = plan.bins[0];
  std::printf("sequence 0 holds %zu samples (%llu tokens):", first.size(), static_cast<unsigned long long>(plan.loads[0]));
  for (std::size_t i = 0; i < first.size() && i < 8; ++i) std::printf(" %u", static_cast<unsigned>(first[i]));
  std::printf("%s\n", first.size() > 8 ? " ..." : "");
  return 0;
}
