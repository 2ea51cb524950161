// A consumer of the installed (or add_subdirectory'd) fulcrum: balances a small workload.
#include <cstdio>
#include <vector>

#include <fulcrum/fulcrum.hpp>

int main() {
  const std::vector<double> costs{7, 5, 4, 4, 3, 3, 2};
  const auto p = fulcrum::lpt(costs, 3);
  if (p.parts.size() != 3 || p.makespan < p.lower_bound) return 1;
  std::printf("fulcrum %d.%d.%d consumer: ok (makespan %.0f, bound %.0f)\n", fulcrum::version_major,
              fulcrum::version_minor, fulcrum::version_patch, p.makespan, p.lower_bound);
  return 0;
}
