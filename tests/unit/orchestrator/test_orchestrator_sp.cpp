// phase_mode::sequence_parallel (dispatch/orchestrator.hpp): the LLM phase balanced over SP groups,
// checked by an independent checker: every item exactly once on a rank of one group, the group's
// padded tokens within degree x per_gpu_tokens, loads recomputed with the SP cost (parallel/
// sequence_parallel.hpp's sp_cost) and equal on every rank of a group, items already in their group
// not moved, a brute force of the best group makespan on tiny cases, errors naming the field.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/comm/thread_world.hpp>
#include <fulcrum/dispatch/orchestrator.hpp>
#include <fulcrum/parallel/sequence_parallel.hpp>
#include <fulcrum/testing/multimodal_step.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

using fulcrum::index_type;
using fulcrum::orchestrator_phase;

constexpr double a2a = 0.5;  // all-to-all cost per token a GPU sends

// The LLM phase of the W1 multimodal step, turned into an SP phase of degree d.
std::vector<orchestrator_phase> sp_phases(std::size_t n, std::size_t d, std::uint64_t per_gpu_tokens,
                                          std::uint64_t seed = fulcrum::default_seed) {
  const auto samples = fulcrum::testing::generate_w1(n, seed);
  const auto audio = fulcrum::testing::generate_w1_audio(n, seed);
  auto phases = fulcrum::testing::multimodal_phases(samples, audio);
  auto& llm = phases[2];
  llm.mode = fulcrum::phase_mode::sequence_parallel;
  llm.sp = fulcrum::sp_spec{d, per_gpu_tokens};
  llm.tokens = llm.memory;  // tokens of the sample's sequence (text + image + audio)
  llm.memory.clear();
  llm.memory_cap = 0;
  const auto cost = fulcrum::sp_cost{fulcrum::attention_cost{}, a2a, d};
  for (std::size_t j = 0; j < llm.tokens.size(); ++j) llm.costs[j] = cost(llm.tokens[j]);
  return phases;
}

std::vector<index_type> skewed_origin(std::size_t n, std::size_t k) {
  std::vector<index_type> origin(n);
  for (std::size_t i = 0; i < n; ++i) origin[i] = static_cast<index_type>((i * i / n) * k / n);
  return origin;
}

// The independent checker of an SP phase.
void check_sp_phase(const fulcrum::orchestrator_plan& plan, std::size_t p, const orchestrator_phase& ph) {
  const auto& a = plan.phases[p];
  const std::size_t k = plan.ranks, d = ph.sp.degree, m = ph.tokens.size(), groups = k / d;
  REQUIRE(a.rank.size() == m);
  CHECK(a.sp_degree == d);
  std::vector<int> seen(m, 0);
  for (std::size_t r = 0; r < k; ++r)
    for (const auto j : a.per_rank[r]) {
      REQUIRE(j < m);
      ++seen[j];
      CHECK(a.rank[j] == r);
    }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));  // exactly once
  const fulcrum::sp_cost cost{fulcrum::attention_cost{}, a2a, d};
  std::vector<double> load(groups, 0), before(groups, 0);
  std::vector<std::uint64_t> padded(groups, 0);
  for (std::size_t j = 0; j < m; ++j) {
    const std::size_t g = a.rank[j] / d;
    load[g] += cost(ph.tokens[j]);  // recomputed from the tokens, not from ph.costs
    before[a.current_rank[j] / d] += cost(ph.tokens[j]);
    padded[g] += (ph.tokens[j] + d - 1) / d * d;
    if (a.current_rank[j] / d == g) CHECK(a.rank[j] == a.current_rank[j]);  // already in its group: stays
  }
  for (std::size_t r = 0; r < k; ++r) {
    CHECK(a.loads[r] == doctest::Approx(load[r / d]).epsilon(1e-12));
    CHECK(a.loads_before[r] == doctest::Approx(before[r / d]).epsilon(1e-12));
    CHECK(a.sp_tokens[r] == padded[r / d] / d);
    if (ph.sp.per_gpu_tokens != 0) CHECK(padded[r / d] <= d * ph.sp.per_gpu_tokens);
  }
  // The raw route delivers every item whole to the rank of its group that runs it.
  for (const auto& rt : plan.routes) {
    if (rt.to_phase != p || rt.from_phase != fulcrum::phase_route::origin) continue;
    std::vector<int> once(m, 0);
    for (std::size_t s = 0; s < k; ++s)
      for (std::size_t t = 0; t < k; ++t)
        for (const auto j : rt.between(s, t)) {
          ++once[j];
          CHECK(a.rank[j] == t);
        }
    CHECK(std::all_of(once.begin(), once.end(), [](int c) { return c == 1; }));
  }
}

}  // namespace

