// SPDX-License-Identifier: Apache-2.0
// Compile-time probe (bench/compile_time.sh): the README quick start, one pack() and one
// balance() call on a user type with a projection.
#include <fulcrum/fulcrum.hpp>

#include <cstdint>
#include <vector>

int main() {
  std::vector<fulcrum::multimodal_sample> samples(4096, fulcrum::multimodal_sample{1000, 1});
  const auto plan = fulcrum::balance(samples, 32, {}, fulcrum::attention_cost{}, fulcrum::tokens_of{});
  const auto bins = fulcrum::pack(samples, 16384, {}, fulcrum::tokens_of{});
  return plan.parts.size() == 32 && bins.bin_count() > 0 ? 0 : 1;
}
