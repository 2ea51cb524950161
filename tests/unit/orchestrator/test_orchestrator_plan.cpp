// The N-phase orchestrator plan (dispatch/orchestrator.hpp), checked by independent recomputation:
// every item exactly once per phase, loads and memory recomputed, caps held, current ranks
// recomputed from the bytes, routes rebuilt item by item, reverse routes return every item to its
// sender, the same plan on every rank of a thread_world, errors name the phase and field.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include <fulcrum/balance/lpt.hpp>
#include <fulcrum/comm/thread_world.hpp>
#include <fulcrum/dispatch/orchestrator.hpp>
#include <fulcrum/testing/multimodal_step.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

using fulcrum::index_type;
using fulcrum::orchestrator_phase;
using fulcrum::orchestrator_plan;

struct workload {
  std::vector<index_type> origin;
  std::vector<orchestrator_phase> phases;
};

// n W1 samples with audio, dealt to k ranks in uneven contiguous shards (as loaders produce).
workload make_workload(std::size_t n, std::size_t k, std::uint64_t seed = fulcrum::default_seed) {
  workload w;
  const auto samples = fulcrum::testing::generate_w1(n, seed);
  const auto audio = fulcrum::testing::generate_w1_audio(n, seed);
  w.phases = fulcrum::testing::multimodal_phases(samples, audio);
  w.origin.resize(n);
  for (std::size_t i = 0; i < n; ++i) w.origin[i] = static_cast<index_type>((i * i / n) * k / n);  // skewed shards
  return w;
}

std::size_t items_of(const orchestrator_phase& ph, std::size_t n) {
  return ph.per_item ? ph.sample_of.size() : n;
}
std::size_t sample_of(const orchestrator_phase& ph, std::size_t j) {
  return ph.per_item ? ph.sample_of[j] : j;
}

