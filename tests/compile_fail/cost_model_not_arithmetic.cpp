// Must NOT compile: a cost model returning a non-arithmetic type (std::string) is rejected by the
// cost_model_for concept, and the diagnostic names that concept.
#include <string>
#include <vector>

#include <fulcrum/balance/lpt.hpp>

struct string_cost {
  std::string operator()(double) const { return "expensive"; }
};

int main() {
  std::vector<double> items{1, 2, 3};
  auto p = fulcrum::lpt(items, 2, string_cost{});
  return static_cast<int>(p.makespan);
}