TEST_CASE("orchestrator sp: groups of 2 and 4 on W1 pass the independent checker") {
  const std::size_t n = 512, k = 16;
  const auto origin = skewed_origin(n, k);
  for (const std::size_t d : {std::size_t{1}, std::size_t{2}, std::size_t{4}, std::size_t{8}}) {
    CAPTURE(d);
    const auto phases = sp_phases(n, d, 0);
    fulcrum::orchestrator_options opts;
    opts.ranks = k;
    opts.ranks_per_node = 8;
    const auto plan = fulcrum::orchestrate(origin, phases, opts);
    check_sp_phase(plan, 2, phases[2]);
    // Balanced over groups: within post_balance's tolerance of LPT over the k / d groups.
    std::vector<double> c(phases[2].costs);
    const auto ref = fulcrum::lpt(std::span<const double>(c), k / d);
    CHECK(plan.phases[2].makespan() <= ref.makespan * 1.01 * (1 + 1e-12));
    CHECK(plan.phases[2].makespan() <= plan.phases[2].makespan_before());
  }
}

TEST_CASE("orchestrator sp: a token cap below the balanced peak is repaired and held") {
  const std::size_t n = 256, k = 8, d = 2;
  const auto origin = skewed_origin(n, k);
  auto phases = sp_phases(n, d, 0);
  fulcrum::orchestrator_options opts;
  opts.ranks = k;
  opts.ranks_per_node = 4;
  const auto free_plan = fulcrum::orchestrate(origin, phases, opts);
  const auto peak = *std::max_element(free_plan.phases[2].sp_tokens.begin(), free_plan.phases[2].sp_tokens.end());
  std::uint64_t total = 0;
  for (const auto t : phases[2].tokens) total += (t + d - 1) / d * d;
  const std::uint64_t cap = (peak + total / k) / 2;  // between the mean and the balanced peak
  REQUIRE(cap < peak);
  phases[2].sp.per_gpu_tokens = cap;
  const auto plan = fulcrum::orchestrate(origin, phases, opts);
  check_sp_phase(plan, 2, phases[2]);
  for (const auto t : plan.phases[2].sp_tokens) CHECK(t <= cap);
}

TEST_CASE("orchestrator sp: brute force of the group makespan on tiny cases") {
  // 6 sequences on 4 ranks in 2 SP groups of 2: placement-aware SP is within 1% of the best split.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    auto phases = sp_phases(6, 2, 0, seed);
    std::vector<orchestrator_phase> llm_only{phases[2]};
    llm_only[0].consumes.clear();
    const std::vector<index_type> origin{0, 0, 1, 2, 3, 3};
    fulcrum::orchestrator_options opts;
    opts.ranks = 4;
    opts.ranks_per_node = 2;
    const auto plan = fulcrum::orchestrate(origin, llm_only, opts);
    check_sp_phase(plan, 0, llm_only[0]);
    double best = 1e300;
    for (unsigned mask = 0; mask < 64; ++mask) {
      double g[2] = {0, 0};
      for (std::size_t j = 0; j < 6; ++j) g[(mask >> j) & 1U] += llm_only[0].costs[j];
      best = std::min(best, std::max(g[0], g[1]));
    }
    // post_balance holds LPT's makespan * 1.01; LPT is within 4/3 of the best on 2 parts.
    CHECK(plan.phases[0].makespan() <= best * (4.0 / 3.0) * 1.01 * (1 + 1e-12));
    CHECK(plan.phases[0].makespan() >= best * (1 - 1e-12));
  }
}