// The independent checker: recomputes everything the plan states from the inputs.
void check_plan(const orchestrator_plan& plan, std::span<const index_type> origin,
                std::span<const orchestrator_phase> phases) {
  const std::size_t k = plan.ranks, n = origin.size(), rpn = plan.ranks_per_node;
  auto node = [&](std::size_t r) { return rpn == 0 ? 0 : r / rpn; };
  REQUIRE(plan.phases.size() == phases.size());
  std::size_t route = 0;
  for (std::size_t p = 0; p < phases.size(); ++p) {
    const auto& ph = phases[p];
    const auto& a = plan.phases[p];
    const std::size_t m = items_of(ph, n);
    REQUIRE(a.rank.size() == m);
    REQUIRE(a.per_rank.size() == k);
    // Every item exactly once, on the rank it names, at its slot.
    std::vector<int> seen(m, 0);
    for (std::size_t r = 0; r < k; ++r) {
      const auto items = a.per_rank[r];
      for (std::size_t s = 0; s < items.size(); ++s) {
        REQUIRE(items[s] < m);
        ++seen[items[s]];
        CHECK(a.rank[items[s]] == r);
        CHECK(a.slot[items[s]] == s);
      }
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
    // Loads and memory recomputed; caps held.
    std::vector<double> load(k, 0), before(k, 0);
    std::vector<std::uint64_t> mem(k, 0);
    for (std::size_t j = 0; j < m; ++j) {
      load[a.rank[j]] += ph.costs[j];
      before[a.current_rank[j]] += ph.costs[j];
      if (!ph.memory.empty()) mem[a.rank[j]] += ph.memory[j];
    }
    for (std::size_t r = 0; r < k; ++r) {
      CHECK(a.loads[r] == doctest::Approx(load[r]).epsilon(1e-12));
      CHECK(a.loads_before[r] == doctest::Approx(before[r]).epsilon(1e-12));
      CHECK(a.memory[r] == mem[r]);
      if (ph.memory_cap != 0) CHECK(mem[r] <= ph.memory_cap);
    }
    // Current rank: the rank holding most input bytes (ties: origin, then lower rank).
    std::vector<std::map<std::size_t, std::uint64_t>> held(m);
    for (std::size_t j = 0; j < m; ++j)
      held[j][origin[sample_of(ph, j)]] += ph.input_bytes.empty() ? 0 : ph.input_bytes[j];
    for (const auto q : ph.consumes)
      for (std::size_t i = 0; i < plan.phases[q].rank.size(); ++i)
        held[sample_of(phases[q], i)][plan.phases[q].rank[i]] +=
            phases[q].output_bytes.empty() ? 0 : phases[q].output_bytes[i];
    for (std::size_t j = 0; j < m; ++j) {
      const std::size_t home = origin[sample_of(ph, j)];
      std::size_t want = home;
      for (const auto& [r, b] : held[j])
        if (b > held[j][want]) want = r;
      CHECK(a.current_rank[j] == want);
    }
    // Placement-aware: the makespan is within the tolerance of a from-scratch LPT (no cap here).
    if (ph.mode == fulcrum::phase_mode::placement_aware && ph.memory_cap == 0 && m > 0) {
      const auto ref = fulcrum::lpt(std::span<const double>(ph.costs), k);
      CHECK(a.makespan() <= ref.makespan * 1.01 * (1 + 1e-12));
    }
    // Routes: raw input first, then one per consumed phase; rebuilt item by item.
    auto check_route = [&](const fulcrum::phase_route& rt, std::size_t from, std::span<const index_type> src,
                           std::span<const index_type> dst, std::span<const std::uint64_t> bytes) {
      CHECK(rt.from_phase == from);
      CHECK(rt.to_phase == p);
      REQUIRE(rt.lists.size() == k * k);
      std::vector<int> once(src.size(), 0);
      std::vector<std::uint64_t> b(k * k, 0);
      std::uint64_t inter = 0, moved = 0;
      for (std::size_t s = 0; s < k; ++s)
        for (std::size_t d = 0; d < k; ++d) {
          index_type last = 0;
          bool first = true;
          for (const auto i : rt.between(s, d)) {
            REQUIRE(i < src.size());
            ++once[i];
            CHECK(src[i] == s);
            CHECK(dst[i] == d);
            CHECK((first || i > last));  // send order = item order
            first = false;
            last = i;
            const std::uint64_t x = bytes.empty() ? 0 : bytes[i];
            CHECK(rt.item_bytes[i] == x);
            b[s * k + d] += x;
            if (s != d) moved += x;
            if (node(s) != node(d)) inter += x;
          }
        }
      CHECK(std::all_of(once.begin(), once.end(), [](int c) { return c == 1; }));
      CHECK(b == rt.bytes);
      CHECK(rt.bytes_moved == moved);
      CHECK(rt.bytes_inter_node == inter);
      // Backward: every item goes back from where the forward route delivered it to its sender.
      const auto back = rt.reversed();
      CHECK(back.backward);
      std::vector<std::size_t> holder(src.size(), k);
      for (std::size_t s = 0; s < k; ++s)
        for (std::size_t d = 0; d < k; ++d)
          for (const auto i : rt.between(s, d)) holder[i] = d;
      for (std::size_t d = 0; d < k; ++d)
        for (std::size_t s = 0; s < k; ++s) {
          CHECK(back.bytes[d * k + s] == rt.bytes[s * k + d]);
          for (const auto i : back.between(d, s)) {
            CHECK(holder[i] == d);
            holder[i] = s;
          }
        }
      for (std::size_t i = 0; i < src.size(); ++i) CHECK(holder[i] == src[i]);
    };
    if (!ph.input_bytes.empty()) {
      REQUIRE(route < plan.routes.size());
      std::vector<index_type> src(m);
      for (std::size_t j = 0; j < m; ++j) src[j] = origin[sample_of(ph, j)];
      check_route(plan.routes[route++], fulcrum::phase_route::origin, src, a.rank, ph.input_bytes);
    }
    for (const auto q : ph.consumes) {
      REQUIRE(route < plan.routes.size());
      const auto& pa = plan.phases[q];
      std::vector<index_type> dst(pa.rank.size());
      for (std::size_t i = 0; i < dst.size(); ++i) dst[i] = a.rank[sample_of(phases[q], i)];
      check_route(plan.routes[route++], q, pa.rank, dst, phases[q].output_bytes);
    }
  }
  CHECK(route == plan.routes.size());
  CHECK(plan.hash == fulcrum::plan_hash(plan));
}

}  // namespace

TEST_CASE("orchestrator plan: three phases on W1 with audio pass the independent checker") {
  for (std::size_t k : {1u, 3u, 8u, 16u}) {
    const auto w = make_workload(600, k);
    fulcrum::orchestrator_options o;
    o.ranks = k;
    o.ranks_per_node = k >= 8 ? 4 : 0;
    const auto plan = fulcrum::orchestrate(w.origin, w.phases, o);
    check_plan(plan, w.origin, w.phases);
    // Balancing helps each phase: max/mean after never above before (before is the data loader's skew).
    for (const auto& a : plan.phases) CHECK(a.makespan() <= a.makespan_before() * (1 + 1e-12));
  }
}

