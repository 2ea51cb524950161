// Must NOT compile: select_recompute takes one list of options per layer (a range of ranges of
// recompute_option); a flat list is rejected in the signature by the recompute_layer_range
// concept, and the diagnostic names it.
#include <vector>

#include <fulcrum/recompute/select.hpp>

int main() {
  std::vector<fulcrum::recompute_option> flat{{10, 0.0}, {2, 1.0}};
  const auto plan = fulcrum::select_recompute(flat, 8);
  return static_cast<int>(plan.memory);
}
