// SPDX-License-Identifier: Apache-2.0
// Every result type answers the same questions the same way: lower_bound (one type per module),
// gap() (relative, >= 0, 0 when proven optimal), proven_optimal, and stats() where it has loads.
#include <doctest/doctest.h>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <fulcrum/balance/balance.hpp>
#include <fulcrum/balance/two_level.hpp>
#include <fulcrum/packing/pack.hpp>
#include <fulcrum/packing/rank_packing.hpp>
#include <fulcrum/pipeline/partition.hpp>
#include <fulcrum/recompute/joint.hpp>
#include <fulcrum/recompute/select.hpp>

using namespace fulcrum;

namespace {

/// The questions every result answers; Bound is the module's lower-bound type.
template <class T, class Bound>
concept plan_result = requires(const T& r) {
  { r.lower_bound } -> std::convertible_to<Bound>;
  requires std::same_as<std::remove_cvref_t<decltype(r.lower_bound)>, Bound>;
  { r.gap() } -> std::same_as<double>;
  { r.proven_optimal } -> std::convertible_to<bool>;
};

/// Results with per-group loads also summarise them.
template <class T>
concept has_load_stats = requires(const T& r) {
  { r.stats() } -> std::same_as<load_stats>;
};

// Packing: a number of bins.
static_assert(plan_result<packing, std::uint64_t>);
static_assert(plan_result<basic_packing<std::array<std::uint64_t, 2>>, std::uint64_t>);
static_assert(plan_result<rank_packing, std::uint64_t>);
static_assert(plan_result<flat_multi_packing, std::uint64_t>);
static_assert(has_load_stats<packing>);
// Balance: a makespan.
static_assert(plan_result<partition, cost_t>);
static_assert(plan_result<two_level_partition, cost_t>);
static_assert(has_load_stats<partition>);
static_assert(has_load_stats<two_level_partition>);
// Pipeline: a bottleneck (stage_partition) or an iteration time (pipeline_plan).
static_assert(plan_result<stage_partition, cost_t>);
static_assert(plan_result<pipeline_plan, double>);
static_assert(has_load_stats<stage_partition>);
static_assert(has_load_stats<pipeline_plan>);
// Recompute: an added time.
static_assert(plan_result<recompute_plan, double>);

template <class T>
void check_gap(const T& r) {
  CHECK(r.gap() >= 0.0);
  if (r.proven_optimal) CHECK(r.gap() == 0.0);
}

}  // namespace

TEST_SUITE("core") {
  TEST_CASE("result types: gap is non-negative and zero when proven optimal") {
    const std::vector<std::uint64_t> sizes{7, 5, 5, 4, 3, 3, 2, 2, 1, 9, 6};
    const auto p = pack(sizes, 10);
    check_gap(p);
    CHECK(p.stats().groups == p.bins.size());
    CHECK(p.stats().sum == 47.0);
    pack_options exact;
    exact.algorithm = pack_algorithm::exact;
    const auto pe = pack(sizes, 10, exact);
    CHECK(pe.proven_optimal);
    check_gap(pe);
    // A heuristic that leaves a gap: next fit on alternating big/small items.
    pack_options nf;
    nf.algorithm = pack_algorithm::next_fit;
    const std::vector<std::uint64_t> alternating{2, 9, 2, 9, 2, 9};
    const auto pn = pack(alternating, 10, nf);
    CHECK_FALSE(pn.proven_optimal);
    CHECK(pn.gap() > 0.0);
    CHECK(pn.gap() == doctest::Approx((static_cast<double>(pn.bins.size()) - static_cast<double>(pn.lower_bound)) /
                                      static_cast<double>(pn.lower_bound)));

    const std::vector<std::array<std::uint64_t, 2>> two{{3, 1}, {2, 2}, {4, 4}, {1, 3}};
    const auto pm = pack(two, std::array<std::uint64_t, 2>{5, 5});
    check_gap(pm);
    CHECK(pm.stats(1).sum == 10.0);
    const std::vector<std::uint64_t> flat{3, 1, 2, 2, 4, 4, 1, 3};
    const std::vector<std::uint64_t> flat_cap{5, 5};
    check_gap(multi_pack_flat(flat, 2, flat_cap));

    const auto rp = pack_for_ranks(sizes, std::uint64_t{10}, 2);
    check_gap(rp);

    const std::vector<double> costs{5, 4, 3, 3, 2, 2, 1};
    const auto b = balance(costs, 3);
    check_gap(b);
    CHECK(b.stats().max == b.makespan);
    balance_options complete;
    complete.algorithm = balance_algorithm::complete;
    const auto bc = balance(costs, 3, complete);
    CHECK(bc.proven_optimal);
    check_gap(bc);

    const auto tl = balance_two_level(costs, 2, 2);
    check_gap(tl);
    CHECK(tl.lower_bound == tl.ranks.lower_bound);
    CHECK(tl.proven_optimal == tl.ranks.proven_optimal);

    const std::vector<double> layers{4, 1, 1, 1, 1, 4, 2, 2};
    const auto sp = partition_stages(layers, 3);
    REQUIRE(sp.proven_optimal);
    CHECK(sp.lower_bound == sp.bottleneck);
    check_gap(sp);
    CHECK(sp.stats().max == sp.bottleneck);
    // A given (non-optimal) partition still carries a valid bound: the optimum is not below it.
    const std::vector<std::size_t> bad{0, 1, 2, 8};
    const auto ev = evaluate_partition(layers, bad);
    CHECK_FALSE(ev.proven_optimal);
    CHECK(ev.lower_bound > 0.0);
    CHECK(ev.lower_bound <= sp.bottleneck);
    CHECK(ev.gap() > 0.0);
    check_gap(ev);

    const std::vector<std::vector<recompute_option>> options{
        {{10, 0.0}, {2, 1.0}}, {{8, 0.0}, {1, 2.0}}, {{6, 0.0}, {3, 0.5}}};
    const auto rc = select_recompute(options, 15);
    CHECK(rc.proven_optimal);
    check_gap(rc);
    recompute_options greedy;
    greedy.algorithm = recompute_algorithm::greedy;
    check_gap(select_recompute(options, 15, greedy));

    std::vector<pipeline_layer> pl;
    for (int i = 0; i < 6; ++i) pl.push_back({1.0 + i % 2, 2.0, 4, 3});
    const std::vector<std::vector<recompute_option>> plo(6, {{3, 0.0}, {0, 1.0}});
    pipeline_search_options so;
    so.stages = 2;
    so.micro_batches = 4;
    const auto jp = joint_partition_recompute(pl, plo, so);
    check_gap(jp);
    CHECK(jp.stats().groups == 2);
  }
}
