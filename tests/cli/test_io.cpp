// SPDX-License-Identifier: Apache-2.0
// Unit tests of fulcrum/io: dataset readers (good data, every error names source, line, field),
// layer readers, the plan JSON writer/reader (round trip on random plans, corruption rejected
// with a path), and the SVG chart (well-formed XML, escaped text).
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <fulcrum/core/rng.hpp>
#include <fulcrum/io/dataset.hpp>
#include <fulcrum/io/detail/number.hpp>
#include <fulcrum/io/file.hpp>
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

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void spit(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

/// A fresh empty directory under the system temp directory.
fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("fulcrum-test-io-" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::size_t entries(const fs::path& d) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d)) ++n;
  return n;
}

std::string runtime_error_of(auto&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
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

  TEST_CASE("numbers: whole numbers are decided on the decimal digits exactly") {
    using io::detail::integer_status;
    auto read = [](std::string_view t, std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
      std::uint64_t v = 0;
      const auto st = io::detail::to_unsigned(t, max, v);
      return std::pair{st, v};
    };
    CHECK(read("12") == std::pair{integer_status::ok, std::uint64_t{12}});
    CHECK(read("12.0") == std::pair{integer_status::ok, std::uint64_t{12}});
    CHECK(read("1.2e3") == std::pair{integer_status::ok, std::uint64_t{1200}});
    CHECK(read("1200e-2") == std::pair{integer_status::ok, std::uint64_t{12}});
    CHECK(read("-0") == std::pair{integer_status::ok, std::uint64_t{0}});
    CHECK(read("0e99999999999999999999") == std::pair{integer_status::ok, std::uint64_t{0}});
    CHECK(read("18446744073709551615") == std::pair{integer_status::ok, std::uint64_t{18446744073709551615u}});
    CHECK(read("1.8446744073709551615e19").first == integer_status::ok);
    CHECK(read("18446744073709551616").first == integer_status::too_large);
    CHECK(read("1e20").first == integer_status::too_large);
    CHECK(read("1e999999999999999999999").first == integer_status::too_large);
    CHECK(read("4294967296", 4294967295u).first == integer_status::too_large);
    CHECK(read("4294967295", 4294967295u).first == integer_status::ok);
    // The reproducers: a double would round these to whole numbers (or call 1e-400 too large).
    CHECK(read("1.0000000000000001").first == integer_status::not_integer);
    CHECK(read("4294967295.0000001", 4294967295u).first == integer_status::not_integer);
    CHECK(read("1e-400").first == integer_status::not_integer);
    CHECK(read("0.5").first == integer_status::not_integer);
    CHECK(read("-3").first == integer_status::negative);
    CHECK(read("-0.5").first == integer_status::negative);
    for (const char* t : {"", "-", "+1", "1.", ".5", "1e", "0x10", "1 ", " 1", "1e+", "nan", "inf", "5k"})
      CHECK(read(t).first == integer_status::not_number);
  }

  TEST_CASE("numbers: reals report overflow and underflow") {
    using io::detail::real_status;
    double v = -1;
    CHECK(io::detail::to_real("1.5", v) == real_status::ok);
    CHECK(v == 1.5);
    CHECK(io::detail::to_real("-0", v) == real_status::ok);
    CHECK(v == 0.0);
    CHECK(io::detail::to_real("1e-400", v) == real_status::underflow);
    CHECK(io::detail::to_real("0.00001e-320", v) == real_status::underflow);
    CHECK(io::detail::to_real("1e400", v) == real_status::overflow);
    CHECK(io::detail::to_real("-1e400", v) == real_status::overflow);
    CHECK(io::detail::to_real("0e-99999", v) == real_status::ok);
    CHECK(io::detail::to_real("1,5", v) == real_status::not_number);
  }

  TEST_CASE("jsonl and csv: exact integers - not whole numbers named as such") {
    CHECK(error_of([] { (void)io::read_jsonl("{\"text_tokens\": 1.0000000000000001, \"images\": 0}", {}, "d"); }) ==
          "d:1: field \"text_tokens\" = 1.0000000000000001: is not a whole number");
    CHECK(error_of([] { (void)io::read_jsonl("{\"text_tokens\": 4294967295.0000001, \"images\": 0}", {}, "d"); }) ==
          "d:1: field \"text_tokens\" = 4294967295.0000001: is not a whole number");
    CHECK(error_of([] { (void)io::read_jsonl("{\"text_tokens\": 1e-400, \"images\": 0}", {}, "d"); }) ==
          "d:1: field \"text_tokens\" = 1e-400: is not a whole number");
    CHECK(error_of([] { (void)io::read_csv("text_tokens,images\n1e-400,0\n", {}, "f.csv"); }) ==
          "f.csv:2: field \"text_tokens\" = 1e-400: is not a whole number");
    CHECK(error_of([] { (void)io::read_layers_csv("cost,memory\n1e-400,4\n", "L.csv"); }).find("too small") != std::string::npos);
    CHECK(error_of([] { (void)io::read_layers_csv("cost,memory\n1e400,4\n", "L.csv"); }).find("too large") != std::string::npos);
    CHECK(io::read_jsonl("{\"text_tokens\": 4294967295.0, \"images\": 0}")[0].text_tokens == 4294967295u);
  }

  TEST_CASE("utf-8 byte order mark at the start is skipped") {
    const std::string bom = "\xEF\xBB\xBF";
    const auto j = io::read_jsonl(bom + "{\"text_tokens\": 3, \"images\": 1}\n");
    REQUIRE(j.size() == 1);
    CHECK(j[0].tokens() == 3 + 576);
    const auto c = io::read_csv(bom + "text_tokens,images\n5,0\n");
    REQUIRE(c.size() == 1);
    CHECK(c[0].tokens() == 5);
    std::istringstream js(bom + "{\"text_tokens\": 3, \"images\": 1}\r\n"), cs(bom + "text_tokens,images\r\n5,0\r\n");
    CHECK(io::read_dataset(js, io::dataset_format::jsonl).size() == 1);
    CHECK(io::read_dataset(cs, io::dataset_format::csv).size() == 1);
    CHECK(io::read_layers_csv(bom + "cost,memory\n1,2\n").cost.size() == 1);
    CHECK(io::read_layers_json(bom + "[{\"cost\": 1, \"memory\": 2}]").cost.size() == 1);
    // Only at the start: elsewhere it is ordinary (bad) text.
    CHECK(error_of([&] { (void)io::read_csv("text_tokens,images\n" + bom + "5,0\n", {}, "f.csv"); }).starts_with("f.csv:2:"));
  }

  TEST_CASE("stream reader: memory per line is bounded and the bound is named") {
    // A line longer than the bound fails as soon as the bound is passed, naming line and bound.
    io::reader_limits lim;
    lim.max_line_bytes = 1000;
    std::string text = "{\"text_tokens\": 1, \"images\": 0}\n{\"text_tokens\": 1, \"images\": [";
    for (int i = 0; i < 5000; ++i) text += "1,";
    text += "1]}\n";
    std::istringstream in(text);
    CHECK(error_of([&] { (void)io::read_dataset(in, io::dataset_format::jsonl, {}, "big.jsonl", lim); }) ==
          "big.jsonl:2: line longer than 1000 bytes (the reader's limit per line)");
    // Exactly at the bound is fine (the CR of a CRLF and a BOM do not count).
    std::string exact = "\xEF\xBB\xBF{\"text_tokens\": 1, \"images\": 0}";
    lim.max_line_bytes = exact.size() - 3;
    std::istringstream at(exact + "\r\n" + exact.substr(3));
    CHECK(io::read_dataset(at, io::dataset_format::jsonl, {}, "at.jsonl", lim).size() == 2);
    // The default bound: 1 MiB per line, and 65536 JSON values in a line (a 30M-element array
    // once cost 3 GB; now it is refused after the first 65536 values).
    CHECK(io::reader_limits{}.max_line_bytes == 1048576);
    std::string many = "{\"text_tokens\": 1, \"images\": [";
    for (int i = 0; i < 70000; ++i) many += "0,";
    many += "0]}";
    CHECK(error_of([&] { (void)io::read_jsonl(many, {}, "m.jsonl"); }).find("more than 65536 JSON values (the reader's limit)") !=
          std::string::npos);
    std::string long_line = "{\"text_tokens\": 1, \"images\": \"" + std::string(1100000, 'x') + "\"}";
    std::istringstream ll(long_line);
    CHECK(error_of([&] { (void)io::read_dataset(ll, io::dataset_format::jsonl, {}, "l.jsonl"); }) ==
          "l.jsonl:1: line longer than 1048576 bytes (the reader's limit per line)");
    CHECK(error_of([&] { (void)io::read_jsonl(long_line, {}, "l.jsonl"); }) ==
          "l.jsonl:1: line longer than 1048576 bytes (the reader's limit per line)");
    lim = {};
    lim.max_samples = 2;
    CHECK(error_of([&] { (void)io::read_csv("text_tokens,images\n1,0\n2,0\n3,0\n", {}, "f.csv", lim); }) ==
          "f.csv:4: more than 2 samples (the reader's limit)");
  }

  TEST_CASE("files: a directory or a missing file is invalid input with a sentence") {
    const auto d = scratch("dir-input");
    CHECK(error_of([&] { (void)io::read_dataset(d); }) == d.string() + ": is a directory, expected a file");
    CHECK(error_of([&] { (void)io::read_layers(d); }) == d.string() + ": is a directory, expected a file");
    CHECK(error_of([&] { (void)io::read_dataset(d / "none.jsonl"); }) ==
          (d / "none.jsonl").string() + ": cannot open for reading: no such file");
    spit(d / "a.csv", "\xEF\xBB\xBFid,text_tokens,images\n1,2,0\n");
    CHECK(io::read_dataset(d / "a.csv").size() == 1);
    fs::remove_all(d);
  }

  TEST_CASE("output_set: all files committed together or none") {
    const auto d = scratch("output-set");
    // Success: both written, a previous file replaced, nothing else left behind.
    spit(d / "plan.json", "old plan");
    {
      io::output_set out;
      out.add(d / "plan.json", "new plan");
      out.add(d / "chart.svg", "new chart");
      CHECK(slurp(d / "plan.json") == "old plan");  // nothing visible before commit
      CHECK_FALSE(fs::exists(d / "chart.svg"));
      out.commit();
    }
    CHECK(slurp(d / "plan.json") == "new plan");
    CHECK(slurp(d / "chart.svg") == "new chart");
    CHECK(entries(d) == 2);

    // The second file cannot be written (its directory does not exist, or is a regular file):
    // the first is not written either and no temporary is left.
    fs::remove(d / "plan.json");
    fs::remove(d / "chart.svg");
    spit(d / "regular", "x");
    for (const auto& bad : {d / "missing" / "chart.svg", d / "regular" / "chart.svg"}) {
      CAPTURE(bad.string());
      const auto e = runtime_error_of([&] {
        io::output_set out;
        out.add(d / "plan.json", "plan");
        out.add(bad, "chart");
        out.commit();
      });
      CHECK(e.starts_with(bad.string() + ": cannot open for writing"));
      CHECK_FALSE(fs::exists(d / "plan.json"));
      CHECK(entries(d) == 1);  // just "regular"
    }

    // A rename fails after the first file was already replaced: the first is put back.
    spit(d / "plan.json", "old plan");
    fs::create_directories(d / "chart.svg" / "occupied");  // a non-empty directory cannot be replaced
    const auto e = runtime_error_of([&] {
      io::output_set out;
      out.add(d / "plan.json", "new plan");
      out.add(d / "chart.svg", "new chart");
      out.commit();
    });
    CHECK(e.find("chart.svg") != std::string::npos);
    CHECK(slurp(d / "plan.json") == "old plan");
    CHECK(fs::is_directory(d / "chart.svg" / "occupied"));
    CHECK(entries(d) == 3);  // regular, plan.json, chart.svg: no temporaries or backups

    // Destroyed without commit: no trace.
    {
      io::output_set out;
      out.add(d / "never.json", "x");
    }
    CHECK_FALSE(fs::exists(d / "never.json"));
    CHECK(entries(d) == 3);
    fs::remove_all(d);
  }

  TEST_CASE("for_each_sample reads lazily in order with read_dataset's errors and limits") {
    const std::string jsonl = "{\"text_tokens\": 5, \"images\": 1}\n\n{\"text_tokens\": 7, \"images\": [1, 2]}\n";
    std::istringstream in(jsonl);
    std::vector<fulcrum::multimodal_sample> got;
    fulcrum::io::for_each_sample(in, fulcrum::io::dataset_format::jsonl,
                                 [&](const fulcrum::multimodal_sample& s) { got.push_back(s); });
    REQUIRE(got.size() == 2);
    CHECK(got[0].text_tokens == 5);
    CHECK(got[1].images == 2);
    std::istringstream csv("text_tokens,images\n3,0\n4,-1\n");
    std::size_t before_error = 0;
    CHECK_THROWS_WITH_AS(fulcrum::io::for_each_sample(
                             csv, fulcrum::io::dataset_format::csv,
                             [&](const fulcrum::multimodal_sample&) { ++before_error; }, {}, "d.csv"),
                         doctest::Contains("d.csv:3: field \"images\" = -1"), fulcrum::invalid_input);
    CHECK(before_error == 1);
    std::istringstream many("{\"text_tokens\": 1}\n{\"text_tokens\": 1}\n{\"text_tokens\": 1}\n");
    fulcrum::io::dataset_fields fields;
    fields.images = "";
    fulcrum::io::reader_limits lim;
    lim.max_samples = 2;
    CHECK_THROWS_AS(fulcrum::io::for_each_sample(
                        many, fulcrum::io::dataset_format::jsonl, [](const auto&) {}, fields, "<in>", lim),
                    fulcrum::invalid_input);
  }
}
