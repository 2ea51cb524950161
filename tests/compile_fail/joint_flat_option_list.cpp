// Must NOT compile: joint_partition_recompute takes one list of recompute options per layer; a
// flat list is rejected in the signature by the recompute_layer_range concept, and the
// diagnostic names it.
#include <vector>

#include <fulcrum/recompute/joint.hpp>

int main() {
  std::vector<fulcrum::pipeline_layer> layers{{1, 2, 1, 4}, {1, 2, 1, 4}};
  std::vector<fulcrum::recompute_option> flat{{4, 0.0}, {1, 1.0}};
  fulcrum::pipeline_search_options o;
  o.stages = 2;
  const auto plan = fulcrum::joint_partition_recompute(layers, flat, o);
  return static_cast<int>(plan.iteration_time);
}
