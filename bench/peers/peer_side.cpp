// fulcrum side of the peer comparison (bench/peers/run.sh).
//   fulcrum_peer_side write DIR [--smoke]   writes the instances every tool runs on + manifest.json
//   fulcrum_peer_side run DIR OUT.json       times fulcrum on the same instances (single thread,
//                                            best of several runs of the algorithm call only)
// Instances: one number per line. The manifest records each case's parameters and fulcrum's lower
// bound (L2 for packing, max(sum/k, max, c_k + c_k+1) for balancing), so every tool's quality is
// measured against the same bound.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/packing/bounds.hpp>
#include <fulcrum/packing/pack.hpp>
#include <fulcrum/pipeline/partition.hpp>
#include <fulcrum/testing/workloads.hpp>

namespace {

struct case_spec {
  std::string name, kind, file;  // kind: pack | balance | pipeline
  std::uint64_t capacity = 0;    // pack
  std::size_t parts = 0;         // balance: k, pipeline: stages
  double bound = 0;              // pack: L2 bins, balance: makespan bound
};

template <class T>
void write_values(const std::string& path, const std::vector<T>& values) {
  std::ofstream out(path);
  out << std::setprecision(17);
  for (const auto& v : values) out << v << '\n';
}

std::vector<double> read_values(const std::string& path) {
  std::ifstream in(path);
  std::vector<double> v;
  for (double x; in >> x;) v.push_back(x);
  return v;
}

void write_manifest(const std::string& dir, const std::vector<case_spec>& cases) {
  std::ofstream out(dir + "/manifest.json");
  out << std::setprecision(17) << "[\n";
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    out << "  {\"name\": \"" << c.name << "\", \"kind\": \"" << c.kind << "\", \"file\": \"" << c.file
        << "\", \"capacity\": " << c.capacity << ", \"parts\": " << c.parts << ", \"bound\": " << c.bound << "}"
        << (i + 1 < cases.size() ? ",\n" : "\n");
  }
  out << "]\n";
}

std::vector<case_spec> read_manifest(const std::string& dir) {
  // The manifest is ours: one case per line, fields in a fixed order.
  std::ifstream in(dir + "/manifest.json");
  std::vector<case_spec> cases;
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"name\"") == std::string::npos) continue;
    auto field = [&](const std::string& key) {
      const auto at = line.find("\"" + key + "\": ") + key.size() + 4;
      const auto end = line.find_first_of(",}", at);
      std::string v = line.substr(at, end - at);
      if (!v.empty() && v.front() == '"') v = v.substr(1, v.size() - 2);
      return v;
    };
    case_spec c;
    c.name = field("name");
    c.kind = field("kind");
    c.file = field("file");
    c.capacity = std::stoull(field("capacity"));
    c.parts = std::stoull(field("parts"));
    c.bound = std::stod(field("bound"));
    cases.push_back(c);
  }
  return cases;
}

int write_instances(const std::string& dir, bool smoke) {
  std::vector<case_spec> cases;
  const std::uint64_t cap = 8192;
  for (std::size_t n : smoke ? std::vector<std::size_t>{2000} : std::vector<std::size_t>{100000, 1000000}) {
    auto tokens = fulcrum::testing::generate_w1_tokens(n);
    std::vector<std::uint64_t> sizes(tokens.begin(), tokens.end());
    for (auto& s : sizes) s = std::min(s, cap);  // items truncated to the capacity
    const std::string name = "pack_w1_" + std::to_string(n);
    write_values(dir + "/" + name + ".txt", sizes);
    cases.push_back({name, "pack", name + ".txt", cap, 0, static_cast<double>(fulcrum::lower_bound_l2(sizes, cap))});
  }
  const std::size_t n_bal = smoke ? 4096 : 65536, k_bal = smoke ? 64 : 512;
  const auto w1 = fulcrum::testing::generate_w1(n_bal);
  for (bool attention : {false, true}) {
    std::vector<double> costs;
    for (const auto& s : w1) costs.push_back(attention ? fulcrum::attention_cost{}(s.tokens()) : static_cast<double>(s.tokens()));
    const std::string name = std::string("balance_w1_") + std::to_string(n_bal) + "_k" + std::to_string(k_bal) +
                             (attention ? "_attention" : "_linear");
    write_values(dir + "/" + name + ".txt", costs);
    cases.push_back({name, "balance", name + ".txt", 0, k_bal, fulcrum::makespan_lower_bound(costs, k_bal)});
  }
  {  // a small instance for the exact (complete) solvers: W1 N=4096 (smoke: 64), k=8, linear
    const auto small = fulcrum::testing::generate_w1(smoke ? 64 : 4096, 7);
    std::vector<double> costs;
    for (const auto& s : small) costs.push_back(static_cast<double>(s.tokens()));
    const std::string name = "exact_w1_" + std::to_string(costs.size()) + "_k8";
    write_values(dir + "/" + name + ".txt", costs);
    cases.push_back({name, "exact", name + ".txt", 0, 8, fulcrum::makespan_lower_bound(costs, 8)});
  }
  for (const char* profile : {"vlm130", "vlm130j", "vlm520", "vlm1040"}) {
    if (smoke && std::string(profile) != "vlm130j") continue;
    const auto p = fulcrum::testing::pipeline_profile(profile);
    const std::string name = std::string("pipeline_") + profile + "_16";
    write_values(dir + "/" + name + ".txt", p.cost);
    cases.push_back({name, "pipeline", name + ".txt", 0, 16, 0});
  }
  {  // random small chains for the pipeline partitioners: "p w_1 ... w_n" per line
    fulcrum::rng gen(fulcrum::default_seed);
    std::ofstream chains(dir + "/chains.txt");
    for (int c = 0; c < (smoke ? 30 : 300); ++c) {
      const std::size_t n = 4 + gen.below(37);
      const std::size_t p = 2 + gen.below(std::min<std::size_t>(8, n) - 1);
      chains << p;
      for (std::size_t i = 0; i < n; ++i) chains << ' ' << 1 + gen.below(100);
      chains << '\n';
    }
  }
  write_manifest(dir, cases);
  std::printf("wrote %zu instances to %s\n", cases.size(), dir.c_str());
  return 0;
}