TEST_CASE("orchestrator sp: the same plan on every rank of a thread_world") {
  const std::size_t n = 96, k = 4, d = 2;
  const auto phases = sp_phases(n, d, 0);
  const auto origin = skewed_origin(n, k);
  fulcrum::orchestrator_options opts;
  opts.ranks = k;
  opts.ranks_per_node = 2;
  // Rank r holds the samples with origin r (contiguous), and its items of every phase.
  fulcrum::comm::thread_world world(k);
  std::vector<orchestrator_phase> seen;
  const auto hashes = world.run([&](fulcrum::comm::thread_world::endpoint& ep) {
    const std::size_t me = ep.rank();
    std::vector<std::size_t> local_index(n, 0);
    std::size_t local = 0;
    for (std::size_t s = 0; s < n; ++s)
      if (origin[s] == me) local_index[s] = local++;
    std::vector<orchestrator_phase> mine(phases.size());
    for (std::size_t q = 0; q < phases.size(); ++q) {
      const auto& ph = phases[q];
      auto& lp = mine[q];
      lp.name = ph.name;
      lp.per_item = ph.per_item;
      lp.consumes = ph.consumes;
      lp.mode = ph.mode;
      lp.sp = ph.sp;
      lp.memory_cap = ph.memory_cap;
      const std::size_t m = ph.per_item ? ph.sample_of.size() : n;
      for (std::size_t j = 0; j < m; ++j) {
        const std::size_t s = ph.per_item ? ph.sample_of[j] : j;
        if (origin[s] != me) continue;
        if (ph.per_item) lp.sample_of.push_back(static_cast<index_type>(local_index[s]));
        lp.costs.push_back(ph.costs[j]);
        if (!ph.input_bytes.empty()) lp.input_bytes.push_back(ph.input_bytes[j]);
        if (!ph.output_bytes.empty()) lp.output_bytes.push_back(ph.output_bytes[j]);
        if (!ph.memory.empty()) lp.memory.push_back(ph.memory[j]);
        if (!ph.tokens.empty()) lp.tokens.push_back(ph.tokens[j]);
      }
    }
    std::vector<orchestrator_phase> global;
    const auto plan = fulcrum::orchestrate_distributed(ep, local, mine, opts, &global);
    if (me == 0) {
      check_sp_phase(plan, 2, global[2]);
      seen = global;
    }
    return plan.hash;
  });
  for (const auto h : hashes) CHECK(h == hashes[0]);
  // origin is sorted, so the gathered order is the original order: the same plan as orchestrate's.
  CHECK(fulcrum::orchestrate(origin, phases, opts).hash == hashes[0]);
  REQUIRE(seen.size() == 3);
  CHECK(seen[2].tokens == phases[2].tokens);
}

TEST_CASE("orchestrator sp: bad input names the phase and the field") {
  const std::size_t n = 32, k = 8;
  const auto origin = skewed_origin(n, k);
  fulcrum::orchestrator_options opts;
  opts.ranks = k;
  opts.ranks_per_node = 4;
  auto expect = [&](std::vector<orchestrator_phase> phases, const char* what) {
    CAPTURE(what);
    try {
      (void)fulcrum::orchestrate(origin, phases, opts);
      FAIL("no exception");
    } catch (const fulcrum::invalid_input& e) {
      CHECK(std::string(e.what()).find(what) != std::string::npos);
      CHECK(std::string(e.what()).find("'llm'") != std::string::npos);
    }
  };
  auto p = sp_phases(n, 3, 0);
  expect(p, "sp.degree");  // 3 does not divide 8
  p = sp_phases(n, 8, 0);
  expect(p, "ranks_per_node");  // 8 does not divide 4
  p = sp_phases(n, 2, 0);
  p[2].tokens.pop_back();
  expect(p, "tokens.size()");
  p = sp_phases(n, 2, 0);
  p[2].memory_cap = 10;
  expect(p, "memory_cap");
  p = sp_phases(n, 2, 1);  // capacity 2 tokens
  expect(p, "tokens");
  p = sp_phases(n, 2, 0);
  p[2].mode = fulcrum::phase_mode::placement_aware;  // tokens without SP
  expect(p, "tokens.size()");
  // A cap every group can hold item by item but not all together.
  p = sp_phases(n, 2, 0);
  std::uint64_t biggest = 0;
  for (const auto t : p[2].tokens) biggest = std::max(biggest, t);
  p[2].sp.per_gpu_tokens = (biggest + 1) / 2 + 1;
  expect(p, "sp.per_gpu_tokens");
}
