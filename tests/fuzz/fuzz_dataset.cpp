// Fuzz target: the dataset readers (JSON Lines and CSV, io/dataset.hpp) and the layer-profile
// readers (JSON and CSV, io/layers.hpp).
//
// The first byte picks a mode:
// - raw (modes 0-3): the rest of the input is the text. Only fulcrum::invalid_input may come out
//   (anything else, a crash, a hang or UB is a finding). Accepted text must round-trip: the
//   samples / layers written back in a canonical form read back equal.
// - structured (modes 4-5): samples or layers are decoded from the bytes and rendered with random
//   but legal formatting (key order, spacing, extra members and columns, quoting, CRLF, blank lines,
//   images as a number / list / string / null). The reader must return exactly those values, or,
//   when a value was made out of range on purpose, invalid_input naming its line.
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fulcrum/io/dataset.hpp>
#include <fulcrum/io/layers.hpp>

#include "fuzz_support.hpp"

namespace {

namespace io = fulcrum::io;

io::dataset_fields fields_for(unsigned variant) {
  io::dataset_fields f;
  switch (variant % 4) {
    case 1: f.tokens = "tokens"; break;
    case 2: f.images.clear(); break;
    case 3:
      f.text = "len";
      f.images = "pics";
      break;
    default: break;
  }
  return f;
}

std::string number(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string canonical_jsonl(const std::vector<fulcrum::multimodal_sample>& samples, const io::dataset_fields& f) {
  std::ostringstream os;
  for (const auto& s : samples) {
    if (!f.tokens.empty()) os << "{\"" << f.tokens << "\": " << s.text_tokens << "}\n";
    else if (f.images.empty()) os << "{\"" << f.text << "\": " << s.text_tokens << "}\n";
    else os << "{\"" << f.text << "\": " << s.text_tokens << ", \"" << f.images << "\": " << s.images << "}\n";
  }
  return os.str();
}

std::string canonical_csv(const std::vector<fulcrum::multimodal_sample>& samples, const io::dataset_fields& f) {
  std::ostringstream os;
  if (!f.tokens.empty()) os << f.tokens << "\n";
  else if (f.images.empty()) os << f.text << "\n";
  else os << f.text << "," << f.images << "\n";
  for (const auto& s : samples) {
    if (!f.tokens.empty() || f.images.empty()) os << s.text_tokens << "\n";
    else os << s.text_tokens << "," << s.images << "\n";
  }
  return os.str();
}

bool same(const std::vector<fulcrum::multimodal_sample>& a, const std::vector<fulcrum::multimodal_sample>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].text_tokens != b[i].text_tokens || a[i].images != b[i].images) return false;
  return true;
}

bool same(const io::layer_table& a, const io::layer_table& b) { return a.cost == b.cost && a.memory == b.memory; }

std::string canonical_layers_json(const io::layer_table& t) {
  std::string s = "{\"layers\": [";
  for (std::size_t i = 0; i < t.cost.size(); ++i)
    s += (i ? ", " : "") + std::string("{\"cost\": ") + number(t.cost[i]) + ", \"memory\": " + std::to_string(t.memory[i]) + "}";
  return s + "]}";
}

std::string canonical_layers_csv(const io::layer_table& t) {
  std::string s = "cost,memory\n";
  for (std::size_t i = 0; i < t.cost.size(); ++i) s += number(t.cost[i]) + "," + std::to_string(t.memory[i]) + "\n";
  return s;
}

void check_layers(const io::layer_table& t) {
  fuzz::require(!t.cost.empty() && t.cost.size() == t.memory.size(), "one cost and one memory per layer, at least one layer");
  for (double c : t.cost) fuzz::require(std::isfinite(c) && c >= 0, "layer cost finite and non-negative");
}

void raw_mode(unsigned mode, unsigned variant, std::string_view text) {
  const auto f = fields_for(variant);
  try {
    switch (mode) {
      case 0: {
        const auto s = io::read_jsonl(text, f, "fuzz");
        fuzz::require(same(io::read_jsonl(canonical_jsonl(s, f), f, "again"), s), "JSONL round trip");
        break;
      }
      case 1: {
        const auto s = io::read_csv(text, f, "fuzz");
        fuzz::require(same(io::read_csv(canonical_csv(s, f), f, "again"), s), "CSV round trip");
        break;
      }
      case 2: {
        const auto t = io::read_layers_json(text, "fuzz");
        check_layers(t);
        fuzz::require(same(io::read_layers_json(canonical_layers_json(t), "again"), t), "layers JSON round trip");
        break;
      }
      default: {
        const auto t = io::read_layers_csv(text, "fuzz");
        check_layers(t);
        fuzz::require(same(io::read_layers_csv(canonical_layers_csv(t), "again"), t), "layers CSV round trip");
        break;
      }
    }
  } catch (const fulcrum::invalid_input&) {
  }
}

