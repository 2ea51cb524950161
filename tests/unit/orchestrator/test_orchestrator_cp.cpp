// phase_mode::context_parallel (dispatch/orchestrator.hpp): the LLM phase balanced over CP groups,
// each group's documents sharded over its ranks, checked by an independent checker: every item in
// exactly one group, every token of every item on exactly one rank of its group, per-rank loads
// and tokens recomputed from the shards with the CP cost, every route into the phase splitting
// each item's bytes over its shards in proportion to their tokens, and the reversed route
// returning every byte to the rank that sent it; a brute force of the group makespan on tiny
// cases, the same plan on every thread_world rank, errors naming the field.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/comm/thread_world.hpp>
#include <fulcrum/dispatch/orchestrator.hpp>
#include <fulcrum/dispatch/route_exchange.hpp>
#include <fulcrum/testing/multimodal_step.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

using fulcrum::index_type;
using fulcrum::orchestrator_phase;

// The LLM phase of the W1 multimodal step, turned into a CP phase of degree c.
std::vector<orchestrator_phase> cp_phases(std::size_t n, std::size_t c, std::uint64_t seed = fulcrum::default_seed,
                                          fulcrum::cp_method method = fulcrum::cp_method::automatic) {
  const auto samples = fulcrum::testing::generate_w1(n, seed);
  const auto audio = fulcrum::testing::generate_w1_audio(n, seed);
  auto phases = fulcrum::testing::multimodal_phases(samples, audio);
  auto& llm = phases[2];
  llm.mode = fulcrum::phase_mode::context_parallel;
  llm.cp_degree = c;
  llm.cp.method = method;
  llm.cp.token_slack = 1;
  llm.cp.cost = fulcrum::cp_cost{1.0, 1.0 / 2048, 0.0};
  llm.tokens = llm.memory;  // tokens of the sample's sequence (text + image + audio)
  llm.memory.clear();
  llm.memory_cap = 0;
  return phases;
}

std::vector<index_type> skewed_origin(std::size_t n, std::size_t k) {
  std::vector<index_type> origin(n);
  for (std::size_t i = 0; i < n; ++i) origin[i] = static_cast<index_type>((i * i / n) * k / n);
  return origin;
}

double doc_cost(const fulcrum::cp_cost& c, double L) {
  return L == 0 ? 0.0 : c.per_token * L + c.per_pair * L * (L + 1) / 2 + c.per_chunk;
}

