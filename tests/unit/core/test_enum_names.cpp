// SPDX-License-Identifier: Apache-2.0
// One to_string / parse_enum per public enum: every enumerator round-trips, names are unique,
// unknown names are rejected with the value and the choices.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <string_view>

#include <fulcrum/balance/options.hpp>
#include <fulcrum/comm/fault_injecting.hpp>
#include <fulcrum/concepts/communicator.hpp>
#include <fulcrum/core/enum_names.hpp>
#include <fulcrum/io/dataset.hpp>
#include <fulcrum/packing/pack.hpp>
#include <fulcrum/packing/packing.hpp>
#include <fulcrum/pipeline/schedule.hpp>
#include <fulcrum/pipeline/stage_partition.hpp>
#include <fulcrum/recompute/plan.hpp>

using namespace fulcrum;

namespace {

/// Every enumerator 0..count-1 (the enums are dense from 0) round-trips through its name.
template <named_enum E>
void check_round_trip(std::size_t count) {
  const auto table = enum_table(E{});
  REQUIRE(table.names.size() == count);
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < count; ++i) {
    const auto value = static_cast<E>(i);
    const std::string_view name = to_string(value);
    CAPTURE(name);
    CHECK(name != "unknown");
    CHECK(names.insert(name).second);
    REQUIRE(try_parse_enum<E>(name).has_value());
    CHECK(*try_parse_enum<E>(name) == value);
    CHECK(parse_enum<E>(name) == value);
  }
  CHECK(enum_choices<E>().size() == count);
  CHECK_FALSE(try_parse_enum<E>("no_such_name").has_value());
  CHECK_FALSE(try_parse_enum<E>("").has_value());
  const std::string expected = std::string(table.type) + " = no_such_name: not a " + std::string(table.type);
  CHECK_THROWS_WITH_AS((void)parse_enum<E>("no_such_name"), doctest::Contains(expected.c_str()), invalid_input);
  CHECK(to_string(static_cast<E>(count)) == "unknown");
}

// The names are usable at compile time.
static_assert(to_string(pack_algorithm::best_fit_decreasing) == "best_fit_decreasing");
static_assert(try_parse_enum<balance_algorithm>("karmarkar_karp") == balance_algorithm::karmarkar_karp);

}  // namespace

TEST_SUITE("core") {
  TEST_CASE("enum names round-trip for every public enum") {
    check_round_trip<pack_algorithm>(8);
    check_round_trip<oversize>(3);
    check_round_trip<balance_algorithm>(6);
    check_round_trip<stage_algorithm>(4);
    check_round_trip<pipeline_schedule>(3);
    check_round_trip<recompute_algorithm>(4);
    check_round_trip<reduce_kind>(4);
    check_round_trip<datatype>(10);
    check_round_trip<comm::fault_kind>(4);
    check_round_trip<io::dataset_format>(3);
  }

  TEST_CASE("enum names are the enumerators' own names") {
    // A table listed out of declaration order would still round-trip: pin names to enumerators.
    CHECK(to_string(pack_algorithm::automatic) == "automatic");
    CHECK(to_string(pack_algorithm::first_fit_decreasing) == "first_fit_decreasing");
    CHECK(to_string(pack_algorithm::exact) == "exact");
    CHECK(to_string(oversize::own_bin) == "own_bin");
    CHECK(to_string(balance_algorithm::greedy) == "greedy");
    CHECK(to_string(balance_algorithm::complete) == "complete");
    CHECK(to_string(balance_algorithm::local_search) == "local_search");
    CHECK(to_string(stage_algorithm::exact_bisection) == "exact_bisection");
    CHECK(to_string(stage_algorithm::dynamic_programming) == "dynamic_programming");
    CHECK(to_string(pipeline_schedule::interleaved_1f1b) == "interleaved_1f1b");
    CHECK(to_string(recompute_algorithm::branch_and_bound) == "branch_and_bound");
    CHECK(to_string(recompute_algorithm::greedy) == "greedy");
    CHECK(to_string(reduce_kind::custom) == "custom");
    CHECK(to_string(datatype::uint16) == "uint16");
    CHECK(to_string(datatype::float64) == "float64");
    CHECK(to_string(comm::fault_kind::drop) == "drop");
    CHECK(to_string(io::dataset_format::csv) == "csv");
  }

  TEST_CASE("parse_enum names the field and lists the choices") {
    CHECK_THROWS_WITH_AS((void)parse_enum<oversize>("drop", "--oversize"),
                         "--oversize = drop: not a oversize; choices: error, truncate, own_bin", invalid_input);
    CHECK(std::string(detail::algorithm_name(pack_algorithm::histogram)) == "histogram");
  }
}