TEST_CASE("orchestrator plan: every mode and a memory cap pass the checker") {
  const std::size_t k = 8;
  auto w = make_workload(400, k);
  fulcrum::orchestrator_options o;
  o.ranks = k;
  o.ranks_per_node = 4;
  for (auto mode : {fulcrum::phase_mode::keep, fulcrum::phase_mode::scratch, fulcrum::phase_mode::placement_aware,
                    fulcrum::phase_mode::equal_count}) {
    for (auto& ph : w.phases) ph.mode = mode;
    const auto plan = fulcrum::orchestrate(w.origin, w.phases, o);
    check_plan(plan, w.origin, w.phases);
    if (mode == fulcrum::phase_mode::keep)
      for (const auto& a : plan.phases) CHECK(a.rank == a.current_rank);
    if (mode == fulcrum::phase_mode::equal_count)
      for (const auto& a : plan.phases) {
        // floor/ceil(n / k) items per rank; the loads are balance()'s, only relabelled.
        const std::size_t m = a.rank.size();
        for (std::size_t r = 0; r < k; ++r) {
          CHECK(a.per_rank[r].size() >= m / k);
          CHECK(a.per_rank[r].size() <= (m + k - 1) / k);
        }
      }
  }
  // A memory cap on the LLM phase just above the mean: held on every rank.
  std::uint64_t total = 0, biggest = 0;
  for (auto v : w.phases[2].memory) {
    total += v;
    biggest = std::max(biggest, v);
  }
  w.phases[2].memory_cap = std::max(biggest, total / k + total / (10 * k));
  for (auto mode :
       {fulcrum::phase_mode::scratch, fulcrum::phase_mode::placement_aware, fulcrum::phase_mode::equal_count}) {
    for (auto& ph : w.phases) ph.mode = mode;
    const auto plan = fulcrum::orchestrate(w.origin, w.phases, o);
    check_plan(plan, w.origin, w.phases);
  }
}

TEST_CASE("orchestrator plan: placement-aware moves fewer inter-node bytes than from scratch") {
  const std::size_t k = 16;
  auto w = make_workload(2000, k);
  fulcrum::orchestrator_options o;
  o.ranks = k;
  o.ranks_per_node = 8;
  auto inter = [&](fulcrum::phase_mode mode) {
    for (auto& ph : w.phases) ph.mode = mode;
    const auto plan = fulcrum::orchestrate(w.origin, w.phases, o);
    std::uint64_t b = 0;
    for (const auto& r : plan.routes) b += r.bytes_inter_node;
    return b;
  };
  const auto aware = inter(fulcrum::phase_mode::placement_aware), scratch = inter(fulcrum::phase_mode::scratch);
  MESSAGE("inter-node bytes: placement-aware " << aware << ", scratch " << scratch);
  CHECK(aware < scratch);
}

TEST_CASE("orchestrator plan: a brute-force check of the current rank and the routes on tiny cases") {
  // Two samples, one with two images; every origin pattern over 2 ranks; keep mode so the plan is
  // the current placement: the LLM item must sit where most of its input is.
  for (index_type o0 = 0; o0 < 2; ++o0)
    for (index_type o1 = 0; o1 < 2; ++o1) {
      const std::vector<index_type> origin{o0, o1};
      std::vector<orchestrator_phase> ph(2);
      ph[0].name = "vision";
      ph[0].per_item = true;
      ph[0].sample_of = {0, 0, 1};
      ph[0].costs = {1, 1, 1};
      ph[0].input_bytes = {10, 10, 10};
      ph[0].output_bytes = {100, 100, 100};
      ph[0].mode = fulcrum::phase_mode::scratch;  // images spread over both ranks
      ph[1].name = "llm";
      ph[1].costs = {5, 1};
      ph[1].input_bytes = {150, 50};
      ph[1].consumes = {0};
      ph[1].mode = fulcrum::phase_mode::keep;
      fulcrum::orchestrator_options opt;
      opt.ranks = 2;
      const auto plan = fulcrum::orchestrate(origin, ph, opt);
      check_plan(plan, origin, ph);
      // Sample 0: 150 bytes of text at its origin, 100 per image where it was encoded.
      std::uint64_t at[2] = {0, 0};
      at[o0] += 150;
      for (std::size_t i = 0; i < 2; ++i) at[plan.phases[0].rank[i]] += 100;
      const index_type want = at[1 - o0] > at[o0] ? 1 - o0 : o0;
      CHECK(plan.phases[1].rank[0] == want);
    }
}