/// Random but legal spacing.
std::string space(fuzz::byte_reader& in) {
  switch (in.take<std::uint8_t>() % 6) {
    case 0: return " ";
    case 1: return "  ";
    case 2: return "\t";
    default: return "";
  }
}

std::uint64_t draw_value(fuzz::byte_reader& in, std::uint8_t cls, bool& out_of_range) {
  std::uint64_t v = 0;
  switch (cls % 8) {
    case 0: v = in.take<std::uint8_t>(); break;
    case 1: v = in.take<std::uint16_t>(); break;
    case 2: v = in.take<std::uint32_t>(); break;
    case 3: v = 4294967295ULL - in.take<std::uint8_t>() % 2; break;  // the largest accepted values
    case 4: v = 4294967296ULL + in.take<std::uint8_t>(); break;      // just beyond 32 bits
    default: v = in.take<std::uint8_t>() % 10; break;
  }
  out_of_range = out_of_range || v > 4294967295ULL;
  return v;
}

void structured_dataset(fuzz::byte_reader& in, unsigned variant, bool csv) {
  const auto f = fields_for(variant);
  const std::uint8_t cls = in.take<std::uint8_t>();
  const std::string eol = (in.take<std::uint8_t>() & 1) ? "\r\n" : "\n";
  std::vector<fulcrum::multimodal_sample> expected;
  std::size_t bad_line = 0;  // first line holding an out-of-range value (1-based), 0 if none
  std::size_t line = 0;
  std::string text;
  const bool with_images = f.tokens.empty() && !f.images.empty();
  const std::string& main_field = f.tokens.empty() ? f.text : f.tokens;
  if (csv) {
    // header: the needed columns among extra ones, some quoted
    std::vector<std::string> cols{"id", main_field};
    if (with_images) cols.push_back(f.images);
    if (in.take<std::uint8_t>() & 1) std::swap(cols[0], cols[1]);
    for (std::size_t c = 0; c < cols.size(); ++c) {
      const bool quote = in.take<std::uint8_t>() & 1;
      text += (c ? "," : "") + space(in) + (quote ? "\"" + cols[c] + "\"" : cols[c]) + space(in);
    }
    text += eol;
    ++line;
    while (!in.empty() && expected.size() < 64) {
      if ((in.take<std::uint8_t>() & 7) == 0) {
        text += space(in) + eol;  // blank line
        ++line;
      }
      ++line;
      bool oor = false;
      const std::uint64_t t = draw_value(in, cls, oor);
      const std::uint64_t im = with_images ? draw_value(in, cls >> 3, oor) : 0;
      if (oor && bad_line == 0) bad_line = line;
      if (!oor) expected.push_back({static_cast<std::uint32_t>(t), static_cast<std::uint32_t>(im)});
      for (std::size_t c = 0; c < cols.size(); ++c) {
        std::string cell;
        if (cols[c] == "id") cell = "\"row \"\"" + std::to_string(line) + "\"\", x\"";
        else if (cols[c] == main_field) cell = std::to_string(t);
        else cell = std::to_string(im);
        if (cols[c] != "id" && (in.take<std::uint8_t>() & 3) == 0) cell = "\"" + cell + "\"";
        text += (c ? "," : "") + space(in) + cell + space(in);
      }
      text += eol;
    }
  } else {
    while (!in.empty() && expected.size() < 64) {
      if ((in.take<std::uint8_t>() & 7) == 0) {
        text += space(in) + eol;
        ++line;
      }
      ++line;
      bool oor = false;
      const std::uint64_t t = draw_value(in, cls, oor);
      std::uint64_t im = 0;
      std::string image_json;
      if (with_images) {
        switch (in.take<std::uint8_t>() % 5) {
          case 0: image_json = "null"; break;
          case 1: image_json = "\"img/" + std::to_string(line) + ".png\"", im = 1; break;
          case 2: {
            im = in.take<std::uint8_t>() % 6;
            image_json = "[";
            for (std::uint64_t k = 0; k < im; ++k) image_json += (k ? ", \"a\\u00e9\\\"b\"" : "\"x\"");
            image_json += "]";
            break;
          }
          default: im = draw_value(in, cls >> 3, oor), image_json = std::to_string(im); break;
        }
      }
      if (oor && bad_line == 0) bad_line = line;
      if (!oor) expected.push_back({static_cast<std::uint32_t>(t), static_cast<std::uint32_t>(im)});
      std::vector<std::string> members{"\"" + main_field + "\":" + space(in) + std::to_string(t),
                                       "\"extra\":" + space(in) + "{\"nested\": [1, 2.5e3, true, null, \"}\"]}"};
      if (with_images) members.push_back("\"" + f.images + "\":" + space(in) + image_json);
      const std::size_t rot = in.take<std::uint8_t>() % members.size();
      text += space(in) + "{";
      for (std::size_t k = 0; k < members.size(); ++k) text += (k ? "," : "") + space(in) + members[(k + rot) % members.size()];
      text += space(in) + "}" + space(in) + eol;
    }
  }
  std::vector<fulcrum::multimodal_sample> got;
  try {
    got = csv ? io::read_csv(text, f, "gen") : io::read_jsonl(text, f, "gen");
  } catch (const fulcrum::invalid_input& e) {
    if (bad_line == 0) {
      std::fprintf(stderr, "legal %s rejected: %s\n---\n%s\n---\n", csv ? "CSV" : "JSONL", e.what(), text.c_str());
      std::abort();
    }
    const std::string where = "gen:" + std::to_string(bad_line) + ":";
    fuzz::require(std::string_view(e.what()).find(where) != std::string_view::npos, "error names the offending line");
    return;
  }
  fuzz::require(bad_line == 0, "out-of-range value accepted");
  fuzz::require(same(got, expected), "reader returns exactly the rendered samples");
}

