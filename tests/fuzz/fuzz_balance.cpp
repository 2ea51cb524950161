// Fuzz target: balancing front doors on decoded random instances.
// Input bytes -> k in [1, 64], a cost encoding (raw doubles incl. NaN/inf/negative, or small
// integers), n costs. Valid input must give a valid partition (every item once, loads recomputed,
// makespan >= bound); invalid input must throw invalid_input and nothing else.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <fulcrum/balance/lpt.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::byte_reader in(data, size);
  const std::size_t k = in.in_range(0, 64);
  const bool raw_doubles = in.take<std::uint8_t>() & 1;
  std::vector<fulcrum::cost_t> costs;
  bool valid = k > 0;
  while (!in.empty() && costs.size() < 512) {
    double c = raw_doubles ? in.take<double>() : static_cast<double>(in.take<std::uint16_t>());
    if (!(c >= 0) || c > 1e300) valid = false;  // NaN, negative, inf/huge (sum may overflow to inf)
    costs.push_back(c);
  }
  try {
    const auto p = fulcrum::lpt(costs, k);
    fuzz::require(valid || k > 0, "accepted k = 0");
    fuzz::require(fulcrum::testing::check_exactly_once(p.parts, costs.size()), "exactly once");
    fuzz::require(p.parts.size() == k, "k parts");
    if (valid) {
      fuzz::require(fulcrum::testing::check_loads(p.parts, std::span<const double>(costs), std::span<const double>(p.loads)),
                    "loads");
      fuzz::require(fulcrum::testing::check_bound(p.makespan, p.lower_bound), "bound");
    }
  } catch (const fulcrum::invalid_input&) {
    fuzz::require(!valid, "valid input rejected");
  }
  return 0;
}
