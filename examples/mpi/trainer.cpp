// A multimodal trainer step over MPI, every phase balanced: `mpirun -np 8 ./mpi_trainer 4` (8 ranks
// in 2 simulated nodes of 4; the argument is ranks per node). Without the argument the nodes are
// the communicator's (comm/mpi.hpp): FULCRUM_RANKS_PER_NODE if set (`mpirun -x
// FULCRUM_RANKS_PER_NODE=4 -np 8 ./mpi_trainer`), else the real nodes from MPI_COMM_TYPE_SHARED
// (on a cluster: `mpirun -np 16 --map-by ppr:8:node ./mpi_trainer` gives 2 nodes of 8).
//
// Each step, every rank loads its own uneven shard of W1 samples (text + images) with W1 audio, then:
//   1. fulcrum::orchestrate_distributed plans three phases (vision encoder per image, audio encoder
//      per clip, LLM per sample) from the all-gathered sizes, the same plan on every rank (hash
//      checked); each phase starts from where its data is (post_balance, inter-node bytes first);
//   2. raw data moves along the plan's routes (pixels, audio, text ids: real bytes, scaled down
//      4096x), with the flat or the node-wise all-to-all, whichever the bandwidth model prefers;
//   3. each rank runs the vision "encoder" (deterministic work proportional to the phase cost,
//      embeddings derived from the pixels), starts the vision -> LLM exchange without blocking,
//      runs the audio encoder meanwhile, then moves the audio embeddings;
//   4. the LLM rank of every sample checks it holds every image's and the clip's embedding exactly
//      once and that each matches its source bytes, does the LLM work, and sends gradients back
//      along the reversed routes; every encoder rank checks it got back exactly the gradients of
//      the items it encoded, each matching what it produced.
// Any failure (a crashed peer, a timeout, ranks disagreeing on the plan) surfaces as
// fulcrum::comm_error on every rank instead of a hang.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <fulcrum/comm/hierarchical.hpp>
#include <fulcrum/comm/mpi.hpp>
#include <fulcrum/dispatch/orchestrator.hpp>
#include <fulcrum/dispatch/route_exchange.hpp>
#include <fulcrum/parallel/sequence_parallel.hpp>
#include <fulcrum/testing/multimodal_step.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}
std::vector<std::byte> fill(std::uint64_t seed, std::size_t len) {
  std::vector<std::byte> v(len);
  std::uint64_t s = mix(seed + 1);
  for (std::size_t j = 0; j < len; ++j) {
    if (j % 8 == 0) s = mix(s + j);
    v[j] = static_cast<std::byte>((s >> (8 * (j % 8))) & 0xff);
  }
  return v;
}
std::uint64_t checksum(std::span<const std::byte> b) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (auto x : b) h = (h ^ std::to_integer<std::uint64_t>(x)) * 0x100000001b3ULL;
  return h;
}
// A fake encoder/LLM: work proportional to the cost, result depends only on the input.
volatile double sink = 0;
double burn(double cost) {
  double acc = 0;
  for (long i = 0; i < static_cast<long>(cost / 8); ++i)
    acc += static_cast<double>(mix(static_cast<std::uint64_t>(i)) & 7);
  return acc;
}
// Raw bytes of item i of phase q in step t; its embedding; the gradient of an embedding.
std::vector<std::byte> raw(std::uint64_t t, std::size_t q, std::size_t i, std::size_t len) {
  return fill(mix(t * 1000 + q) ^ i, len);
}
std::vector<std::byte> embed(std::span<const std::byte> input, std::size_t len) {
  return fill(checksum(input), len);
}
std::vector<std::byte> grad(std::span<const std::byte> emb) {
  return fill(~checksum(emb), emb.size());
}