// The independent checker of a CP phase p (phases: every phase of the plan, as it saw them).
void check_cp_phase(const fulcrum::orchestrator_plan& plan, std::size_t p,
                    const std::vector<orchestrator_phase>& phases) {
  const auto& ph = phases[p];
  const auto& a = plan.phases[p];
  const std::size_t k = plan.ranks, c = ph.cp_degree, m = ph.tokens.size(), groups = k / c;
  REQUIRE(a.rank.size() == m);
  CHECK(a.sp_degree == c);
  REQUIRE(a.shard_offsets.size() == k + 1);
  REQUIRE(a.shard_offsets.back() == a.shards.size());
  REQUIRE(a.loads.size() == k);
  REQUIRE(a.cp_tokens.size() == k);
  // Per item: its real token intervals and the tokens each rank holds of it.
  std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>> spans(m);
  std::vector<std::map<std::size_t, std::uint64_t>> held(m);
  for (std::size_t r = 0; r < k; ++r) {
    double load = 0;
    std::uint64_t tokens = 0;
    for (std::size_t x = a.shard_offsets[r]; x < a.shard_offsets[r + 1]; ++x) {
      const auto& ch = a.shards[x];
      REQUIRE(ch.document < m);
      REQUIRE(ch.begin <= ch.end);
      const double b = ch.begin, e = ch.end;
      // Causal pairs of [b, e): sum over queries t of t + 1 keys.
      load += ph.cp.cost.per_token * (e - b) + ph.cp.cost.per_pair * (e - b) * (b + e + 1) / 2 + ph.cp.cost.per_chunk;
      const std::uint64_t L = ph.tokens[ch.document];
      const std::uint64_t lo = std::min<std::uint64_t>(ch.begin, L), hi = std::min<std::uint64_t>(ch.end, L);
      if (hi > lo) {
        spans[ch.document].emplace_back(lo, hi);
        held[ch.document][r] += hi - lo;
        tokens += hi - lo;
      }
    }
    CHECK(a.loads[r] == doctest::Approx(load).epsilon(1e-12));
    CHECK(a.cp_tokens[r] == tokens);
  }
  for (std::size_t j = 0; j < m; ++j) {
    CAPTURE(j);
    // Every token of the item on exactly one rank: its intervals tile [0, L).
    auto& v = spans[j];
    std::sort(v.begin(), v.end());
    std::uint64_t at = 0;
    for (const auto& [lo, hi] : v) {
      CHECK(lo == at);
      at = hi;
    }
    CHECK(at == ph.tokens[j]);
    // Every item in exactly one group, and rank[j] is the member holding most of it.
    const std::size_t g = a.rank[j] / c;
    std::uint64_t most = 0;
    for (const auto& [r, t] : held[j]) {
      CHECK(r / c == g);
      most = std::max(most, t);
    }
    if (!held[j].empty()) CHECK(held[j].at(a.rank[j]) == most);
  }
  // Balanced over groups: the group's CP cost (its ranks' loads) within post_balance's slack of LPT.
  std::vector<double> costs(m);
  for (std::size_t j = 0; j < m; ++j) costs[j] = doc_cost(ph.cp.cost, static_cast<double>(ph.tokens[j]));
  if (ph.cp.cost.per_chunk == 0 && ph.cp.method == fulcrum::cp_method::fill && m > 0) {
    const auto ref = fulcrum::lpt(std::span<const double>(costs), groups);
    double worst = 0;
    for (std::size_t g = 0; g < groups; ++g) {
      double s = 0;
      for (std::size_t r = g * c; r < (g + 1) * c; ++r) s += a.loads[r];
      worst = std::max(worst, s);
    }
    CHECK(worst <= ref.makespan * 1.01 * (1 + 1e-9));
  }
  // Routes into the phase: shares in proportion to shard tokens; the reverse brings them home.
  for (const auto& rt : plan.routes) {
    if (rt.to_phase != p) continue;
    const bool raw = rt.from_phase == fulcrum::phase_route::origin;
    CAPTURE(rt.from_phase);
    const auto& prod = raw ? ph : phases[rt.from_phase];
    const std::size_t items = rt.item_bytes.size();
    REQUIRE(rt.entry_bytes.size() == rt.lists.item_count());
    auto src_of = [&](std::size_t i) -> std::size_t {
      const std::size_t s = prod.per_item ? prod.sample_of[i] : i;
      return raw ? plan.origin[s] : plan.phases[rt.from_phase].rank[i];
    };
    auto doc_of = [&](std::size_t i) -> std::size_t { return prod.per_item ? prod.sample_of[i] : i; };
    std::vector<std::uint64_t> sent(items, 0);
    std::vector<std::uint64_t> group_bytes(k * k, 0);
    for (std::size_t s = 0; s < k; ++s)
      for (std::size_t d = 0; d < k; ++d)
        for (std::size_t y = 0; y < rt.between(s, d).size(); ++y) {
          const std::size_t i = rt.between(s, d)[y];
          const std::uint64_t b = rt.entry_bytes[rt.lists.offsets()[s * k + d] + y];
          CHECK(src_of(i) == s);
          sent[i] += b;
          group_bytes[s * k + d] += b;
          const std::size_t j = doc_of(i);
          const double L = static_cast<double>(ph.tokens[j]);
          if (L == 0) {
            CHECK(d == a.rank[j]);
            continue;
          }
          REQUIRE(held[j].count(d) == 1);
          const double want = static_cast<double>(rt.item_bytes[i]) * static_cast<double>(held[j][d]) / L;
          CHECK(static_cast<double>(b) >= want - 1.0 - 1e-9 * want);
          CHECK(static_cast<double>(b) <= want + 1.0 + 1e-9 * want);
        }
    for (std::size_t i = 0; i < items; ++i) CHECK(sent[i] == (prod.input_bytes.empty() && raw ? 0 : rt.item_bytes[i]));
    CHECK(group_bytes == rt.bytes);
    // The reversed route: group d*k + s lists what d returns to s; every byte goes back to its sender.
    const auto back = rt.reversed();
    REQUIRE(back.entry_bytes.size() == back.lists.item_count());
    std::vector<std::uint64_t> returned(items, 0);
    for (std::size_t d = 0; d < k; ++d)
      for (std::size_t s = 0; s < k; ++s) {
        const std::size_t first = back.lists.offsets()[d * k + s];
        const auto g = back.between(d, s);
        std::uint64_t sum = 0;
        for (std::size_t y = 0; y < g.size(); ++y) {
          CHECK(src_of(g[y]) == s);
          returned[g[y]] += back.entry_bytes[first + y];
          sum += back.entry_bytes[first + y];
        }
        CHECK(sum == back.bytes[d * k + s]);
      }
    CHECK(returned == sent);
  }
}

fulcrum::orchestrator_options options(std::size_t k, std::size_t rpn) {
  fulcrum::orchestrator_options opts;
  opts.ranks = k;
  opts.ranks_per_node = rpn;
  return opts;
}

}  // namespace