void structured_layers(fuzz::byte_reader& in) {
  const bool csv = in.take<std::uint8_t>() & 1;
  const bool bare_array = in.take<std::uint8_t>() & 1;
  io::layer_table expected;
  std::string text = csv ? "name," + space(in) + "memory," + space(in) + "cost\n" : (bare_array ? "[" : "{\"name\": \"m\\n\", \"layers\": [");
  bool invalid = false;
  while (!in.empty() && expected.cost.size() < 64) {
    double cost = 0;
    std::string cost_text;
    switch (in.take<std::uint8_t>() % 4) {
      case 0: cost = in.take<std::uint16_t>(), cost_text = std::to_string(static_cast<unsigned>(cost)); break;
      case 1: {
        const double d = in.take<double>();
        if (!std::isfinite(d) || d < 0) invalid = true;
        cost = d;
        cost_text = std::isfinite(d) ? number(d) : "1e999";
        break;
      }
      case 2: cost = std::ldexp(in.take<std::uint8_t>(), -4), cost_text = number(cost); break;
      default: {
        const unsigned e = in.take<std::uint8_t>() % 12;
        cost_text = "1E" + std::to_string(e);
        cost = std::pow(10.0, e);
        break;
      }
    }
    const std::uint64_t mem = (in.take<std::uint8_t>() & 1) ? in.take<std::uint64_t>() : in.take<std::uint8_t>();
    expected.cost.push_back(cost);
    expected.memory.push_back(mem);
    if (csv) {
      text += "\"l," + std::to_string(expected.cost.size()) + "\"," + std::to_string(mem) + "," + space(in) + cost_text + "\n";
    } else {
      text += (expected.cost.size() > 1 ? ", " : "") + std::string("{\"memory\": ") + std::to_string(mem) +
              ", \"cost\":" + space(in) + cost_text + "}";
    }
  }
  if (!csv) text += bare_array ? "]" : "]}";
  if (expected.cost.empty()) invalid = true;
  io::layer_table got;
  try {
    got = csv ? io::read_layers_csv(text, "gen") : io::read_layers_json(text, "gen");
  } catch (const fulcrum::invalid_input& e) {
    if (!invalid) {
      std::fprintf(stderr, "legal layers rejected: %s\n---\n%s\n---\n", e.what(), text.c_str());
      std::abort();
    }
    return;
  }
  fuzz::require(!invalid, "invalid layer accepted");
  fuzz::require(got.memory == expected.memory, "layer memories read exactly");
  fuzz::require(got.cost.size() == expected.cost.size(), "every layer read");
  for (std::size_t i = 0; i < got.cost.size(); ++i)
    fuzz::require(got.cost[i] == expected.cost[i] || std::fabs(got.cost[i] - expected.cost[i]) <= 1e-15 * expected.cost[i],
                  "layer cost read (correctly rounded)");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned mode = data[0] % 6;
  const unsigned variant = data[0] >> 4;
  if (mode < 4) {
    raw_mode(mode, variant, std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
    return 0;
  }
  fuzz::byte_reader in(data + 1, size - 1);
  if (mode == 4) structured_dataset(in, variant, (data[0] >> 3) & 1);
  else structured_layers(in);
  return 0;
}