// --figures: plan one step of 256 samples per rank on average (skewed shards as below, real byte
// sizes) over MPI under four configurations and print a docs/benchmarks.md row each, the model of
// bench/bench_orchestrator.cpp: per-phase max/mean after (before), inter-node GB of all routes
// (consumed routes twice: gradients back), inter-node messages flat / node-wise, simulated compute
// (makespan x s per cost unit: ViT-L 4.5e-6, Whisper-large 9e-6, 7B LLM 1.05e-4), simulated
// exchange flat / best of flat and node-wise per route (900 GB/s intra, 50 GB/s inter per rank),
// step = compute + best exchange, planning wall time on rank 0. "fulcrum sp2": the LLM phase
// under Ulysses SP of degree 2 (phase_mode::sequence_parallel; pairs of ranks balanced as units).
void print_figures(fulcrum::comm::mpi_communicator& comm, std::size_t rpn) {
  const std::size_t p = comm.size(), me = comm.rank(), n = 256 * p;
  const auto all = fulcrum::testing::generate_w1(n, fulcrum::default_seed);
  const auto audio_all = fulcrum::testing::generate_w1_audio(n, fulcrum::default_seed);
  std::vector<std::size_t> base{0};
  for (std::size_t r = 0; r < p; ++r) base.push_back(base.back() + 2 * n * (r + 1) / (p * (p + 1)));
  base.back() = n;
  const std::size_t lo = base[me], hi = base[me + 1];
  struct config {
    const char* name;
    fulcrum::phase_mode encoders, llm;
  };
  const config configs[] = {
      {"none", fulcrum::phase_mode::keep, fulcrum::phase_mode::keep},
      {"llm-only", fulcrum::phase_mode::keep, fulcrum::phase_mode::scratch},
      {"scratch", fulcrum::phase_mode::scratch, fulcrum::phase_mode::scratch},
      {"fulcrum", fulcrum::phase_mode::placement_aware, fulcrum::phase_mode::placement_aware},
      {"fulcrum sp2", fulcrum::phase_mode::placement_aware, fulcrum::phase_mode::sequence_parallel}};
  const double sec_per_cost[3] = {4.5e-6, 9e-6, 1.05e-4};
  double none_step = 0;
  for (const auto& cfg : configs) {
    auto local = fulcrum::testing::multimodal_phases(std::span(all).subspan(lo, hi - lo),
                                                     std::span(audio_all).subspan(lo, hi - lo));
    local[0].mode = local[1].mode = cfg.encoders;
    local[2].mode = cfg.llm;
    if (cfg.llm == fulcrum::phase_mode::sequence_parallel) {
      // Ulysses SP of degree 2 in the LLM phase: per-GPU cost of a sequence (the phase's model
      // t + t^2/4096 on the padded length, halved; the all-to-all volume is not priced here).
      if (p % 2 != 0 || (rpn != 0 && rpn % 2 != 0)) continue;
      local[2].sp = fulcrum::sp_spec{2, 0};
      local[2].tokens = local[2].memory;
      local[2].memory.clear();
      local[2].memory_cap = 0;
      const fulcrum::sp_cost cost{fulcrum::attention_cost{}, 0.0, 2};
      for (std::size_t j = 0; j < local[2].tokens.size(); ++j) local[2].costs[j] = cost(local[2].tokens[j]);
    }
    fulcrum::orchestrator_options o;
    o.ranks_per_node = rpn;
    comm.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    const auto plan = fulcrum::orchestrate_distributed(comm, hi - lo, local, o);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (me != 0) continue;
    double compute = 0, inter = 0, flat_msgs = 0, hier_msgs = 0, flat_s = 0, best_s = 0;
    for (std::size_t q = 0; q < 3; ++q) compute += plan.phases[q].makespan() * sec_per_cost[q];
    for (const auto& rt : plan.routes) {
      const double times = rt.from_phase != fulcrum::phase_route::origin ? 2.0 : 1.0;
      const auto e = fulcrum::comm::choose_exchange(rt.bytes, p, rpn);
      inter += static_cast<double>(rt.bytes_inter_node) * times;
      flat_msgs += static_cast<double>(e.flat_inter_messages) * times;
      hier_msgs += static_cast<double>(e.hier_inter_messages) * times;
      flat_s += e.flat_seconds * times;
      best_s += std::min(e.flat_seconds, e.hierarchical_seconds) * times;
    }
    const double step = compute + best_s;
    if (cfg.llm == fulcrum::phase_mode::keep) none_step = step;
    std::printf("| %zu x %zu | %s |", p, rpn == 0 ? std::size_t{1} : p / rpn, cfg.name);
    for (std::size_t q = 0; q < 3; ++q) {
      const auto& a = plan.phases[q];
      const double mean = std::max(a.mean(), 1e-300);
      std::printf(" %.3f (%.3f) |", a.makespan() / mean, a.makespan_before() / mean);
    }
    std::printf(" %.3f | %.0f / %.0f | %.1f | %.2f / %.2f | %.1f | %.3fx | %.1f |\n", inter / 1e9, flat_msgs, hier_msgs,
                compute * 1e3, flat_s * 1e3, best_s * 1e3, step * 1e3, none_step / step, ms);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  int status = 0;
  try {
    fulcrum::comm::mpi_communicator comm;  // duplicates MPI_COMM_WORLD
    const std::size_t p = comm.size(), me = comm.rank();
    const char* rpn_arg = nullptr;
    bool figures = false;
    for (int i = 1; i < argc; ++i) {
      if (std::strcmp(argv[i], "--figures") == 0) {
        figures = true;
      } else {
        rpn_arg = argv[i];
      }
    }
    const std::size_t rpn = rpn_arg ? static_cast<std::size_t>(std::atoi(rpn_arg)) : comm.ranks_per_node();
    const std::string node_source = rpn_arg ? std::string("argument") : comm.node_source();
    if (figures) print_figures(comm, rpn);
    const bool overlap = provided >= MPI_THREAD_SERIALIZED;  // the nonblocking exchange uses a progress thread
    fulcrum::testing::multimodal_step_options so;
    so.bytes_divisor = 4096;
    for (std::uint64_t step = 0; step < 3; ++step) {
      // 1. This rank's shard (uneven: rank r holds about (r + 1) / mean of the average) and the plan.
      const std::size_t n = 48 * p;
      const auto all = fulcrum::testing::generate_w1(n, fulcrum::default_seed + step);
      const auto audio_all = fulcrum::testing::generate_w1_audio(n, fulcrum::default_seed + step);
      std::vector<std::size_t> base{0};
      for (std::size_t r = 0; r < p; ++r) base.push_back(base.back() + 2 * n * (r + 1) / (p * (p + 1)));
      base.back() = n;
      const std::size_t lo = base[me], hi = base[me + 1];
      const auto local = fulcrum::testing::multimodal_phases(std::span(all).subspan(lo, hi - lo),
                                                             std::span(audio_all).subspan(lo, hi - lo), so);
      fulcrum::orchestrator_options opts;
      opts.ranks_per_node = rpn;
      std::vector<fulcrum::orchestrator_phase> ph;  // the gathered phases (global item indices)
      const auto plan = fulcrum::orchestrate_distributed(comm, hi - lo, local, opts, &ph);
      // Global item index -> (origin rank's) ordinal: items are gathered rank by rank.
      auto method_of = [&](const fulcrum::phase_route& rt) {
        return fulcrum::comm::choose_exchange(rt.bytes, p, rpn).method;
      };
      bool ok = true;
      std::uint64_t inter = 0, moved = 0, hier_routes = 0;
      // 2. Raw data to the phase ranks (vision, audio, llm routes from the origin).
      std::vector<std::vector<std::vector<std::byte>>> input(3);  // input[q][item] on the rank that runs it
      for (const auto& rt : plan.routes) {
        if (rt.from_phase != fulcrum::phase_route::origin) continue;
        const std::size_t q = rt.to_phase;
        std::vector<std::byte> buf;
        const auto got = fulcrum::exchange_along(
            comm, rt,
            [&](fulcrum::index_type i) {
              buf = raw(step, q, i, static_cast<std::size_t>(rt.item_bytes[i]));
              return std::span<const std::byte>(buf);
            },
            method_of(rt), rpn);
        hier_routes += method_of(rt) == fulcrum::comm::exchange_method::hierarchical;
        inter += rt.bytes_inter_node;
        moved += rt.bytes_moved;
        input[q].resize(ph[q].costs.size());
        for (std::size_t x = 0; x < got.items.size(); ++x) {
          const auto i = got.items[x];
          ok = ok && input[q][i].empty() && plan.phases[q].rank[i] == me;  // exactly once, at its phase rank
          input[q][i].assign(got.payloads[x].begin(), got.payloads[x].end());
          const auto want = raw(step, q, i, static_cast<std::size_t>(rt.item_bytes[i]));
          ok = ok && input[q][i] == want;
        }
        for (const auto i : plan.phases[q].per_rank[me]) ok = ok && !input[q][i].empty() == (rt.item_bytes[i] > 0);
      }
      // 3. Encoders; the vision -> LLM exchange overlaps the audio encoder.
      std::vector<std::vector<std::vector<std::byte>>> emb(2);
      double work[3] = {0, 0, 0};
      auto encode = [&](std::size_t q) {
        emb[q].resize(ph[q].costs.size());
        for (const auto i : plan.phases[q].per_rank[me]) {
          sink = sink + burn(ph[q].costs[i]);
          work[q] += ph[q].costs[i];
          emb[q][i] = embed(input[q][i], static_cast<std::size_t>(ph[q].output_bytes[i]));
        }
      };
      auto route_of = [&](std::size_t from) -> const fulcrum::phase_route& {
        for (const auto& rt : plan.routes)
          if (rt.from_phase == from && rt.to_phase == 2) return rt;
        throw std::logic_error("no route");
      };
      encode(0);
      const auto& v2l = route_of(0);
      const auto& a2l = route_of(1);
      fulcrum::pending_route_exchange pending;
      std::vector<fulcrum::route_delivery> at_llm(2);
      auto emb_of = [&](std::size_t q) {
        return [&, q](fulcrum::index_type i) { return std::span<const std::byte>(emb[q][i]); };
      };
      if (overlap) {
        fulcrum::start_exchange_along(comm, v2l, emb_of(0), pending, method_of(v2l), rpn);
        encode(1);  // overlaps the exchange
        at_llm[0] = pending.wait();
      } else {
        at_llm[0] = fulcrum::exchange_along(comm, v2l, emb_of(0), method_of(v2l), rpn);
        encode(1);
      }
      at_llm[1] = fulcrum::exchange_along(comm, a2l, emb_of(1), method_of(a2l), rpn);
      for (const auto* rt : {&v2l, &a2l}) {
        inter += rt->bytes_inter_node;
        moved += rt->bytes_moved;
        hier_routes += method_of(*rt) == fulcrum::comm::exchange_method::hierarchical;
      }
      // 4. LLM: every sample here holds each of its images' and its clip's embedding exactly once.
      std::vector<std::size_t> want_parts(n, 0), have_parts(n, 0);
      for (std::size_t q = 0; q < 2; ++q)
        for (std::size_t i = 0; i < ph[q].sample_of.size(); ++i)
          if (plan.phases[2].rank[ph[q].sample_of[i]] == me) ++want_parts[ph[q].sample_of[i]];
      std::vector<std::vector<std::vector<std::byte>>> grads(2);
      for (std::size_t q = 0; q < 2; ++q) {
        grads[q].resize(ph[q].costs.size());
        const auto& d = at_llm[q];
        for (std::size_t x = 0; x < d.items.size(); ++x) {
          const auto i = d.items[x];
          const auto s = ph[q].sample_of[i];
          ok = ok && plan.phases[2].rank[s] == me && grads[q][i].empty();
          ++have_parts[s];
          // The embedding matches the raw bytes it came from (recomputed from the source).
          const auto want = embed(raw(step, q, i, static_cast<std::size_t>(ph[q].input_bytes[i])),
                                  static_cast<std::size_t>(ph[q].output_bytes[i]));
          ok = ok && std::equal(want.begin(), want.end(), d.payloads[x].begin(), d.payloads[x].end());
          grads[q][i] = grad(d.payloads[x]);
        }
      }
      ok = ok && want_parts == have_parts;
      for (const auto s : plan.phases[2].per_rank[me]) {
        sink = sink + burn(ph[2].costs[s]);
        work[2] += ph[2].costs[s];
      }
      // Backward: gradients to the encoder ranks along the reversed routes.
      for (std::size_t q = 0; q < 2; ++q) {
        const auto back = (q == 0 ? v2l : a2l).reversed();
        const auto ret = fulcrum::exchange_along(
            comm, back, [&](fulcrum::index_type i) { return std::span<const std::byte>(grads[q][i]); }, method_of(back),
            rpn);
        std::vector<int> seen(ph[q].costs.size(), 0);
        for (std::size_t x = 0; x < ret.items.size(); ++x) {
          const auto i = ret.items[x];
          ok = ok && plan.phases[q].rank[i] == me && ++seen[i] == 1;  // back at its owner, once
          const auto want = grad(emb[q][i]);
          ok = ok && std::equal(want.begin(), want.end(), ret.payloads[x].begin(), ret.payloads[x].end());
        }
        for (const auto i : plan.phases[q].per_rank[me]) ok = ok && seen[i] == 1;  // every one came back
      }
      const int all_ok = fulcrum::comm::all_reduce(comm, static_cast<int>(ok), fulcrum::min_op{});
      double ran[3];  // the work each rank actually ran, max / mean over ranks
      for (std::size_t q = 0; q < 3; ++q) {
        const double mx = fulcrum::comm::all_reduce(comm, work[q], fulcrum::max_op{});
        const double sum = fulcrum::comm::all_reduce(comm, work[q], std::plus<>{});
        ran[q] = sum > 0 ? mx / (sum / static_cast<double>(p)) : 1.0;
      }
      if (me == 0) {
        std::printf("step %llu: %zu samples, %zu images, %zu clips; plan %016llx\n",
                    static_cast<unsigned long long>(step), n, ph[0].costs.size(), ph[1].costs.size(),
                    static_cast<unsigned long long>(plan.hash));
        for (std::size_t q = 0; q < 3; ++q) {
          const auto& a = plan.phases[q];
          std::printf("  %-6s max/mean %.3f (before balancing %.3f, as run %.3f)\n", a.name.c_str(),
                      a.makespan() / std::max(a.mean(), 1e-300), a.makespan_before() / std::max(a.mean(), 1e-300),
                      ran[q]);
        }
        std::printf(
            "  bytes moved %llu (inter-node %llu), %llu of 5 forward exchanges node-wise, overlap %s, "
            "exactly-once and gradients back to owners: %s\n",
            static_cast<unsigned long long>(moved), static_cast<unsigned long long>(inter),
            static_cast<unsigned long long>(hier_routes), overlap ? "on" : "off", all_ok ? "ok" : "FAILED");
      }
      if (!all_ok) status = 1;
    }
    if (me == 0 && status == 0)
      std::printf("mpi trainer: done (%zu ranks, %zu per node from %s)\n", p, rpn, node_source.c_str());
  } catch (const fulcrum::comm_error& e) {
    std::fprintf(stderr, "communication failed: %s\n", e.what());
    status = 2;
  }
  MPI_Finalize();
  return status;
}