TEST_CASE("orchestrator cp: groups of 1 2 4 and 8 on W1 pass the independent checker") {
  const std::size_t n = 256, k = 16;
  const auto origin = skewed_origin(n, k);
  for (const std::size_t c : {std::size_t{1}, std::size_t{2}, std::size_t{4}, std::size_t{8}})
    for (const auto method : {fulcrum::cp_method::automatic, fulcrum::cp_method::fill}) {
      CAPTURE(c);
      CAPTURE(static_cast<int>(method));
      const auto phases = cp_phases(n, c, fulcrum::default_seed, method);
      const auto plan = fulcrum::orchestrate(origin, phases, options(k, 8));
      check_cp_phase(plan, 2, phases);
      // loads_before is each group's CP cost at the current placement / c: no group gets worse
      // (fill spends exactly the documents' cost; a rank may sit slightly above its group's mean).
      if (method == fulcrum::cp_method::fill) {
        const auto& a = plan.phases[2];
        double after = 0, before = 0;
        for (std::size_t g = 0; g < k / c; ++g) {
          double s = 0, b = 0;
          for (std::size_t r = g * c; r < (g + 1) * c; ++r) s += a.loads[r], b += a.loads_before[r];
          after = std::max(after, s);
          before = std::max(before, b);
        }
        CHECK(after <= before * (1 + 1e-12));
      }
      // Deterministic: the same input gives the same plan.
      CHECK(fulcrum::orchestrate(origin, phases, options(k, 8)).hash == plan.hash);
    }
}

TEST_CASE("orchestrator cp: empty documents and a CP phase without inputs") {
  const std::size_t k = 4;
  std::vector<orchestrator_phase> phases(1);
  auto& ph = phases[0];
  ph.name = "llm";
  ph.mode = fulcrum::phase_mode::context_parallel;
  ph.cp_degree = 2;
  ph.tokens = {0, 5000, 7, 0, 12000, 300, 1, 64};
  ph.costs.assign(ph.tokens.size(), 0.0);
  ph.input_bytes = {10, 20000, 28, 3, 48000, 1200, 4, 256};
  const std::vector<index_type> origin{0, 0, 1, 2, 3, 3, 1, 0};
  const auto plan = fulcrum::orchestrate(origin, phases, options(k, 2));
  check_cp_phase(plan, 0, phases);
  ph.input_bytes.clear();
  const auto bare = fulcrum::orchestrate(origin, phases, options(k, 2));
  check_cp_phase(bare, 0, phases);
  CHECK(bare.routes.empty());
  std::vector<orchestrator_phase> none(1, ph);
  none[0].tokens.clear();
  none[0].costs.clear();
  const auto empty = fulcrum::orchestrate(std::vector<index_type>{}, none, options(k, 2));
  check_cp_phase(empty, 0, none);
}

TEST_CASE("orchestrator cp: brute force of the group makespan on tiny cases") {
  // 6 documents on 4 ranks in 2 CP groups of 2: within post_balance's slack of LPT, which is
  // within 4/3 of the best split; no rank below its group's share of the work.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    auto phases = cp_phases(6, 2, seed, fulcrum::cp_method::fill);
    std::vector<orchestrator_phase> llm_only{phases[2]};
    llm_only[0].consumes.clear();
    const std::vector<index_type> origin{0, 0, 1, 2, 3, 3};
    const auto plan = fulcrum::orchestrate(origin, llm_only, options(4, 2));
    check_cp_phase(plan, 0, llm_only);
    const auto& ph = llm_only[0];
    double best = 1e300;
    for (unsigned mask = 0; mask < 64; ++mask) {
      double g[2] = {0, 0};
      for (std::size_t j = 0; j < 6; ++j)
        g[(mask >> j) & 1U] += doc_cost(ph.cp.cost, static_cast<double>(ph.tokens[j]));
      best = std::min(best, std::max(g[0], g[1]));
    }
    const auto& l = plan.phases[0].loads;
    const double g0 = l[0] + l[1], g1 = l[2] + l[3];
    CHECK(std::max(g0, g1) <= best * (4.0 / 3.0) * 1.01 * (1 + 1e-12));
    CHECK(std::max(g0, g1) >= best * (1 - 1e-12));
    CHECK(plan.phases[0].makespan() >= std::max(g0, g1) / 2 * (1 - 1e-12));
  }
}

TEST_CASE("orchestrator cp: the same plan on every rank of a thread_world") {
  const std::size_t n = 96, k = 4, c = 2;
  const auto phases = cp_phases(n, c);
  const auto origin = skewed_origin(n, k);
  const auto opts = options(k, 2);
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
      lp.cp_degree = ph.cp_degree;
      lp.cp = ph.cp;
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
      check_cp_phase(plan, 2, global);
      seen = global;
    }
    return plan.hash;
  });
  for (const auto h : hashes) CHECK(h == hashes[0]);
  CHECK(fulcrum::orchestrate(origin, phases, opts).hash == hashes[0]);
  REQUIRE(seen.size() == 3);
  CHECK(seen[2].tokens == phases[2].tokens);
  CHECK(seen[2].cp_degree == c);
}

