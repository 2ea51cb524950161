// SPDX-License-Identifier: Apache-2.0
/// @file testing/communicator_conformance.hpp
/// The conformance suite every communicator backend must pass (RAFT's comms_test, as one
/// function). Call `run_communicator_conformance(c)` on every rank of a communicator; it runs
/// each collective with several element types, lengths (including 0), roots and count patterns,
/// and checks on every rank that the result equals what the collective's definition says,
/// computed locally from the formula each rank used for its input. After each check the ranks
/// agree (all_reduce of an ok flag), so a wrong result on one rank makes every rank throw
/// `conformance_failure` (carrying that rank's message) instead of drifting apart and hanging.
///
/// Checked: rank/size; barrier; broadcast from every root (int64, a struct); all_reduce with
/// std::plus<>, max_op, min_op on int8/int32/uint64/float/double, a commutative and a
/// non-commutative user op (must fold left in rank order); the scalar all_reduce; all_gather of a
/// struct; all_gather_v with zero and non-zero counts, known and unknown counts; all_to_all_v with
/// a skewed count matrix (known and unknown receive counts); 64 collectives in a row; bad
/// arguments (wrong out size, root out of range) give invalid_input on every rank.
/// Returns the number of checks passed. Cost: O(p * max_elements) bytes per rank per check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fulcrum/comm/collectives.hpp"
#include "fulcrum/concepts/communicator.hpp"
#include "fulcrum/core/error.hpp"

namespace fulcrum::testing {

/// A backend broke a collective's contract. The message names the check and the rank.
struct conformance_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct conformance_options {
  std::size_t max_elements = 96;  ///< longest buffer per rank in the length sweeps
  bool check_bad_arguments = true;
};

namespace conformance {

/// A record with padding-free layout, to move non-arithmetic transferable types.
struct record {
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  std::uint64_t index = 0;
  double value = 0;
  friend bool operator==(const record&, const record&) = default;
};

/// Commutative user op on a non-builtin type: lexicographic max of (key, tag).
struct keyed {
  std::int64_t key = 0;
  std::uint64_t tag = 0;
  friend bool operator==(const keyed&, const keyed&) = default;
};
struct keyed_max {
  keyed operator()(const keyed& a, const keyed& b) const {
    if (a.key != b.key) return a.key > b.key ? a : b;
    return a.tag >= b.tag ? a : b;
  }
};
/// Non-commutative user op: a*3 + b (mod 2^64). A backend must fold it left in rank order.
struct affine_op {
  std::uint64_t operator()(std::uint64_t a, std::uint64_t b) const { return a * 3u + b; }
};

}  // namespace conformance
}  // namespace fulcrum::testing

template <>
struct fulcrum::reduce_op_traits<fulcrum::testing::conformance::keyed_max> {
  static constexpr reduce_kind kind = reduce_kind::custom;
  static constexpr bool commutative = true;
};
template <>
struct fulcrum::reduce_op_traits<fulcrum::testing::conformance::affine_op> {
  static constexpr reduce_kind kind = reduce_kind::custom;
  static constexpr bool commutative = false;
};

namespace fulcrum::testing {
namespace conformance {

template <communicator C>
class runner {
 public:
  runner(C& c, conformance_options opts) : c_(c), opts_(opts), p_(comm::size(c)), me_(comm::rank(c)) {}

  std::size_t run() {
    basics();
    barriers();
    broadcasts();
    reductions();
    custom_reductions();
    gathers();
    gathers_v();
    all_to_all();
    sequence();
    if (opts_.check_bad_arguments) bad_arguments();
    return passed_;
  }

 private:
  /// Every rank passes its verdict; all throw if any rank failed.
  void agree(const std::string& check, const std::string& problem) {
    const std::uint8_t ok = problem.empty() ? 1 : 0;
    const std::uint8_t all_ok = comm::all_reduce(c_, ok, min_op{});
    if (!all_ok) {
      std::ostringstream os;
      os << "communicator conformance: " << check << ": ";
      if (ok) os << "failed on another rank (rank " << me_ << " saw correct results)";
      else os << "rank " << me_ << ": " << problem;
      throw conformance_failure(os.str());
    }
    ++passed_;
  }
  template <class A, class B>
  static std::string differ(const char* what, std::size_t at, const A& got, const B& want) {
    std::ostringstream os;
    os << what << "[" << at << "] = " << +got << ", expected " << +want;
    return os.str();
  }
  std::vector<std::size_t> lengths() const {
    std::vector<std::size_t> ls{0, 1, 7};
    if (opts_.max_elements > 7) ls.push_back(opts_.max_elements);
    return ls;
  }
  std::vector<std::size_t> roots() const {
    std::vector<std::size_t> rs;
    for (std::size_t r = 0; r < p_ && r < 4; ++r) rs.push_back(r);
    if (p_ > 4) rs.push_back(p_ - 1);
    if (p_ > 8) rs.push_back(p_ / 2);
    return rs;
  }

