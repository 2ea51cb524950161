// Fuzz target: balancing front doors on decoded random instances.
// Input bytes -> k in [1, 64], a cost encoding (raw doubles incl. NaN/inf/negative, small
// integers, sevenths, tenths, or mixed magnitudes 1e9 + tenths), n costs. Valid input must give a valid partition
// (every item once, loads recomputed, makespan >= bound); invalid input must throw invalid_input and nothing else. The
// same instance then goes through `balance()` with the algorithm, equal_counts and an optional part_capacity picked by
// the input's last byte (complete under a small node limit): the plan must be valid, keep equal counts when asked, stay
// within the capacity, be the same on a second run, and a capacity at or above the uncapped plan's makespan must not be
// refused. Arithmetic rule (balance/detail/sums.hpp), checked bit for bit, no tolerance: loads recomputed in item index
// order equal the reported loads, the makespan is their maximum, the lower bound is at most the makespan, a capped
// plan's makespan is <= the capacity, and a capacity equal to the uncapped makespan (or to the complete search's
// optimum) is accepted. For n <= 8 and k <= 3 the brute-force optimum is computed too: lower_bound <= optimum <=
// makespan, and proven_optimal implies makespan == optimum.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/lpt.hpp>

#include "../unit/balance/balance_brute_force.hpp"
#include "fuzz_support.hpp"

namespace {

void check_partition(const fulcrum::partition& p, const std::vector<fulcrum::cost_t>& costs, std::size_t k,
                     bool equal_counts, bool finite_sums) {
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
  if (p.proven_optimal)
    fuzz::require(p.makespan <= p.lower_bound * (1 + 1e-9) + 1e-300, "proven_optimal meets the bound");
  // The arithmetic rule, bit for bit.
  std::vector<double> loads(k, 0.0);
  std::vector<std::size_t> part_of(costs.size(), 0);
  for (std::size_t g = 0; g < k; ++g)
    for (fulcrum::index_type i : p.parts[g]) part_of[i] = g;
  for (std::size_t i = 0; i < costs.size(); ++i) loads[part_of[i]] += costs[i];
  double exact_makespan = 0;
  for (std::size_t g = 0; g < k; ++g) {
    fuzz::require(loads[g] == p.loads[g], "rule: loads are index-order sums, bit for bit");
    exact_makespan = std::max(exact_makespan, loads[g]);
  }
  fuzz::require(exact_makespan == p.makespan, "rule: makespan is the largest load");
  fuzz::require(p.lower_bound <= p.makespan, "rule: lower bound <= makespan");
}

/// Brute-force optimum (small instances only) against the bound and the optimality claim.
void check_against_brute_force(const fulcrum::partition& p, const std::vector<fulcrum::cost_t>& costs, std::size_t k,
                               bool equal_counts, double cap) {
  if (costs.size() > 8 || k > 3) return;
  fulcrum_test::brute_force bf(costs, k, equal_counts, cap);
  const double opt = bf.solve();
  fuzz::require(p.lower_bound <= opt, "rule: lower bound <= brute-force optimum");
  fuzz::require(opt <= p.makespan, "rule: brute-force optimum <= makespan");
  if (p.proven_optimal) fuzz::require(p.makespan == opt, "rule: proven_optimal means the brute-force optimum");
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
  if (finite_sums) check_against_brute_force(p, costs, k, opts.equal_counts, std::numeric_limits<double>::infinity());
  const auto again = fulcrum::balance(costs, k, opts);
  fuzz::require(again.parts == p.parts, "balance: same input, same plan");
  if (!finite_sums) return;
  if (p.makespan > 0 && costs.size() <= 10) {
    // Exactly at the uncapped makespan: never refused, never above by an ulp (small n, so the
    // complete fallback runs without the fuzzer's node limit and always decides).
    fulcrum::balance_options at = opts;
    at.part_capacity = p.makespan;
    at.limits = fulcrum::search_limits{};
    try {
      const auto q = fulcrum::balance(costs, k, at);
      check_partition(q, costs, k, at.equal_counts, true);
      fuzz::require(q.makespan <= at.part_capacity, "rule: plan within a capacity equal to the uncapped makespan");
      check_against_brute_force(q, costs, k, at.equal_counts, at.part_capacity);
    } catch (const fulcrum::infeasible&) {
      fuzz::require(false, "rule: a capacity equal to the uncapped makespan was refused");
    }
  }
  if (!(selector & 0x40)) return;
  // A part capacity: somewhere between the lower bound and twice the uncapped makespan.
  opts.part_capacity =
      p.lower_bound + (p.makespan * 2 - p.lower_bound) * static_cast<double>(selector >> 7 ? 3 : 1) / 4.0;
  if (!(opts.part_capacity > 0)) return;
  try {
    const auto q = fulcrum::balance(costs, k, opts);
    check_partition(q, costs, k, opts.equal_counts, true);
    fuzz::require(q.makespan <= opts.part_capacity, "balance: plan within part_capacity");
    check_against_brute_force(q, costs, k, opts.equal_counts, opts.part_capacity);
  } catch (const fulcrum::infeasible&) {
    fuzz::require(opts.part_capacity < p.makespan, "balance: a capacity the uncapped plan meets was refused");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::byte_reader in(data, size);
  const std::size_t k = in.in_range(0, 64);
  const unsigned encoding = in.take<std::uint8_t>() % 5;
  std::vector<fulcrum::cost_t> costs;
  bool valid = k > 0;
  while (!in.empty() && costs.size() < 512) {
    double c = 0;
    switch (encoding) {
      case 0:
        c = in.take<double>();
        break;  // raw bits
      case 1:
        c = static_cast<double>(in.take<std::uint16_t>());
        break;  // integers
      case 2:
        c = static_cast<double>(in.take<std::uint16_t>()) / 7.0;
        break;  // sevenths
      case 3:
        c = static_cast<double>(in.take<std::uint16_t>()) / 10.0;
        break;    // tenths
      default: {  // 1e9 + tenths
        const auto b = in.take<std::uint8_t>();
        c = (b & 0x80 ? 1e9 : 0.0) + static_cast<double>(b & 0x7f) / 10.0;
      }
    }
    if (!(c >= 0) || c > 1e300) valid = false;  // NaN, negative, inf/huge (sum may overflow to inf)
    costs.push_back(c);
  }
  try {
    const auto p = fulcrum::lpt(costs, k);
    fuzz::require(valid || k > 0, "accepted k = 0");
    fuzz::require(fulcrum::testing::check_exactly_once(p.parts, costs.size()), "exactly once");
    fuzz::require(p.parts.size() == k, "k parts");
    if (valid) {
      fuzz::require(
          fulcrum::testing::check_loads(p.parts, std::span<const double>(costs), std::span<const double>(p.loads)),
          "loads");
      fuzz::require(fulcrum::testing::check_bound(p.makespan, p.lower_bound), "bound");
    }
  } catch (const fulcrum::invalid_input&) {
    fuzz::require(!valid, "valid input rejected");
  }
  if (size > 0) balance_front_door(costs, k, data[size - 1]);
  return 0;
}