TEST_CASE("orchestrator cp: bad input names the phase and the field") {
  const std::size_t n = 32, k = 8;
  const auto origin = skewed_origin(n, k);
  auto expect = [&](std::vector<orchestrator_phase> phases, const char* what) {
    CAPTURE(what);
    try {
      (void)fulcrum::orchestrate(origin, phases, options(k, 4));
      FAIL("no exception");
    } catch (const fulcrum::invalid_input& e) {
      CHECK(std::string(e.what()).find(what) != std::string::npos);
      CHECK(std::string(e.what()).find("'llm'") != std::string::npos);
    }
  };
  expect(cp_phases(n, 3), "cp_degree");       // 3 does not divide 8
  expect(cp_phases(n, 0), "cp_degree");       // zero
  expect(cp_phases(n, 8), "ranks_per_node");  // 8 does not divide 4
  auto p = cp_phases(n, 2);
  p[2].tokens.pop_back();
  expect(p, "tokens.size()");
  p = cp_phases(n, 2);
  p[2].tokens[3] = std::uint64_t{1} << 31;
  expect(p, "tokens");
  p = cp_phases(n, 2);
  p[2].memory_cap = 10;
  expect(p, "memory_cap");
  p = cp_phases(n, 2);
  p[2].cp.cost.per_pair = -1;
  expect(p, "cp.cost.per_pair");
  p = cp_phases(n, 2);
  p[2].mode = fulcrum::phase_mode::placement_aware;  // tokens without SP or CP
  expect(p, "tokens.size()");
}

TEST_CASE("orchestrator cp: exchange_along moves every shard and the reversed route brings it back") {
  const std::size_t k = 4;
  std::vector<orchestrator_phase> phases(1);
  auto& ph = phases[0];
  ph.name = "llm";
  ph.mode = fulcrum::phase_mode::context_parallel;
  ph.cp_degree = 2;
  ph.cp.token_slack = 1;
  ph.tokens = {9000, 5, 0, 3000, 12000, 300, 1, 64, 7000};
  ph.costs.assign(ph.tokens.size(), 0.0);
  for (const auto t : ph.tokens) ph.input_bytes.push_back(t * 3 + 7);
  const std::vector<index_type> origin{0, 0, 1, 2, 3, 3, 1, 0, 2};
  const auto plan = fulcrum::orchestrate(origin, phases, options(k, 2));
  REQUIRE(plan.routes.size() == 1);
  check_cp_phase(plan, 0, phases);
  const auto& fwd = plan.routes[0];
  const auto back = fwd.reversed();
  const std::size_t m = ph.tokens.size();
  std::vector<std::vector<std::byte>> data(m);
  for (std::size_t j = 0; j < m; ++j)
    for (std::size_t b = 0; b < ph.input_bytes[j]; ++b) data[j].push_back(static_cast<std::byte>((j * 31 + b) & 0xff));
  // Per rank: what it received forward (item -> bytes) and, at the origins, what came back.
  std::vector<std::vector<std::vector<std::byte>>> got(k, std::vector<std::vector<std::byte>>(m));
  std::vector<std::vector<std::vector<std::byte>>> home(k, std::vector<std::vector<std::byte>>(m));
  fulcrum::comm::thread_world world(k);
  world.run([&](fulcrum::comm::thread_world::endpoint& ep) {
    const std::size_t me = ep.rank();
    const auto there =
        fulcrum::exchange_along(ep, fwd, [&](index_type j) { return std::span<const std::byte>(data[j]); });
    for (std::size_t y = 0; y < there.items.size(); ++y) {
      auto& v = got[me][there.items[y]];
      CHECK(v.empty());  // one share per item and rank
      v.assign(there.payloads[y].begin(), there.payloads[y].end());
    }
    const auto returned =
        fulcrum::exchange_along(ep, back, [&](index_type j) { return std::span<const std::byte>(got[me][j]); });
    for (std::size_t y = 0; y < returned.items.size(); ++y) {
      auto& v = home[me][returned.items[y]];
      v.insert(v.end(), returned.payloads[y].begin(), returned.payloads[y].end());
    }
    return 0;
  });
  for (std::size_t j = 0; j < m; ++j) {
    CAPTURE(j);
    std::vector<std::byte> joined;  // the shares, ascending rank: the item's bytes in order
    for (std::size_t r = 0; r < k; ++r) joined.insert(joined.end(), got[r][j].begin(), got[r][j].end());
    CHECK(joined == data[j]);
    CHECK(home[origin[j]][j] == data[j]);  // every byte back at the owner
  }
}
