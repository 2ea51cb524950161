// SPDX-License-Identifier: Apache-2.0
// Unit tests of fulcrum/io: dataset readers (good data, every error names source, line, field),
// layer readers, the plan JSON writer/reader (round trip on random plans, corruption rejected
// with a path), and the SVG chart (well-formed XML, escaped text).
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/io/dataset.hpp>
#include <fulcrum/io/layers.hpp>
#include <fulcrum/io/plan.hpp>
#include <fulcrum/io/svg_chart.hpp>

using namespace fulcrum;

namespace {

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const invalid_input& e) {
    return e.what();
  }
  return "(no error)";
}

// A small XML well-formedness check: balanced, properly nested tags; attribute values quoted;
// no raw '<' or unescaped '&' in text.
bool well_formed_xml(const std::string& s, std::string& why) {
  std::vector<std::string> stack;
  std::size_t i = 0;
  bool root_seen = false;
  auto check_text = [&](std::size_t from, std::size_t to) {
    for (std::size_t j = from; j < to; ++j)
      if (s[j] == '&') {
        const auto semi = s.find(';', j);
        if (semi == std::string::npos || semi - j > 6) return false;
      }
    return true;
  };
  while (i < s.size()) {
    const auto lt = s.find('<', i);
    if (lt == std::string::npos) {
      if (!check_text(i, s.size())) return why = "bad entity in text", false;
      break;
    }
    if (!check_text(i, lt)) return why = "bad entity in text", false;
    const auto gt = s.find('>', lt);
    if (gt == std::string::npos) return why = "unterminated tag", false;
    std::string tag = s.substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (tag.starts_with("?")) continue;
    if (tag.starts_with("/")) {
      if (stack.empty() || stack.back() != tag.substr(1)) return why = "mismatched </" + tag.substr(1) + ">", false;
      stack.pop_back();
      continue;
    }
    if (tag.find('<') != std::string::npos) return why = "'<' inside a tag", false;
    std::size_t quotes = 0;
    for (char c : tag) quotes += c == '"';
    if (quotes % 2) return why = "unbalanced quotes in <" + tag + ">", false;
    const bool self_closing = tag.ends_with("/");
    const std::string name = tag.substr(0, tag.find_first_of(" \t\n/"));
    if (stack.empty() && root_seen) return why = "second root element", false;
    root_seen = true;
    if (!self_closing) stack.push_back(name);
  }
  if (!stack.empty()) return why = "unclosed <" + stack.back() + ">", false;
  return root_seen;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("jsonl: text and image fields - arrays counted - blank lines and CRLF") {
    const auto s = io::read_jsonl(
        "{\"text_tokens\": 100, \"images\": 2}\r\n\n  \n{\"images\": [\"a.jpg\"], \"text_tokens\": 7, \"x\": {\"y\": [1,2]}}\n"
        "{\"text_tokens\": 1.0e2, \"images\": null}");
    REQUIRE(s.size() == 3);
    CHECK(s[0].text_tokens == 100);
    CHECK(s[0].images == 2);
    CHECK(s[1].text_tokens == 7);
    CHECK(s[1].images == 1);
    CHECK(s[2].text_tokens == 100);
    CHECK(s[2].images == 0);
    io::dataset_fields f;
    f.tokens = "len";
    const auto t = io::read_jsonl("{\"len\": 4096}\n{\"len\": 0}\n", f);
    REQUIRE(t.size() == 2);
    CHECK(t[0].tokens() == 4096);
  }

  TEST_CASE("jsonl: errors name source - line and field") {
    CHECK(error_of([] { (void)io::read_jsonl("{\"text_tokens\": 1, \"images\": 0}\n{\"text_tokens\": -4, \"images\": 0}", {}, "d.jsonl"); }) ==
          "d.jsonl:2: field \"text_tokens\" = -4: is negative");
    CHECK(error_of([] { (void)io::read_jsonl("\n\n{\"text_tokens\": 1}", {}, "d.jsonl"); }) == "d.jsonl:3: field \"images\": missing");
    CHECK(error_of([] { (void)io::read_jsonl("{\"text_tokens\": 1, \"images\": 0", {}, "d.jsonl"); }).starts_with("d.jsonl:1: column "));
    CHECK(error_of([] { (void)io::read_jsonl("[1, 2]", {}, "d.jsonl"); }) == "d.jsonl:1: expected a JSON object, got an array");
    CHECK(error_of([] { (void)io::read_jsonl("{\"text_tokens\": \"12\", \"images\": 0}", {}, "d"); }) ==
          "d:1: field \"text_tokens\": is a string, expected a number");
    CHECK(error_of([] { (void)io::read_jsonl("{\"text_tokens\": 5000000000, \"images\": 0}", {}, "d"); }) ==
          "d:1: field \"text_tokens\" = 5000000000: exceeds 4294967295");
    CHECK(error_of([] { (void)io::read_jsonl("{\"text_tokens\": 2.5, \"images\": 0}", {}, "d"); }) ==
          "d:1: field \"text_tokens\" = 2.5: is not a whole number");
    CHECK(error_of([] { (void)io::read_jsonl("{\"text_tokens\": 2, \"images\": 0} x", {}, "d"); }).starts_with("d:1: column 33"));
    // Deep nesting is rejected, not a stack overflow.
    CHECK(error_of([] { (void)io::read_jsonl(std::string(100000, '['), {}, "d"); }).find("nesting") != std::string::npos);
  }

  TEST_CASE("csv: header - quotes - trimming - errors name line and field") {
    const auto s = io::read_csv("id, text_tokens ,images\r\n\"a,b\", 10 ,1\n\"q\"\"x\",20,0\n\n");
    REQUIRE(s.size() == 2);
    CHECK(s[0].tokens() == 10 + 576);
    CHECK(s[1].tokens() == 20);
    CHECK(error_of([] { (void)io::read_csv("text_tokens,images\n1,2\n3\n", {}, "f.csv"); }) ==
          "f.csv:3: field \"images\": missing (row too short)");
    CHECK(error_of([] { (void)io::read_csv("text_tokens,images\n1,\n", {}, "f.csv"); }) == "f.csv:2: field \"images\": is empty");
    CHECK(error_of([] { (void)io::read_csv("text_tokens,images\n1,-2\n", {}, "f.csv"); }) ==
          "f.csv:2: field \"images\" = -2: is negative");
    CHECK(error_of([] { (void)io::read_csv("text_tokens,images\n1,\"2\n", {}, "f.csv"); }) ==
          "f.csv:2: column 2: unterminated quoted field");
    CHECK(error_of([] { (void)io::read_csv("text,images\n1,2\n", {}, "f.csv"); }) ==
          "f.csv:1: field \"text_tokens\": missing from the CSV header");
    CHECK(error_of([] { (void)io::read_csv("", {}, "f.csv"); }) == "f.csv:1: missing CSV header row");
  }

  TEST_CASE("layers: JSON and CSV") {
    const auto j = io::read_layers_json("{\"name\": \"m\", \"layers\": [{\"cost\": 1.5, \"memory\": 3}, {\"cost\": 2, \"memory\": 0}]}");
    CHECK(j.name == "m");
    CHECK(j.cost == std::vector<double>{1.5, 2});
    CHECK(j.memory == std::vector<std::uint64_t>{3, 0});
    const auto c = io::read_layers_csv("cost,memory\n1,2\n3.5,4\n");
    CHECK(c.cost == std::vector<double>{1, 3.5});
    CHECK(error_of([] { (void)io::read_layers_json("[{\"cost\": 1, \"memory\": 1}, {\"cost\": 1}]", "L"); }) ==
          "L: layers[1]: field \"memory\": missing");
    CHECK(error_of([] { (void)io::read_layers_csv("cost,memory\n1,2\nx,4\n", "L.csv"); }) == "L.csv:3: field \"cost\" = x: is not a number");
  }

  TEST_CASE("plan: random plans round-trip exactly") {
    rng gen(7);
    for (int trial = 0; trial < 200; ++trial) {
      const std::size_t n = gen.below(300), k = 1 + gen.below(20);
      std::vector<index_type> part(n);
      for (auto& p : part) p = static_cast<index_type>(gen.below(k));
      io::plan_document p;
      p.command = "balance";
      p.algorithm = "lpt \"quoted\" \\ name";
      p.source = "x.jsonl";
      p.items = n;
      p.group_kind = "rank";
      p.numbers = {{"ranks", static_cast<double>(k)}, {"b", 1.0 / 4096}};
      p.strings = {{"cost", "L + L^2/4096\n"}};
      p.groups = grouping::from_assignment(part, k);
      std::vector<double> loads(k);
      for (auto& l : loads) l = gen.uniform() * 1e6;
      p.loads = loads;
      if (trial % 2) p.owners.assign(k, 3);
      if (trial % 3 == 0) p.choices.assign(n, 1);
      p.before = io::plan_stats::of("round-robin", loads);
      p.after = io::plan_stats::of("lpt", loads);
      p.lower_bound = 0.1 + gen.uniform();
      p.objective = 2.0 / 3.0;
      p.gap = 1e-300;
      p.proven_optimal = trial % 2 == 0;
      p.time_ms = 12.5;
      const std::string text = io::plan_to_json(p, "test");
      const io::plan_document q = io::read_plan(text, "t");
      CHECK(q.groups == p.groups);
      CHECK(q.loads == p.loads);
      CHECK(q.owners == p.owners);
      CHECK(q.choices == p.choices);
      CHECK(q.algorithm == p.algorithm);
      CHECK(q.strings == p.strings);
      CHECK(q.numbers == p.numbers);
      CHECK(q.before.loads == p.before.loads);
      CHECK(q.after.imbalance == p.after.imbalance);
      CHECK(q.lower_bound == p.lower_bound);
      CHECK(q.objective == p.objective);
      CHECK(q.gap == p.gap);
      CHECK(q.proven_optimal == p.proven_optimal);
      CHECK(io::plan_to_json(q, "test") == text);  // deterministic bytes
    }
  }

  TEST_CASE("plan: corrupt documents are rejected with a path") {
    io::plan_document p;
    p.command = "pack";
    p.algorithm = "histogram";
    p.items = 3;
    p.group_kind = "bin";
    p.groups = grouping::from_groups({{0, 2}, {1}});
    p.loads = {5, 6};
    p.before = io::plan_stats::of("next fit", {5, 6});
    p.after = p.before;
    const std::string good = io::plan_to_json(p);
    CHECK_NOTHROW((void)io::read_plan(good));
    auto with = [&](std::string from, std::string to) {
      std::string s = good;
      const auto at = s.find(from);
      REQUIRE(at != std::string::npos);
      s.replace(at, from.size(), to);
      return error_of([&] { (void)io::read_plan(s, "p.json"); });
    };
    CHECK(with("[0,2]", "[0,0]") == "p.json: groups.items[0][1] = 0: item appears twice");
    CHECK(with("[0,2]", "[0,7]") == "p.json: groups.items[0][1] = 7: is not below input.items");
    CHECK(with("[0,2]", "[0]").starts_with("p.json: groups.items: holds 2 items but input.items = 3"));
    CHECK(with("\"schema_version\": 1", "\"schema_version\": 2") ==
          "p.json: schema_version = 2: unsupported (this reader knows version 1)");
    CHECK(with("\"loads\": [5, 6]", "\"loads\": [5]") == "p.json: groups.loads: length differs from groups.count");
    CHECK(with("\"command\": \"pack\"", "\"command\": 3") == "p.json: command: is a number, expected a string");
    CHECK(with("\"items\": 3", "\"items\": -3") == "p.json: input.items = -3: is negative");
    CHECK(error_of([] { (void)io::read_plan("{}", "p.json"); }) == "p.json: schema_version: missing");
  }

  TEST_CASE("svg: well-formed XML with escaped text - bars and lines") {
    io::load_chart c;
    c.title = "A <title> & \"quotes\"";
    c.x_label = "rank";
    c.y_label = "load";
    c.series = {{"before", {1, 2, 3}}, {"after <x>", {2, 2, 2}}};
    c.references = {{"bound & co", 2}};
    std::string why;
    const std::string bars = io::to_svg(c);
    CHECK_MESSAGE(well_formed_xml(bars, why), why);
    CHECK(bars.find("A &lt;title&gt; &amp; &quot;quotes&quot;") != std::string::npos);
    CHECK(bars.find("<rect") != std::string::npos);
    std::vector<double> many(5000);
    for (std::size_t i = 0; i < many.size(); ++i) many[i] = static_cast<double>(i % 97);
    c.series = {{"many", many}};
    const std::string lines = io::to_svg(c);
    CHECK_MESSAGE(well_formed_xml(lines, why), why);
    CHECK(lines.find("<polyline") != std::string::npos);
    c.series = {};
    c.references = {};
    CHECK_MESSAGE(well_formed_xml(io::to_svg(c), why), why);  // empty chart still renders
  }
}
