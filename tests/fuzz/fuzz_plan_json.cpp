// Fuzz target: the plan JSON reader and writer (io/plan.hpp).
//
// Mode byte even: the rest of the input is a plan text for read_plan. Only invalid_input may come
// out. An accepted plan must satisfy what read_plan promises (groups partition 0..items-1 exactly
// once, one load per group, owners one per group, choices one per item, stats loads one per
// stats group) and must round-trip: write_plan(read_plan(text)) reads back equal, and writing
// that again gives the same bytes (the writer is deterministic).
// Mode byte odd: a valid plan_document is decoded from the bytes (random groups over random
// items, finite doubles of every magnitude, strings with quotes, backslashes, control characters
// and UTF-8), written, and read back: it must be equal field by field, doubles bit for bit.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fulcrum/io/plan.hpp>

#include "fuzz_support.hpp"

namespace {

namespace io = fulcrum::io;

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0 || (a == 0 && b == 0); }

bool same(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same_bits(a[i], b[i])) return false;
  return true;
}

bool same(const io::plan_stats& a, const io::plan_stats& b) {
  return a.label == b.label && a.groups == b.groups && same_bits(a.total, b.total) && same_bits(a.max, b.max) &&
         same_bits(a.min, b.min) && same_bits(a.mean, b.mean) && same_bits(a.imbalance, b.imbalance) &&
         same_bits(a.efficiency, b.efficiency) && same(a.loads, b.loads);
}

bool same(const io::plan_document& a, const io::plan_document& b) {
  if (a.numbers.size() != b.numbers.size()) return false;
  for (std::size_t i = 0; i < a.numbers.size(); ++i)
    if (a.numbers[i].first != b.numbers[i].first || !same_bits(a.numbers[i].second, b.numbers[i].second)) return false;
  return a.command == b.command && a.algorithm == b.algorithm && a.source == b.source && a.items == b.items &&
         a.group_kind == b.group_kind && a.strings == b.strings && a.groups == b.groups && same(a.loads, b.loads) &&
         a.owners == b.owners && a.choices == b.choices && same(a.before, b.before) && same(a.after, b.after) &&
         same_bits(a.lower_bound, b.lower_bound) && same_bits(a.objective, b.objective) && same_bits(a.gap, b.gap) &&
         a.proven_optimal == b.proven_optimal && same_bits(a.time_ms, b.time_ms);
}

void check_promises(const io::plan_document& p) {
  fuzz::require(fulcrum::testing::check_exactly_once(p.groups, p.items), "groups partition the items exactly once");
  fuzz::require(p.loads.size() == p.groups.size(), "one load per group");
  fuzz::require(p.owners.empty() || p.owners.size() == p.groups.size(), "one owner per group");
  fuzz::require(p.choices.empty() || p.choices.size() == p.items, "one choice per item");
  fuzz::require(p.before.loads.size() == p.before.groups && p.after.loads.size() == p.after.groups,
                "stats loads one per stats group");
}

void raw(std::string_view text) {
  io::plan_document p;
  try {
    p = io::read_plan(text, "fuzz");
  } catch (const fulcrum::invalid_input&) {
    return;
  }
  check_promises(p);
  // Non-finite numbers cannot come out of read_plan (they are null in the file, which it rejects),
  // so the document must round-trip.
  const std::string once = io::plan_to_json(p, "fuzz");
  const io::plan_document q = io::read_plan(once, "again");
  fuzz::require(same(p, q), "read -> write -> read gives the same plan");
  fuzz::require(io::plan_to_json(q, "fuzz") == once, "writing is deterministic");
}

double draw_double(fuzz::byte_reader& in) {
  switch (in.take<std::uint8_t>() % 4) {
    case 0: return in.take<std::uint16_t>();
    case 1: return -static_cast<double>(in.take<std::uint16_t>()) / 7.0;
    case 2: {
      const double d = in.take<double>();
      return std::isfinite(d) ? d : 1.5;
    }
    default: return std::ldexp(1.0, static_cast<int>(in.take<std::uint16_t>() % 2098) - 1074);  // subnormal .. max
  }
}

