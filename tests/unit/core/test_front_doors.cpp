// SPDX-License-Identifier: Apache-2.0
// One argument order for every front door: (items, size or k, options, cost, proj). The
// overloads added for the outliers give the same plans as the original orders.
#include <doctest/doctest.h>

#include <vector>

#include <fulcrum/balance/local_search.hpp>
#include <fulcrum/balance/multifit.hpp>
#include <fulcrum/balance/phases.hpp>
#include <fulcrum/core/cost_model.hpp>
#include <fulcrum/core/sample.hpp>
#include <fulcrum/testing/workloads.hpp>

using namespace fulcrum;

TEST_SUITE("core") {
  TEST_CASE("front doors take options before cost and projection") {
    const auto w1 = testing::generate_w1(500, 7);
    const attention_cost cost{};
    local_search_options lo;
    lo.max_steps = 50;
    const auto ls_old = local_search(w1, 8, cost, tokens_of{}, lo);
    const auto ls_new = local_search(w1, 8, lo, cost, tokens_of{});
    CHECK(ls_old.parts == ls_new.parts);
    CHECK(ls_old.loads == ls_new.loads);

    multifit_options mo;
    mo.iterations = 5;
    const auto mf_old = multifit(w1, 8, cost, tokens_of{}, mo);
    const auto mf_new = multifit(w1, 8, mo, cost, tokens_of{});
    CHECK(mf_old.parts == mf_new.parts);

    balance_options bo;
    bo.algorithm = balance_algorithm::karmarkar_karp;
    const projected_cost vision{linear_cost{10, 0}, images_of{}};
    const projected_cost llm{attention_cost{}, tokens_of{}};
    const auto ph_old = balance_phases(w1, 4, vision, llm, bo);
    const auto ph_new = balance_phases(w1, 4, bo, vision, llm);
    CHECK(ph_old.llm.parts == ph_new.llm.parts);
    CHECK(ph_old.vision.parts == ph_new.vision.parts);
    CHECK(ph_old.transfer == ph_new.transfer);
  }
}