  void basics() {
    std::string problem;
    if (p_ == 0) problem = "size() == 0";
    else if (me_ >= p_) problem = differ("rank", 0, me_, p_ - 1);
    agree("rank() < size()", problem);
    const std::uint64_t mine[2] = {me_, p_};
    const auto all = comm::all_gather(c_, std::span<const std::uint64_t>(mine));
    for (std::size_t r = 0; r < p_ && problem.empty(); ++r) {
      if (all[2 * r] != r) problem = differ("all_gather(rank)", r, all[2 * r], r);
      if (all[2 * r + 1] != p_) problem = differ("all_gather(size)", r, all[2 * r + 1], p_);
    }
    agree("every rank has a distinct rank and the same size", problem);
  }

  void barriers() {
    for (int i = 0; i < 3; ++i) comm::barrier(c_);
    agree("barrier", "");
  }

  void broadcasts() {
    for (std::size_t root : roots()) {
      for (std::size_t len : lengths()) {
        std::vector<std::int64_t> buf(len, -1);
        if (me_ == root)
          for (std::size_t j = 0; j < len; ++j) buf[j] = static_cast<std::int64_t>(root * 100003 + j * 7) - 500;
        comm::broadcast(c_, buf, root);
        std::string problem;
        for (std::size_t j = 0; j < len && problem.empty(); ++j) {
          const auto want = static_cast<std::int64_t>(root * 100003 + j * 7) - 500;
          if (buf[j] != want) problem = differ("broadcast(int64) buf", j, buf[j], want);
        }
        agree("broadcast int64 from root " + std::to_string(root) + ", length " + std::to_string(len), problem);
      }
      std::vector<record> recs(3);
      if (me_ == root)
        for (std::size_t j = 0; j < 3; ++j) recs[j] = {static_cast<std::uint32_t>(root), 7, j, 0.5 * double(j)};
      comm::broadcast(c_, recs, root);
      std::string problem;
      for (std::size_t j = 0; j < 3; ++j)
        if (!(recs[j] == record{static_cast<std::uint32_t>(root), 7, j, 0.5 * double(j)}))
          problem = "broadcast(record) differs at " + std::to_string(j);
      agree("broadcast struct from root " + std::to_string(root), problem);
    }
  }

  template <class T>
  static T value(std::size_t r, std::size_t j) {
    const auto base = static_cast<long long>((r * 31 + j * 17) % 97);
    if constexpr (std::is_signed_v<T>) return static_cast<T>(base - 48);
    else return static_cast<T>(base);
  }
  template <class T, class Op>
  void reduction(const char* type, const char* opname, Op op) {
    for (std::size_t len : lengths()) {
      std::vector<T> in(len), out(len, T{});
      for (std::size_t j = 0; j < len; ++j) in[j] = value<T>(me_, j);
      comm::all_reduce(c_, in, out, op);
      std::string problem;
      for (std::size_t j = 0; j < len && problem.empty(); ++j) {
        T want = value<T>(0, j);
        for (std::size_t r = 1; r < p_; ++r) want = static_cast<T>(op(want, value<T>(r, j)));
        if (!(out[j] == want)) problem = differ("out", j, out[j], want);
      }
      agree(std::string("all_reduce ") + opname + " on " + type + ", length " + std::to_string(len), problem);
    }
  }
  template <class T>
  void reductions_of(const char* type) {
    reduction<T>(type, "sum", std::plus<>{});
    reduction<T>(type, "max", max_op{});
    reduction<T>(type, "min", min_op{});
  }
  void reductions() {
    reduction<std::int8_t>("int8", "max", max_op{});
    reduction<std::int8_t>("int8", "min", min_op{});
    reductions_of<std::int32_t>("int32");
    reductions_of<std::uint64_t>("uint64");
    reductions_of<float>("float");   // small integers: every summation order is exact
    reductions_of<double>("double");
    const auto total = comm::all_reduce(c_, std::uint64_t{me_ + 1}, std::plus<>{});
    agree("scalar all_reduce sum", total == p_ * (p_ + 1) / 2 ? "" : differ("sum", 0, total, p_ * (p_ + 1) / 2));
    const auto hi = comm::all_reduce(c_, static_cast<double>(me_) * 0.25, max_op{});
    agree("scalar all_reduce max", hi == static_cast<double>(p_ - 1) * 0.25 ? "" : differ("max", 0, hi, (p_ - 1) * 0.25));
  }

