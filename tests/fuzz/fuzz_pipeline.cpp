// Fuzz target: pipeline planning front doors on decoded random instances.
//
// The first byte picks the front door:
// - partition_stages: n <= 48 layer costs (small integers, wide dynamic range, or raw doubles incl.
//   NaN/inf/negative), p in [0, 52], optional per-stage speed / fixed cost / memory caps with layer
//   memories (values up to 2^64, so memory sums overflow), every stage_algorithm. A valid
//   instance must give boundaries 0 = b0 < ... < bp = n (no empty stage), stage costs recomputed by
//   the documented formula, bottleneck = the largest of them, caps respected, proven_optimal, the
//   same bottleneck from every exact algorithm (nicol's boundaries = exact_bisection's, as
//   documented), and, for n <= 12, the brute-force optimum; an infeasible memory cap must be
//   `infeasible` exactly when brute force finds no assignment.
// - simulate_schedule: GPipe / 1F1B / interleaved with random stage times, micro-batches, chunks and
//   transfer time. Checked: every operation recorded once, no overlap on a device, every data
//   dependency (plus transfer) respected, iteration time = last end >= busy time of every device,
//   busy time recomputed, bubble in [0, 1), the documented peaks (GPipe m, 1F1B min(m, p - d)).
// - select_recompute: <= 10 layers of <= 4 options {memory, time}, a budget, every algorithm under a
//   small node limit. Checked: one valid choice per layer, memory and time recomputed, memory <=
//   budget, lower_bound <= brute-force optimum <= time, proven_optimal => time == optimum.
// Invalid input must throw invalid_input / infeasible as documented, nothing else.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include <fulcrum/pipeline/partition.hpp>
#include <fulcrum/pipeline/schedule.hpp>
#include <fulcrum/recompute/select.hpp>

#include "fuzz_support.hpp"