std::string draw_string(fuzz::byte_reader& in) {
  const std::size_t n = in.take<std::uint8_t>() % 12;
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t c = in.take<std::uint8_t>();
    switch (c % 8) {
      case 0: s += '"'; break;
      case 1: s += '\\'; break;
      case 2: s += static_cast<char>(c % 32); break;  // control characters
      case 3: s += "\xc3\xa9"; break;                  // UTF-8 e-acute
      case 4: s += "\xf0\x9f\x9a\x80"; break;          // a 4-byte UTF-8 character
      default: s += static_cast<char>('a' + c % 26); break;
    }
  }
  return s;
}

io::plan_stats draw_stats(fuzz::byte_reader& in) {
  io::plan_stats s;
  s.label = draw_string(in);
  s.groups = in.take<std::uint8_t>() % 6;
  s.total = draw_double(in);
  s.max = draw_double(in);
  s.min = draw_double(in);
  s.mean = draw_double(in);
  s.imbalance = draw_double(in);
  s.efficiency = draw_double(in);
  for (std::size_t g = 0; g < s.groups; ++g) s.loads.push_back(draw_double(in));
  return s;
}

void structured(fuzz::byte_reader& in) {
  io::plan_document p;
  p.command = draw_string(in);
  p.algorithm = draw_string(in);
  p.source = draw_string(in);
  p.group_kind = draw_string(in);
  p.items = in.take<std::uint8_t>() % 40;
  const std::size_t groups = in.take<std::uint8_t>() % 9;
  std::vector<std::vector<fulcrum::index_type>> members(groups);
  if (groups > 0)
    for (std::size_t i = 0; i < p.items; ++i) members[in.take<std::uint8_t>() % groups].push_back(static_cast<fulcrum::index_type>(i));
  else
    p.items = 0;
  for (auto& g : members)  // any order within a group
    for (std::size_t j = 1; j < g.size(); ++j)
      if (in.take<std::uint8_t>() & 1) std::swap(g[j - 1], g[j]);
  p.groups = fulcrum::grouping::from_groups(members);
  for (std::size_t g = 0; g < groups; ++g) p.loads.push_back(draw_double(in));
  const std::uint8_t flags = in.take<std::uint8_t>();
  if (flags & 1)
    for (std::size_t g = 0; g < groups; ++g) p.owners.push_back(in.take<std::uint32_t>());
  if (flags & 2)
    for (std::size_t i = 0; i < p.items; ++i) p.choices.push_back(in.take<std::uint8_t>());
  for (std::size_t k = in.take<std::uint8_t>() % 4; k > 0; --k) p.numbers.emplace_back("n" + draw_string(in), draw_double(in));
  for (std::size_t k = in.take<std::uint8_t>() % 4; k > 0; --k) p.strings.emplace_back("s" + draw_string(in), draw_string(in));
  p.before = draw_stats(in);
  p.after = draw_stats(in);
  p.lower_bound = draw_double(in);
  p.objective = draw_double(in);
  p.gap = draw_double(in);
  p.proven_optimal = flags & 4;
  p.time_ms = draw_double(in);
  const std::string text = io::plan_to_json(p, draw_string(in));
  io::plan_document q;
  try {
    q = io::read_plan(text, "written");
  } catch (const fulcrum::invalid_input& e) {
    std::fprintf(stderr, "a written plan was rejected: %s\n---\n%s\n---\n", e.what(), text.c_str());
    std::abort();
  }
  fuzz::require(same(p, q), "write -> read gives the same plan, doubles bit for bit");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if (data[0] & 1) {
    fuzz::byte_reader in(data + 1, size - 1);
    structured(in);
  } else {
    raw(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  }
  return 0;
}
