// Port consumer: balances a few samples with the installed headers and checks the plan.
#include <cstdio>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/testing/workloads.hpp>
#include <fulcrum/version.hpp>

int main() {
  const auto samples = fulcrum::testing::generate_w1(256);
  const auto plan = fulcrum::lpt(samples, 8, fulcrum::attention_cost{}, fulcrum::tokens_of{});
  const bool ok = plan.parts.size() == 8 && plan.parts.item_count() == samples.size() && plan.makespan >= plan.lower_bound;
  std::printf("fulcrum %d.%d.%d port consumer: 256 samples on 8 ranks, makespan/bound %.4f: %s\n", fulcrum::version_major,
              fulcrum::version_minor, fulcrum::version_patch, plan.makespan / plan.lower_bound, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