TEST_CASE("orchestrator plan: deterministic and identical on every rank of a thread_world") {
  const std::size_t k = 8, n = 480;
  const auto samples = fulcrum::testing::generate_w1(n);
  const auto audio = fulcrum::testing::generate_w1_audio(n);
  // Uneven contiguous shards.
  std::vector<std::size_t> base{0};
  for (std::size_t r = 0; r < k; ++r) base.push_back(base.back() + (r + 1) * 2 * n / (k * (k + 1)));
  base.back() = n;
  std::vector<index_type> origin(n);
  for (std::size_t r = 0; r < k; ++r)
    for (std::size_t i = base[r]; i < base[r + 1]; ++i) origin[i] = static_cast<index_type>(r);
  fulcrum::orchestrator_options o;
  o.ranks = k;
  o.ranks_per_node = 4;
  const auto central = fulcrum::orchestrate(origin, fulcrum::testing::multimodal_phases(samples, audio), o);
  CHECK(central.hash == fulcrum::orchestrate(origin, fulcrum::testing::multimodal_phases(samples, audio), o).hash);
  fulcrum::comm::thread_world world(k);
  const auto hashes = world.run([&](fulcrum::comm::thread_world::endpoint& ep) {
    const std::size_t r = ep.rank();
    const auto mine = std::span(samples).subspan(base[r], base[r + 1] - base[r]);
    const auto mine_audio = std::span(audio).subspan(base[r], base[r + 1] - base[r]);
    const auto plan =
        fulcrum::orchestrate_distributed(ep, mine.size(), fulcrum::testing::multimodal_phases(mine, mine_audio), o);
    return plan.hash;
  });
  for (const auto h : hashes) CHECK(h == central.hash);
}

TEST_CASE("orchestrator plan: ranks that disagree on a phase setting all get comm_error") {
  fulcrum::comm::thread_world world(4);
  const auto errors = world.try_run([&](fulcrum::comm::thread_world::endpoint& ep) {
    const auto samples = fulcrum::testing::generate_w1(40, 7 + ep.rank());
    auto phases = fulcrum::testing::multimodal_phases(samples, {});
    if (ep.rank() == 2) phases[0].mode = fulcrum::phase_mode::keep;
    fulcrum::orchestrator_options o;
    (void)fulcrum::orchestrate_distributed(ep, samples.size(), phases, o);
  });
  for (const auto& e : errors) CHECK_THROWS_AS(std::rethrow_exception(e), fulcrum::comm_error);
}

