// Must NOT compile: a dispatch planner returning a flat partition (whose ranks * micro_batches parts
// could be rank-major or step-major). The diagnostic asks for a step_grid with a named layout.
#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/comm/single_rank.hpp>
#include <fulcrum/core/cost_model.hpp>
#include <fulcrum/core/sample.hpp>
#include <fulcrum/dispatch/dispatch.hpp>

int main() {
  fulcrum::comm::single_rank c;
  fulcrum::sample_batch<fulcrum::multimodal_sample> local;
  auto flat = [](const fulcrum::planning_input<fulcrum::multimodal_sample>& in) {
    return fulcrum::lpt(in.costs, in.ranks * in.micro_batches);
  };
  auto r = fulcrum::dispatch(c, local, fulcrum::projected_cost{fulcrum::attention_cost{}, fulcrum::tokens_of{}},
                             fulcrum::dispatch_options{}, flat);
  return static_cast<int>(r.samples.size());
}