  void custom_reductions() {
    std::vector<keyed> in(5), out(5);
    for (std::size_t j = 0; j < 5; ++j)
      in[j] = {static_cast<std::int64_t>((me_ * 7 + j) % 5), static_cast<std::uint64_t>(me_)};
    comm::all_reduce(c_, in, out, keyed_max{});
    std::string problem;
    for (std::size_t j = 0; j < 5 && problem.empty(); ++j) {
      keyed want{static_cast<std::int64_t>(j % 5), 0};
      for (std::size_t r = 1; r < p_; ++r) want = keyed_max{}(want, {static_cast<std::int64_t>((r * 7 + j) % 5), r});
      if (!(out[j] == want)) problem = differ("keyed_max key", j, out[j].key, want.key);
    }
    agree("all_reduce with a commutative user op on a struct", problem);
    std::vector<std::uint64_t> a(3), b(3);
    for (std::size_t j = 0; j < 3; ++j) a[j] = me_ * 10 + j;
    comm::all_reduce(c_, a, b, affine_op{});
    problem.clear();
    for (std::size_t j = 0; j < 3 && problem.empty(); ++j) {
      std::uint64_t want = j;
      for (std::size_t r = 1; r < p_; ++r) want = affine_op{}(want, r * 10 + j);
      if (b[j] != want) problem = differ("affine fold", j, b[j], want);
    }
    agree("all_reduce with a non-commutative user op folds left in rank order", problem);
  }

  void gathers() {
    for (std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
      std::vector<record> in(len);
      for (std::size_t j = 0; j < len; ++j) in[j] = {static_cast<std::uint32_t>(me_), 0, j, double(me_) + 0.125};
      const auto out = comm::all_gather(c_, in);
      std::string problem;
      if (out.size() != p_ * len) problem = differ("out.size()", 0, out.size(), p_ * len);
      for (std::size_t r = 0; r < p_ && problem.empty(); ++r)
        for (std::size_t j = 0; j < len; ++j)
          if (!(out[r * len + j] == record{static_cast<std::uint32_t>(r), 0, j, double(r) + 0.125}))
            problem = "all_gather: block of rank " + std::to_string(r) + " differs at " + std::to_string(j);
      agree("all_gather of a struct, length " + std::to_string(len), problem);
    }
  }

  static std::size_t vcount(std::size_t r, std::size_t salt) { return (r * 5 + salt) % 4; }  // 0..3, zeros included
  void gathers_v() {
    for (std::size_t salt = 0; salt < 3; ++salt) {
      std::vector<std::size_t> counts(p_);
      std::size_t total = 0;
      for (std::size_t r = 0; r < p_; ++r) total += counts[r] = vcount(r, salt);
      std::vector<std::uint32_t> in(counts[me_]);
      for (std::size_t j = 0; j < in.size(); ++j) in[j] = static_cast<std::uint32_t>(me_ * 1000 + j);
      std::vector<std::uint32_t> out(total, 0xffffffffu);
      comm::all_gather_v(c_, in, out, counts);
      const auto g = comm::all_gather_v(c_, in);
      std::string problem;
      std::size_t at = 0;
      for (std::size_t r = 0; r < p_ && problem.empty(); ++r) {
        if (g.offsets[r + 1] - g.offsets[r] != counts[r]) problem = differ("gathered counts", r, g.offsets[r + 1] - g.offsets[r], counts[r]);
        for (std::size_t j = 0; j < counts[r] && problem.empty(); ++j, ++at) {
          const auto want = static_cast<std::uint32_t>(r * 1000 + j);
          if (out[at] != want) problem = differ("out", at, out[at], want);
          else if (g.values[at] != want) problem = differ("gathered values", at, g.values[at], want);
        }
      }
      agree("all_gather_v pattern " + std::to_string(salt), problem);
    }
  }

