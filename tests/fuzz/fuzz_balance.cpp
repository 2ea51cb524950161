// Fuzz target: balancing front doors on decoded random instances.
// Input bytes -> k in [1, 64], a cost encoding (raw doubles incl. NaN/inf/negative, or small
// integers), n costs. Valid input must give a valid partition (every item once, loads recomputed,
// makespan >= bound); invalid input must throw invalid_input and nothing else.
// The same instance then goes through `balance()` with the algorithm, equal_counts and an optional
// part_capacity picked by the input's last byte (complete under a small node limit): the plan must
// be valid, keep equal counts when asked, stay within the capacity, be the same on a second run,
// and a capacity at or above the uncapped plan's makespan must not be refused.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/lpt.hpp>

#include "fuzz_support.hpp"

namespace {

void check_partition(const fulcrum::partition& p, const std::vector<fulcrum::cost_t>& costs, std::size_t k, bool equal_counts,
                     bool finite_sums) {
  fuzz::require(p.parts.size() == k, "k parts");
  fuzz::require(fulcrum::testing::check_exactly_once(p.parts, costs.size()), "exactly once");
  if (equal_counts)
    for (std::size_t g = 0; g < k; ++g)
      fuzz::require(p.parts.group_size(g) >= costs.size() / k && p.parts.group_size(g) <= (costs.size() + k - 1) / k,
                    "equal counts");
  if (!finite_sums) return;
  const std::span<const double> c(costs);
  fuzz::require(fulcrum::testing::check_loads(p.parts, c, std::span<const double>(p.loads)), "loads");
  const double makespan = fulcrum::testing::recompute_makespan(p.parts, c);
  fuzz::require(fulcrum::testing::check_bound(makespan, p.lower_bound), "bound");
  fuzz::require(std::fabs(makespan - p.makespan) <= 1e-9 * std::max(1.0, makespan), "makespan recomputed");
  if (p.proven_optimal) fuzz::require(p.makespan <= p.lower_bound * (1 + 1e-9) + 1e-300, "proven_optimal meets the bound");
}

/// balance() with the algorithm, equal counts and capacity chosen by `selector`.
void balance_front_door(const std::vector<fulcrum::cost_t>& costs, std::size_t k, std::uint8_t selector) {
  bool valid = k > 0;  // huge but finite costs are valid input for balance()
  for (double c : costs) valid = valid && c >= 0 && std::isfinite(c);
  double total = 0;
  for (double c : costs) total += c;
  valid = valid && std::isfinite(total);  // a sum that overflows a double is rejected
  fulcrum::balance_options opts;
  opts.algorithm = static_cast<fulcrum::balance_algorithm>(selector % 6);
  opts.equal_counts = (selector >> 3) & 1;
  opts.limits.nodes = 3000;  // deterministic; complete returns its best plan at the limit
  double sum = 0;
  for (double c : costs) sum += c;
  const bool finite_sums = valid && std::isfinite(sum) && sum < 1e300;
  fulcrum::partition p;
  try {
    p = fulcrum::balance(costs, k, opts);
  } catch (const fulcrum::invalid_input&) {
    fuzz::require(!valid, "balance: valid input rejected");
    return;
  }
  fuzz::require(valid, "balance: invalid input accepted");
  check_partition(p, costs, k, opts.equal_counts, finite_sums);
  const auto again = fulcrum::balance(costs, k, opts);
  fuzz::require(again.parts == p.parts, "balance: same input, same plan");
  if (!finite_sums || !(selector & 0x40)) return;
  // A part capacity: somewhere between the lower bound and twice the uncapped makespan.
  opts.part_capacity = p.lower_bound + (p.makespan * 2 - p.lower_bound) * static_cast<double>(selector >> 7 ? 3 : 1) / 4.0;
  if (!(opts.part_capacity > 0)) return;
  try {
    const auto q = fulcrum::balance(costs, k, opts);
    check_partition(q, costs, k, opts.equal_counts, true);
    fuzz::require(q.makespan <= opts.part_capacity, "balance: plan within part_capacity");
  } catch (const fulcrum::infeasible&) {
    fuzz::require(opts.part_capacity < p.makespan, "balance: a capacity the uncapped plan meets was refused");
  }
}

}  // namespace

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
  if (size > 0) balance_front_door(costs, k, data[size - 1]);
  return 0;
}
