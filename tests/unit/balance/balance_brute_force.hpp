// Brute-force optimum for small balancing instances (tests only): depth-first over all
// assignments with symmetry breaking (an item may open at most one new part) and pruning by the
// incumbent. Optional equal counts (floor(n/k) or ceil(n/k) items per part) and part capacity.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <vector>

namespace fulcrum_test {

struct brute_force {
  brute_force(const std::vector<double>& costs, std::size_t parts, bool counts = false,
              double cap = std::numeric_limits<double>::infinity())
      : c(costs), k(parts), equal_counts(counts), capacity(cap) {}
  const std::vector<double>& c;
  std::size_t k;
  bool equal_counts;
  double capacity;

  /// Optimal makespan, or +infinity when no assignment satisfies the constraints.
  double solve() {
    best_ = std::numeric_limits<double>::infinity();
    loads_.assign(k, 0.0);
    counts_.assign(k, 0);
    if (c.empty()) return 0;
    dfs(0, 0);
    return best_;
  }

 private:
  void dfs(std::size_t i, std::size_t used) {
    const std::size_t n = c.size();
    if (i == n) {
      if (equal_counts) {
        const auto [lo, hi] = std::minmax_element(counts_.begin(), counts_.end());
        if (*hi - *lo > 1) return;
      }
      best_ = std::min(best_, *std::max_element(loads_.begin(), loads_.end()));
      return;
    }
    const std::size_t ceil_count = (n + k - 1) / k;
    for (std::size_t p = 0; p < std::min(used + 1, k); ++p) {
      const double l = loads_[p] + c[i];
      if (l >= best_ || l > capacity) continue;
      if (equal_counts && counts_[p] + 1 > ceil_count) continue;
      const double old = loads_[p];
      loads_[p] = l;
      ++counts_[p];
      dfs(i + 1, std::max(used, p + 1));
      --counts_[p];
      loads_[p] = old;
    }
  }
  double best_ = 0;
  std::vector<double> loads_;
  std::vector<std::size_t> counts_;
};

}  // namespace fulcrum_test