  static std::size_t a2a_count(std::size_t from, std::size_t to) { return (from + 2 * to) % 3; }
  void all_to_all() {
    std::vector<std::size_t> send(p_), recv(p_);
    std::size_t st = 0, rt = 0;
    for (std::size_t d = 0; d < p_; ++d) st += send[d] = a2a_count(me_, d);
    for (std::size_t s = 0; s < p_; ++s) rt += recv[s] = a2a_count(s, me_);
    std::vector<record> in;
    in.reserve(st);
    for (std::size_t d = 0; d < p_; ++d)
      for (std::size_t j = 0; j < send[d]; ++j)
        in.push_back({static_cast<std::uint32_t>(me_), static_cast<std::uint32_t>(d), j, double(me_ * p_ + d)});
    std::vector<record> out(rt);
    comm::all_to_all_v(c_, in, send, out, recv);
    const auto g = comm::all_to_all_v(c_, in, send);
    std::string problem;
    std::size_t at = 0;
    for (std::size_t s = 0; s < p_ && problem.empty(); ++s) {
      if (g.offsets[s + 1] - g.offsets[s] != recv[s]) problem = differ("received counts", s, g.offsets[s + 1] - g.offsets[s], recv[s]);
      for (std::size_t j = 0; j < recv[s] && problem.empty(); ++j, ++at) {
        const record want{static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(me_), j, double(s * p_ + me_)};
        if (!(out[at] == want)) problem = "all_to_all_v: element " + std::to_string(at) + " from rank " + std::to_string(s) + " differs";
        else if (!(g.values[at] == want)) problem = "all_to_all_v (unknown counts): element " + std::to_string(at) + " differs";
      }
    }
    agree("all_to_all_v with a skewed count matrix", problem);
    // Large-ish payloads: every rank sends max_elements bytes to every rank.
    std::vector<std::size_t> big(p_, opts_.max_elements);
    std::vector<std::uint8_t> bin(p_ * opts_.max_elements), bout(p_ * opts_.max_elements);
    for (std::size_t d = 0; d < p_; ++d)
      for (std::size_t j = 0; j < opts_.max_elements; ++j) bin[d * opts_.max_elements + j] = static_cast<std::uint8_t>(me_ * 13 + d * 7 + j);
    comm::all_to_all_v(c_, bin, big, bout, big);
    problem.clear();
    for (std::size_t s = 0; s < p_ && problem.empty(); ++s)
      for (std::size_t j = 0; j < opts_.max_elements; ++j)
        if (bout[s * opts_.max_elements + j] != static_cast<std::uint8_t>(s * 13 + me_ * 7 + j)) {
          problem = differ("bytes from rank", s, bout[s * opts_.max_elements + j], static_cast<std::uint8_t>(s * 13 + me_ * 7 + j));
          break;
        }
    agree("all_to_all_v with equal blocks", problem);
  }

  void sequence() {
    std::string problem;
    for (std::uint64_t i = 0; i < 64; ++i) {
      const auto got = comm::all_reduce(c_, i * (me_ + 1), std::plus<>{});
      const auto want = i * (p_ * (p_ + 1) / 2);
      if (got != want && problem.empty()) problem = differ("sum in round", i, got, want);
    }
    agree("64 all_reduce calls in a row keep their order", problem);
  }

  void bad_arguments() {
    auto expect_invalid = [&](const char* what, auto&& call) {
      std::string problem;
      try {
        call();
        problem = std::string(what) + " did not throw invalid_input";
      } catch (const invalid_input&) {
      }
      agree(std::string("bad arguments: ") + what, problem);
    };
    expect_invalid("all_reduce with out.size() != in.size()", [&] {
      std::vector<int> in(3), out(2);
      comm::all_reduce(c_, in, out, std::plus<>{});
    });
    expect_invalid("all_gather with a short out", [&] {
      std::vector<int> in(2), out(2 * p_ - 1);
      comm::all_gather(c_, in, out);
    });
    expect_invalid("broadcast from root == size()", [&] {
      std::vector<int> buf(1);
      comm::broadcast(c_, buf, p_);
    });
    expect_invalid("all_to_all_v with send_counts.size() != size()", [&] {
      std::vector<int> in(1), out(1);
      std::vector<std::size_t> sc(p_ + 1, 0), rc(p_, 0);
      comm::all_to_all_v(c_, in, sc, out, rc);
    });
  }

  C& c_;
  conformance_options opts_;
  std::size_t p_;
  std::size_t me_;
  std::size_t passed_ = 0;
};

}  // namespace conformance

/// Runs the whole suite on this rank (call it on every rank). Returns the number of checks
/// passed; throws conformance_failure (on every rank) at the first broken check.
template <communicator C>
std::size_t run_communicator_conformance(C& c, conformance_options opts = {}) {
  return conformance::runner<C>(c, opts).run();
}

}  // namespace fulcrum::testing