// Best wall time over runs (at least 3, until 1 s has been spent), in seconds.
double best_time(const std::function<void()>& call) {
  double best = 1e300, spent = 0;
  for (int run = 0; run < 3 || (spent < 1.0 && run < 50); ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    call();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
    spent += s;
  }
  return best;
}

int run_fulcrum(const std::string& dir, const std::string& out_path) {
  std::ofstream out(out_path);
  out << std::setprecision(10) << "[\n";
  bool first = true;
  auto row = [&](const std::string& name, const std::string& peer, double seconds, double quality, const std::string& note) {
    out << (first ? "" : ",\n") << "  {\"case\": \"" << name << "\", \"peer\": \"" << peer << "\", \"seconds\": " << seconds
        << ", \"status\": \"ok\", \"quality\": " << quality << ", \"note\": \"" << note << "\"}";
    first = false;
    std::printf("%-32s %-36s %10.3f ms  quality %.6f %s\n", name.c_str(), peer.c_str(), seconds * 1e3, quality, note.c_str());
  };
  for (const auto& c : read_manifest(dir)) {
    const auto values = read_values(dir + "/" + c.file);
    if (c.kind == "pack") {
      std::vector<std::uint64_t> sizes(values.begin(), values.end());
      for (auto alg : {fulcrum::pack_algorithm::automatic, fulcrum::pack_algorithm::best_fit_decreasing,
                       fulcrum::pack_algorithm::first_fit_decreasing}) {
        fulcrum::pack_options opts;
        opts.algorithm = alg;
        fulcrum::packing result;
        const double s = best_time([&] { result = fulcrum::pack(sizes, c.capacity, opts); });
        const char* label = alg == fulcrum::pack_algorithm::automatic ? "fulcrum pack automatic"
                            : alg == fulcrum::pack_algorithm::best_fit_decreasing ? "fulcrum best_fit_decreasing"
                                                                                  : "fulcrum first_fit_decreasing";
        row(c.name, label, s, static_cast<double>(result.bins.size()), "bins");
      }
    } else if (c.kind == "balance" || c.kind == "exact") {
      using alg_t = fulcrum::balance_algorithm;
      const std::vector<std::pair<alg_t, const char*>> algs =
          c.kind == "exact" ? std::vector<std::pair<alg_t, const char*>>{{alg_t::complete, "fulcrum balance complete"}}
                            : std::vector<std::pair<alg_t, const char*>>{{alg_t::automatic, "fulcrum balance automatic"},
                                                                        {alg_t::greedy, "fulcrum greedy (LPT)"},
                                                                        {alg_t::karmarkar_karp, "fulcrum karmarkar_karp"}};
      for (auto [alg, label] : algs) {
        fulcrum::balance_options opts;
        opts.algorithm = alg;
        opts.limits.time = std::chrono::milliseconds(60000);
        fulcrum::partition result;
        const double s = best_time([&] { result = fulcrum::balance(values, c.parts, opts); });
        row(c.name, label, s, result.makespan / c.bound, result.proven_optimal ? "proven optimal" : "makespan/bound");
      }
    } else if (c.kind == "pipeline") {
      fulcrum::stage_partition result;
      const double s = best_time([&] { result = fulcrum::partition_stages(values, c.parts); });
      row(c.name, "fulcrum partition_stages (exact)", s, result.bottleneck, "bottleneck (optimum)");
    }
  }
  {  // random small chains: fulcrum's bottleneck per chain (report.py compares with the exact DP)
    std::ifstream chains(dir + "/chains.txt");
    std::vector<double> bottlenecks;
    double seconds = 0;
    for (std::string line; std::getline(chains, line);) {
      std::istringstream fields(line);
      std::size_t p = 0;
      fields >> p;
      std::vector<double> w;
      for (double x; fields >> x;) w.push_back(x);
      fulcrum::stage_partition result;
      seconds += best_time([&] { result = fulcrum::partition_stages(w, p); });
      bottlenecks.push_back(result.bottleneck);
    }
    out << (first ? "" : ",\n") << "  {\"case\": \"chains\", \"peer\": \"fulcrum partition_stages (exact)\", \"seconds\": "
        << seconds << ", \"status\": \"ok\", \"quality\": [";
    for (std::size_t i = 0; i < bottlenecks.size(); ++i) out << (i ? ", " : "") << bottlenecks[i];
    out << "], \"note\": \"bottleneck per chain\"}";
  }
  out << "\n]\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 2 && args[0] == "write") return write_instances(args[1], args.size() > 2 && args[2] == "--smoke");
  if (args.size() == 3 && args[0] == "run") return run_fulcrum(args[1], args[2]);
  std::fprintf(stderr, "usage: fulcrum_peer_side write DIR [--smoke] | run DIR OUT.json\n");
  return 2;
}