TEST_CASE("orchestrator plan: bad input names the phase and the field") {
  const auto w = make_workload(50, 4);
  fulcrum::orchestrator_options o;
  o.ranks = 4;
  auto msg = [&](auto mutate, fulcrum::orchestrator_options oo) {
    auto phases = w.phases;
    auto origin = w.origin;
    mutate(phases, origin);
    try {
      (void)fulcrum::orchestrate(origin, phases, oo);
    } catch (const fulcrum::invalid_input& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  using P = std::vector<orchestrator_phase>;
  using O = std::vector<index_type>;
  CHECK(msg([](P& p, O&) { p[0].costs.pop_back(); }, o).find("phases[0] ('vision').costs.size()") != std::string::npos);
  CHECK(msg([](P& p, O&) { p[1].output_bytes.push_back(1); }, o).find("('audio').output_bytes.size()") !=
        std::string::npos);
  CHECK(msg([](P& p, O&) { p[0].sample_of[0] = 999; }, o).find("sample_of") != std::string::npos);
  CHECK(msg([](P& p, O&) { p[1].consumes = {2}; }, o).find("consumes") != std::string::npos);
  CHECK(msg([](P& p, O&) { p[1].consumes = {0}; }, o).find("('audio').per_item") != std::string::npos);
  CHECK(msg([](P& p, O&) { p[2].sample_of = {0}; }, o).find("('llm').sample_of.size()") != std::string::npos);
  CHECK(msg([](P& p, O&) { p[2].costs[3] = -1; }, o).find("('llm').costs") != std::string::npos);
  CHECK(msg([](P& p, O&) { p[2].costs[3] = std::nan(""); }, o).find("NaN") != std::string::npos);
  CHECK(msg([](P&, O& g) { g[0] = 9; }, o).find("origin") != std::string::npos);
  CHECK(msg([](P& p, O&) { p[2].memory_cap = 1; }, o).find("memory_cap") != std::string::npos);
  CHECK(msg([](P& p, O&) { p[2].memory_cap = 5000; }, o).find("memory_cap") != std::string::npos);
  auto zero = o;
  zero.ranks = 0;
  CHECK(msg([](P&, O&) {}, zero).find("ranks") != std::string::npos);
  auto big = o;
  big.ranks = 5000;
  CHECK(msg([](P&, O&) {}, big).find("4096") != std::string::npos);
}

TEST_CASE("W1 audio: shape as documented and prefixes stable") {
  const auto a = fulcrum::testing::generate_w1_audio(20000);
  const auto prefix = fulcrum::testing::generate_w1_audio(500);
  CHECK(std::equal(prefix.begin(), prefix.end(), a.begin()));
  std::size_t with = 0;
  double sum = 0;
  for (const auto v : a) {
    if (v == 0) continue;
    ++with;
    sum += v;
    CHECK(v % fulcrum::testing::w1_audio_tokens_per_second == 0);
    CHECK(v >= 25);
    CHECK(v <= 750);
  }
  const double frac = static_cast<double>(with) / 20000.0, mean = sum / static_cast<double>(with);
  MESSAGE("audio: fraction " << frac << ", mean tokens " << mean);
  CHECK(frac == doctest::Approx(0.30).epsilon(0.05));
  CHECK(mean == doctest::Approx(260).epsilon(0.05));
}

TEST_CASE("orchestrator plan: a memory cap below the balanced plan's peak is repaired and held") {
  const std::size_t k = 8;
  auto w = make_workload(400, k);
  fulcrum::orchestrator_options o;
  o.ranks = k;
  o.ranks_per_node = 4;
  const auto free_plan = fulcrum::orchestrate(w.origin, w.phases, o);
  const auto& mem = free_plan.phases[2].memory;
  const std::uint64_t peak = *std::max_element(mem.begin(), mem.end());
  std::uint64_t total = 0, biggest = 0;
  for (auto v : w.phases[2].memory) {
    total += v;
    biggest = std::max(biggest, v);
  }
  const std::uint64_t cap = std::max({biggest, total / k + biggest / 2, peak - peak / 50});
  REQUIRE(cap < peak);  // the balanced plan breaks the cap: the repair must act
  w.phases[2].memory_cap = cap;
  const auto plan = fulcrum::orchestrate(w.origin, w.phases, o);
  check_plan(plan, w.origin, w.phases);
  for (const auto m : plan.phases[2].memory) CHECK(m <= cap);
}

TEST_CASE("orchestrator plan: a bad local input fails on its rank and gives comm_error on the others") {
  fulcrum::comm::thread_world world(4);
  const auto errors = world.try_run([&](fulcrum::comm::thread_world::endpoint& ep) {
    const auto samples = fulcrum::testing::generate_w1(40, 3 + ep.rank());
    auto phases = fulcrum::testing::multimodal_phases(samples, {});
    if (ep.rank() == 1) phases[2].costs.pop_back();
    (void)fulcrum::orchestrate_distributed(ep, samples.size(), phases, fulcrum::orchestrator_options{});
  });
  CHECK_THROWS_AS(std::rethrow_exception(errors[1]), fulcrum::invalid_input);
  for (std::size_t r : {0u, 2u, 3u}) CHECK_THROWS_AS(std::rethrow_exception(errors[r]), fulcrum::comm_error);
}

TEST_CASE("orchestrator plan: equal-count relabelling keeps at least as many bytes home as any fixed labelling") {
  // k = 3: brute force over the 3! labellings of balance()'s parts; the greedy matching is a
  // 1/2-approximation of the best labelling.
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    const std::size_t k = 3;
    auto w = make_workload(60, k, seed);
    w.phases.resize(1);
    w.phases[0].mode = fulcrum::phase_mode::equal_count;
    fulcrum::orchestrator_options o;
    o.ranks = k;
    const auto plan = fulcrum::orchestrate(w.origin, w.phases, o);
    check_plan(plan, w.origin, w.phases);
    const auto& a = plan.phases[0];
    auto kept = [&](const std::vector<std::size_t>& label) {  // label[r] = rank that part on r moves to
      std::uint64_t b = 0;
      for (std::size_t j = 0; j < a.rank.size(); ++j)
        if (label[a.rank[j]] == a.current_rank[j]) b += w.phases[0].input_bytes[j];
      return b;
    };
    std::vector<std::size_t> label{0, 1, 2};
    const std::uint64_t mine = kept(label);
    std::uint64_t best = 0;
    do best = std::max(best, kept(label));
    while (std::next_permutation(label.begin(), label.end()));
    CHECK(2 * mine >= best);
  }
}