namespace {

using u128 = unsigned __int128;

enum class expect { ok, invalid, infeasible };

template <class Run>
void expect_outcome(expect e, const char* what, Run&& run) {
  try {
    run();
    if (e != expect::ok) {
      std::fprintf(stderr, "%s: accepted input it must reject (%s expected)\n", what,
                   e == expect::invalid ? "invalid_input" : "infeasible");
      std::abort();
    }
  } catch (const fulcrum::infeasible& ex) {
    if (e != expect::infeasible) {
      std::fprintf(stderr, "%s: unexpected infeasible: %s\n", what, ex.what());
      std::abort();
    }
  } catch (const fulcrum::invalid_input& ex) {
    if (e != expect::invalid) {
      std::fprintf(stderr, "%s: unexpected invalid_input: %s\n", what, ex.what());
      std::abort();
    }
  }
}

double draw_cost(fuzz::byte_reader& in, unsigned cls) {
  switch (cls % 5) {
    case 0: return in.take<std::uint8_t>();
    case 1: return in.take<std::uint16_t>() / 16.0;
    case 2: return std::ldexp(1.0 + in.take<std::uint8_t>() / 256.0, static_cast<int>(in.take<std::uint8_t>() % 200) - 60);
    case 3: return in.take<double>();  // anything: NaN, inf, negative, subnormal, 1e308
    default: return (in.take<std::uint8_t>() & 7) == 0 ? 0.0 : 1.0;
  }
}

bool valid_cost(double c) { return std::isfinite(c) && c >= 0; }

std::uint64_t draw_memory(fuzz::byte_reader& in, unsigned cls) {
  switch (cls % 4) {
    case 0: return in.take<std::uint8_t>() % 16;
    case 1: return in.take<std::uint16_t>();
    case 2: return std::numeric_limits<std::uint64_t>::max() - in.take<std::uint8_t>();
    default: return in.take<std::uint64_t>();
  }
}

// ---------------------------------------------------------------- partition_stages

/// The documented stage cost: fixed[s] + (P[j] - P[i]) / speed[s], P the running prefix sums.
struct spec_chain {
  std::vector<double> prefix, speed, fixed;
  std::vector<std::uint64_t> mem, cap;
  double cost(std::size_t s, std::size_t i, std::size_t j) const { return fixed[s] + (prefix[j] - prefix[i]) / speed[s]; }
  bool fits(std::size_t s, std::size_t i, std::size_t j) const {
    if (cap.empty()) return true;
    u128 m = 0;
    for (std::size_t l = i; l < j; ++l) m += mem[l];
    return m <= cap[s];
  }
};

/// Brute force over all boundary vectors: the least bottleneck of a cap-respecting partition
/// (infinity when none exists).
double brute_force(const spec_chain& c, std::size_t n, std::size_t p) {
  double best = std::numeric_limits<double>::infinity();
  std::vector<std::size_t> b(p + 1, 0);
  b[p] = n;
  std::function<void(std::size_t, double)> rec = [&](std::size_t s, double worst) {
    const std::size_t i = b[s];
    if (s + 1 == p) {
      if (!c.fits(s, i, n)) return;
      best = std::min(best, std::max(worst, c.cost(s, i, n)));
      return;
    }
    for (std::size_t j = i + 1; j + (p - s - 1) <= n; ++j) {
      if (!c.fits(s, i, j)) continue;
      b[s + 1] = j;
      rec(s + 1, std::max(worst, c.cost(s, i, j)));
    }
  };
  rec(0, -std::numeric_limits<double>::infinity());
  return best;
}

void fuzz_partition(fuzz::byte_reader& in) {
  const std::uint8_t flags = in.take<std::uint8_t>();
  const auto algorithm = static_cast<fulcrum::stage_algorithm>(in.take<std::uint8_t>() % 4);
  const unsigned cost_class = in.take<std::uint8_t>();
  const std::size_t n = in.in_range(0, 48);
  const std::size_t p = in.in_range(0, 52);
  std::vector<double> costs(n);
  bool invalid = p == 0 || n == 0 || p > n;
  for (auto& c : costs) {
    c = draw_cost(in, cost_class);
    invalid = invalid || !valid_cost(c);
  }
  fulcrum::pipeline_options opts;
  opts.algorithm = algorithm;
  const bool mismatch = (flags & 0x80) && (flags & 0x40);  // rarely: a wrongly sized option vector
  const std::size_t ps = mismatch ? p + 1 : p;
  if (flags & 1) {
    for (std::size_t s = 0; s < ps; ++s) {
      const std::uint8_t v = in.take<std::uint8_t>();
      opts.stage_speed.push_back(v == 255 ? in.take<double>() : v / 32.0);  // 0 is invalid; raw doubles anything
    }
  }
  if (flags & 2)
    for (std::size_t s = 0; s < ps; ++s) opts.stage_fixed_cost.push_back(draw_cost(in, in.take<std::uint8_t>() % 3));
  if (flags & 4)
    for (std::size_t l = 0; l < (mismatch ? n + 1 : n); ++l) opts.layer_memory.push_back(draw_memory(in, flags >> 4));
  if (flags & 8)
    for (std::size_t s = 0; s < ps; ++s) opts.stage_memory_cap.push_back(draw_memory(in, (flags >> 4) + 1) * 4);

  // Expected validity, from the documented contract.
  double sum = 0;
  for (double c : costs) sum += c;
  if (!std::isfinite(sum)) invalid = true;
  if (!opts.stage_speed.empty()) {
    if (opts.stage_speed.size() != p) invalid = true;
    for (double s : opts.stage_speed) invalid = invalid || !std::isfinite(s) || !(s > 0);
  }
  if (!opts.stage_fixed_cost.empty()) {
    if (opts.stage_fixed_cost.size() != p) invalid = true;
    for (double f : opts.stage_fixed_cost) invalid = invalid || !valid_cost(f);
  }
  if (!opts.stage_memory_cap.empty() && opts.layer_memory.empty()) invalid = true;
  if (!opts.layer_memory.empty()) {
    if (opts.layer_memory.size() != n) invalid = true;
    u128 total = 0;
    for (auto m : opts.layer_memory) total += m;
    if (total > std::numeric_limits<std::uint64_t>::max()) invalid = true;
    if (!opts.stage_memory_cap.empty() && opts.stage_memory_cap.size() != p) invalid = true;
  }
  spec_chain spec;
  if (!invalid) {
    spec.prefix.assign(n + 1, 0.0);
    for (std::size_t i = 0; i < n; ++i) spec.prefix[i + 1] = spec.prefix[i] + costs[i];
    spec.speed = opts.stage_speed.empty() ? std::vector<double>(p, 1.0) : opts.stage_speed;
    spec.fixed = opts.stage_fixed_cost.empty() ? std::vector<double>(p, 0.0) : opts.stage_fixed_cost;
    if (!opts.stage_memory_cap.empty()) {
      spec.mem = opts.layer_memory;
      spec.cap = opts.stage_memory_cap;
    }
    bool homogeneous = true;
    for (std::size_t s = 1; s < p; ++s)
      homogeneous = homogeneous && spec.speed[s] == spec.speed[0] && spec.fixed[s] == spec.fixed[0] &&
                    (spec.cap.empty() || spec.cap[s] == spec.cap[0]);
    if (algorithm == fulcrum::stage_algorithm::nicol && !homogeneous) invalid = true;
  }
  // A stage cost that overflows to infinity (huge fixed cost, tiny speed) is outside what the
  // documented formula can represent: such instances are skipped, not judged.
  if (!invalid)
    for (std::size_t s = 0; s < p; ++s)
      if (!std::isfinite(spec.cost(s, 0, n))) return;

  const double optimum = !invalid && n <= 12 ? brute_force(spec, n, p) : 0.0;
  expect e = invalid ? expect::invalid : expect::ok;
  if (!invalid && n <= 12 && std::isinf(optimum)) e = expect::infeasible;
  if (!invalid && n > 12 && !spec.cap.empty()) {
    // Feasibility unknown without brute force: accept either, and check the plan when there is one.
    try {
      (void)fulcrum::partition_stages(costs, p, opts);
    } catch (const fulcrum::infeasible&) {
      return;
    }
  }
  fulcrum::stage_partition r;
  expect_outcome(e, "partition_stages", [&] { r = fulcrum::partition_stages(costs, p, opts); });
  if (e != expect::ok) return;

  fuzz::require(r.boundaries.size() == p + 1 && r.boundaries.front() == 0 && r.boundaries.back() == n,
                "boundaries: p + 1 entries from 0 to n");
  for (std::size_t s = 0; s < p; ++s) fuzz::require(r.boundaries[s] < r.boundaries[s + 1], "no empty stage");
  fuzz::require(r.stage_costs.size() == p, "one cost per stage");
  double worst = 0;
  for (std::size_t s = 0; s < p; ++s) {
    const double c = spec.cost(s, r.boundaries[s], r.boundaries[s + 1]);
    fuzz::require(c == r.stage_costs[s], "stage cost recomputed by the documented formula");
    fuzz::require(spec.fits(s, r.boundaries[s], r.boundaries[s + 1]), "stage within its memory cap");
    worst = std::max(worst, c);
  }
  fuzz::require(worst == r.bottleneck, "bottleneck = largest stage cost");
  fuzz::require(r.proven_optimal, "partition_stages is exact");
  if (n <= 12) fuzz::require(r.bottleneck == optimum, "bottleneck = brute-force optimum");
  // Every exact algorithm agrees on the bottleneck.
  for (auto other : {fulcrum::stage_algorithm::exact_bisection, fulcrum::stage_algorithm::dynamic_programming}) {
    auto o = opts;
    o.algorithm = other;
    const auto q = fulcrum::partition_stages(costs, p, o);
    fuzz::require(q.bottleneck == r.bottleneck, "every exact algorithm finds the same bottleneck");
    if (algorithm == fulcrum::stage_algorithm::nicol && other == fulcrum::stage_algorithm::exact_bisection)
      fuzz::require(q.boundaries == r.boundaries, "nicol's boundaries are exact_bisection's");
  }
}

// ---------------------------------------------------------------- simulate_schedule

void fuzz_schedule(fuzz::byte_reader& in) {
  fulcrum::schedule_options opts;
  opts.kind = static_cast<fulcrum::pipeline_schedule>(in.take<std::uint8_t>() % 3);
  const std::uint8_t shape = in.take<std::uint8_t>();
  std::size_t devices = in.in_range(0, 8);
  opts.virtual_stages = in.in_range(0, 4);
  opts.micro_batches = in.in_range(0, 24);
  if ((shape & 3) != 0 && opts.kind == fulcrum::pipeline_schedule::interleaved_1f1b && devices > 0)
    opts.micro_batches = devices * (1 + opts.micro_batches % 4);  // mostly valid interleaved shapes
  if ((shape & 3) != 0 && opts.kind != fulcrum::pipeline_schedule::interleaved_1f1b) opts.virtual_stages = 1;
  const unsigned cls = in.take<std::uint8_t>();
  opts.p2p_time = (shape & 4) ? draw_cost(in, cls) : 0.0;
  opts.record_timeline = true;
  const std::size_t Q = devices * std::max<std::size_t>(opts.virtual_stages, 1) + ((shape & 0x70) == 0x70 ? 1 : 0);
  std::vector<double> f(Q), b((shape & 0x80) && (shape & 8) ? Q + 1 : Q);
  for (auto& x : f) x = draw_cost(in, cls);
  for (auto& x : b) x = draw_cost(in, cls);
  if (shape & 8) {
    opts.activation_memory.resize(Q);
    for (auto& x : opts.activation_memory) x = draw_cost(in, cls);
  }
  const std::size_t m = opts.micro_batches, v = opts.virtual_stages;
  bool invalid = Q == 0 || b.size() != Q || m == 0 || v == 0 || !valid_cost(opts.p2p_time);
  if (!invalid) {
    invalid = (v > 1 && opts.kind != fulcrum::pipeline_schedule::interleaved_1f1b) || Q % v != 0;
    if (!invalid && opts.kind == fulcrum::pipeline_schedule::interleaved_1f1b && m % (Q / v) != 0) invalid = true;
  }
  for (double x : f) invalid = invalid || !valid_cost(x);
  for (double x : b) invalid = invalid || !valid_cost(x);
  for (double x : opts.activation_memory) invalid = invalid || !valid_cost(x);
  fulcrum::schedule_result r;
  expect_outcome(invalid ? expect::invalid : expect::ok, "simulate_schedule",
                 [&] { r = fulcrum::simulate_schedule(f, b, opts); });
  if (invalid) return;
  // Sums of finite times can still overflow: then nothing below is meaningful.
  double total = opts.p2p_time * static_cast<double>(2 * Q);
  for (std::size_t q = 0; q < Q; ++q) total += (f[q] + b[q]) * static_cast<double>(m);
  if (!std::isfinite(total) || total > 1e300) return;

  const std::size_t p = Q / v;
  fuzz::require(r.timeline.size() == p && r.busy_time.size() == p && r.peak_in_flight.size() == p, "per-device results");
  std::vector<double> f_end(Q * m, -1), b_end(Q * m, -1), f_start(Q * m, -1), b_start(Q * m, -1);
  double last = 0;
  for (std::size_t d = 0; d < p; ++d) {
    fuzz::require(r.timeline[d].size() == 2 * m * v, "every operation of a device recorded");
    double free_at = 0, busy = 0;
    for (const auto& op : r.timeline[d]) {
      fuzz::require(op.virtual_stage < Q && op.micro_batch < m && op.virtual_stage % p == d, "operation on its device");
      const double dur = op.forward ? f[op.virtual_stage] : b[op.virtual_stage];
      fuzz::require(op.start >= free_at, "no overlap on a device");
      fuzz::require(op.end == op.start + dur, "operation takes its time");
      auto& end = (op.forward ? f_end : b_end)[op.virtual_stage * m + op.micro_batch];
      auto& start = (op.forward ? f_start : b_start)[op.virtual_stage * m + op.micro_batch];
      fuzz::require(end < 0, "operation scheduled once");
      end = op.end;
      start = op.start;
      free_at = op.end;
      busy += dur;
      last = std::max(last, op.end);
    }
    fuzz::require(std::fabs(busy - r.busy_time[d]) <= 1e-9 * std::max(1.0, busy), "busy time recomputed");
    fuzz::require(r.iteration_time >= r.busy_time[d] * (1 - 1e-12), "iteration time >= busy time");
    if (opts.kind == fulcrum::pipeline_schedule::gpipe) fuzz::require(r.peak_in_flight[d] == m, "GPipe holds m");
    if (opts.kind == fulcrum::pipeline_schedule::one_f_one_b)
      fuzz::require(r.peak_in_flight[d] == std::min(m, p - d), "1F1B holds min(m, p - d)");
  }
  fuzz::require(r.iteration_time == last, "iteration time = last end");
  const double c = opts.p2p_time;
  const double tol = 1e-9 * std::max(1.0, r.iteration_time);
  for (std::size_t q = 0; q < Q; ++q)
    for (std::size_t i = 0; i < m; ++i) {
      const std::size_t k = q * m + i;
      if (q > 0) {
        const double hop = (q - 1) % p == q % p ? 0.0 : c;
        fuzz::require(f_start[k] + tol >= f_end[k - m] + hop, "F waits for the previous stage's F");
      }
      fuzz::require(b_start[k] + tol >= f_end[k], "B waits for its own F");
      if (q + 1 < Q) {
        const double hop = (q + 1) % p == q % p ? 0.0 : c;
        fuzz::require(b_start[k] + tol >= b_end[k + m] + hop, "B waits for the next stage's B");
      }
    }
  fuzz::require(r.bubble_fraction >= -1e-12 && r.bubble_fraction < 1.0 + 1e-12, "bubble fraction in [0, 1]");
}

// ---------------------------------------------------------------- select_recompute

void fuzz_recompute(fuzz::byte_reader& in) {
  fulcrum::recompute_options opts;
  opts.algorithm = static_cast<fulcrum::recompute_algorithm>(in.take<std::uint8_t>() % 4);
  opts.limits.nodes = 1 + in.take<std::uint16_t>() % 4000;
  const unsigned mem_class = in.take<std::uint8_t>();
  const unsigned time_class = in.take<std::uint8_t>();
  const std::size_t layers = in.in_range(0, 10);
  std::vector<std::vector<fulcrum::recompute_option>> options(layers);
  bool invalid = layers == 0;
  u128 min_memory = 0;
  std::size_t combinations = 1;
  for (auto& layer : options) {
    layer.resize(in.in_range(mem_class & 0x80 ? 0 : 1, 4));
    std::uint64_t lo = std::numeric_limits<std::uint64_t>::max();
    for (auto& o : layer) {
      o.memory = draw_memory(in, mem_class);
      o.time = draw_cost(in, time_class);
      invalid = invalid || !valid_cost(o.time);
      lo = std::min(lo, o.memory);
    }
    if (layer.empty()) invalid = true;
    else min_memory += lo;
    combinations *= std::max<std::size_t>(layer.size(), 1);
  }
  const std::uint64_t budget = draw_memory(in, mem_class >> 2);
  expect e = expect::ok;
  if (invalid || min_memory > std::numeric_limits<std::uint64_t>::max()) e = expect::invalid;
  else if (min_memory > budget) e = expect::infeasible;
  fulcrum::recompute_plan plan;
  expect_outcome(e, "select_recompute", [&] { plan = fulcrum::select_recompute(options, budget, opts); });
  if (e != expect::ok) return;

  fuzz::require(plan.choice.size() == layers, "one choice per layer");
  u128 memory = 0;
  double time = 0;
  for (std::size_t l = 0; l < layers; ++l) {
    fuzz::require(plan.choice[l] < options[l].size(), "choice is an option of its layer");
    memory += options[l][plan.choice[l]].memory;
    time += options[l][plan.choice[l]].time;
  }
  fuzz::require(memory <= budget, "memory within the budget");
  fuzz::require(memory == plan.memory, "memory recomputed");
  fuzz::require(time == plan.time, "time recomputed (layer order)");
  if (!std::isfinite(time)) return;  // sums of huge finite times overflow: nothing more to compare
  fuzz::require(fulcrum::testing::check_bound(plan.time, plan.lower_bound), "time >= lower_bound");
  if (combinations <= 4096) {
    double best = std::numeric_limits<double>::infinity();
    std::vector<std::size_t> pick(layers, 0);
    for (std::size_t c = 0; c < combinations; ++c) {
      std::size_t rest = c;
      u128 mem = 0;
      double t = 0;
      for (std::size_t l = 0; l < layers; ++l) {
        pick[l] = rest % options[l].size();
        rest /= options[l].size();
        mem += options[l][pick[l]].memory;
        t += options[l][pick[l]].time;
      }
      if (mem <= budget) best = std::min(best, t);
    }
    const double tol = 1e-9 * std::max(1.0, best);
    fuzz::require(plan.lower_bound <= best + tol, "lower_bound <= brute-force optimum");
    if (plan.proven_optimal) fuzz::require(std::fabs(plan.time - best) <= tol, "proven optimal = brute-force optimum");
    if (opts.algorithm == fulcrum::recompute_algorithm::dynamic_programming && opts.limits.nodes >= combinations * layers)
      fuzz::require(plan.proven_optimal, "frontier DP within its state limit is exact");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::byte_reader in(data, size);
  switch (in.take<std::uint8_t>() % 3) {
    case 0: fuzz_partition(in); break;
    case 1: fuzz_schedule(in); break;
    default: fuzz_recompute(in); break;
  }
  return 0;
}
