// SPDX-License-Identifier: Apache-2.0
// fulcrum-plan calibrate: fit a cost model to measured timings (core/cost_fit.hpp). Input: a CSV
// with a header row and the columns `tokens,time` (one document per row: t = a*L + b*L^2 + c) or
// `text_tokens,image_tiles,time` (L = text_tokens + tokens_per_tile * image_tiles:
// t = a*L + b*L^2 + per_tile*tiles + c); other columns are ignored. Output: the cost model as
// JSON (--output) and a plot of the fit against the data (--svg). Without --input it fits the
// embedded timings: W2 lengths timed under a hidden ground truth with 5% noise and 1% stragglers.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include <fulcrum/core/cost_fit.hpp>
#include <fulcrum/io/dataset.hpp>
#include <fulcrum/io/detail/json.hpp>
#include <fulcrum/io/detail/number.hpp>
#include <fulcrum/io/detail/text.hpp>
#include <fulcrum/io/file.hpp>
#include <fulcrum/testing/cost_timings.hpp>
#include <fulcrum/version.hpp>

#include "commands.hpp"

namespace fplan {

namespace {

struct timing_table {
  std::string source;
  bool tiles = false;  ///< text_tokens,image_tiles columns (else tokens)
  std::vector<double> text, images, times;
};

timing_table read_timings(const std::string& path) {
  namespace d = fulcrum::io::detail;
  std::ifstream in;
  d::open_input(in, path);
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  timing_table t;
  t.source = path;
  std::vector<std::string> header, cells;
  std::size_t line_no = 0, tok_col = 0, img_col = 0, time_col = 0;
  d::for_each_line(d::skip_bom(text), [&](std::string_view line) {
    ++line_no;
    if (d::is_blank(line)) return;
    if (header.empty()) {
      d::split_csv(line, path, line_no, header);
      auto find = [&](std::string_view name) -> std::size_t {
        for (std::size_t c = 0; c < header.size(); ++c)
          if (d::trim(header[c]) == name) return c;
        return header.size();
      };
      time_col = find("time");
      tok_col = find("tokens");
      if (tok_col == header.size()) {
        tok_col = find("text_tokens");
        img_col = find("image_tiles");
        if (tok_col == header.size())
          throw fulcrum::invalid_input(
              d::field_error(path, line_no, "tokens", "", "missing from the CSV header (or text_tokens,image_tiles)"));
        if (img_col == header.size())
          throw fulcrum::invalid_input(d::field_error(path, line_no, "image_tiles", "", "missing from the CSV header"));
        t.tiles = true;
      }
      if (time_col == header.size())
        throw fulcrum::invalid_input(d::field_error(path, line_no, "time", "", "missing from the CSV header"));
      return;
    }
    d::split_csv(line, path, line_no, cells);
    auto value = [&](std::size_t col, std::string_view name, bool positive) {
      if (col >= cells.size() || d::trim(cells[col]).empty())
        throw fulcrum::invalid_input(d::field_error(path, line_no, name, "", "missing"));
      const std::string_view s = d::trim(cells[col]);
      double v = 0;
      if (const auto st = d::to_real(s, v); st != d::real_status::ok)
        throw fulcrum::invalid_input(d::field_error(path, line_no, name, s, d::real_problem(st)));
      if (v < 0) throw fulcrum::invalid_input(d::field_error(path, line_no, name, s, "is negative"));
      if (positive && v == 0) throw fulcrum::invalid_input(d::field_error(path, line_no, name, s, "is not positive"));
      return v;
    };
    t.text.push_back(value(tok_col, t.tiles ? "text_tokens" : "tokens", false));
    t.images.push_back(t.tiles ? value(img_col, "image_tiles", false) : 0.0);
    t.times.push_back(value(time_col, "time", true));
  });
  if (header.empty()) throw fulcrum::invalid_input(path + ":1: missing CSV header row");
  const std::size_t features = t.tiles ? 4 : 3;
  if (t.times.size() < features)
    throw fulcrum::invalid_input(path + ": " + std::to_string(t.times.size()) + " timings: fewer than the " +
                                 std::to_string(features) + " coefficients to fit");
  return t;
}

std::string num(double v) {
  std::ostringstream os;
  os.precision(6);
  os << v;
  return os.str();
}

}  // namespace

int cmd_calibrate(const calibrate_settings& s, const output_options& out) {
  timing_table t;
  if (s.input.empty()) {
    const auto d = fulcrum::testing::default_timings(s.samples, s.seed);
    t.text = d.lengths;
    t.images.assign(d.lengths.size(), 0.0);
    t.times = d.times;
    std::ostringstream src;
    src << "embedded timings (W2 lengths, seed " << s.seed << ", hidden ground truth + 5% noise + 1% stragglers)";
    t.source = src.str();
  } else {
    t = read_timings(s.input);
  }
  const std::size_t n = t.times.size();
  const std::size_t p = t.tiles ? 4 : 3;
  std::vector<double> x;
  x.reserve(n * p);
  std::vector<double> length(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double l = t.text[i] + s.tokens_per_tile * t.images[i];
    length[i] = l;
    x.push_back(l);
    x.push_back(l * l);
    if (t.tiles) x.push_back(t.images[i]);
    x.push_back(1.0);
  }
  fulcrum::fit_options o;
  o.robust = s.robust == "none"      ? fulcrum::fit_robustness::none
             : s.robust == "trimmed" ? fulcrum::fit_robustness::trimmed
                                     : fulcrum::fit_robustness::huber;
  o.relative = !s.absolute;
  const auto fit = fulcrum::fit_cost(x, p, t.times, o);
  const double a = fit.coefficients[0], b = fit.coefficients[1];
  const double per_tile = t.tiles ? fit.coefficients[2] : 0.0;
  const double c = fit.coefficients[p - 1];

  // ---- report
  if (!out.quiet) {
    std::cout << "fulcrum-plan calibrate: " << n << " timings from " << t.source << "\n\n";
    if (t.tiles)
      std::cout << "  model   a*L + b*L^2 + per_tile*tiles + c   (L = text_tokens + " << num(s.tokens_per_tile)
                << " * image_tiles)\n";
    else
      std::cout << "  model   a*L + b*L^2 + c   (L = tokens)\n";
    std::cout << "  a       " << num(a) << "\n  b       " << num(b) << '\n';
    if (t.tiles) std::cout << "  per_tile " << num(per_tile) << '\n';
    std::cout << "  c       " << num(c) << "\n\n";
    std::cout << "  fit     " << s.robust << (s.absolute ? ", absolute residuals" : ", relative residuals") << ", "
              << fit.iterations << " iterations\n";
    std::cout << "  RMS relative error  " << pct(fit.rms_relative_error) << " (all), "
              << pct(fit.inlier_rms_relative_error) << " (inliers)\n";
    std::cout << "  R^2 (inliers)       " << fmt(fit.r_squared, 4) << '\n';
    std::cout << "  outliers            " << fit.outliers << " of " << n << '\n';
    if (s.input.empty()) {
      const auto& g = fulcrum::testing::calibrate_ground_truth;
      const double worst = std::max({std::fabs(a / g.a - 1), std::fabs(b / g.b - 1), std::fabs(c / g.c - 1)});
      std::cout << "  ground truth        a = " << num(g.a) << ", b = " << num(g.b) << ", c = " << num(g.c)
                << ": recovered within " << pct(worst) << '\n';
    }
    if (!t.tiles)
      std::cout << "\n  balance with it: fulcrum-plan balance --cost attention --cost-a " << num(a) << " --cost-b "
                << num(b) << " --cost-c " << num(c) << '\n';
  }

  // ---- cost model JSON
  namespace d = fulcrum::io::detail;
  std::ostringstream js;
  js << "{\n  \"generator\": ";
  d::write_json_string(js, "fulcrum-plan " + std::to_string(FULCRUM_VERSION_MAJOR) + "." +
                               std::to_string(FULCRUM_VERSION_MINOR) + "." + std::to_string(FULCRUM_VERSION_PATCH));
  js << ",\n  \"source\": ";
  d::write_json_string(js, t.source);
  js << ",\n  \"model\": " << (t.tiles ? "\"attention_plus_tiles\"" : "\"attention\"");
  js << ",\n  \"formula\": "
     << (t.tiles ? "\"a*L + b*L^2 + per_tile*tiles + c, L = text_tokens + tokens_per_tile*image_tiles\""
                 : "\"a*L + b*L^2 + c, L = tokens\"");
  js << ",\n  \"a\": ";
  d::write_json_number(js, a);
  js << ",\n  \"b\": ";
  d::write_json_number(js, b);
  js << ",\n  \"c\": ";
  d::write_json_number(js, c);
  if (t.tiles) {
    js << ",\n  \"per_tile\": ";
    d::write_json_number(js, per_tile);
    js << ",\n  \"tokens_per_tile\": ";
    d::write_json_number(js, s.tokens_per_tile);
  }
  js << ",\n  \"fit\": {\"robust\": ";
  d::write_json_string(js, s.robust);
  js << ", \"relative\": " << (s.absolute ? "false" : "true") << ", \"samples\": " << n
     << ", \"outliers\": " << fit.outliers << ", \"iterations\": " << fit.iterations << ", \"rms_relative_error\": ";
  d::write_json_number(js, fit.rms_relative_error);
  js << ", \"inlier_rms_relative_error\": ";
  d::write_json_number(js, fit.inlier_rms_relative_error);
  js << ", \"r_squared\": ";
  d::write_json_number(js, fit.r_squared);
  js << "}\n}\n";

  // ---- plot: samples sorted by fitted time, measured vs fitted
  fulcrum::io::load_chart chart;
  chart.title = "Calibrated cost: fit vs measured";
  std::ostringstream sub;
  sub << n << " timings from " << t.source << "; RMS relative error " << pct(fit.inlier_rms_relative_error)
      << " (inliers), " << fit.outliers << " outliers";
  chart.subtitle = sub.str();
  chart.x_label = "timing (sorted by fitted time)";
  chart.y_label = "time";
  chart.zoom = false;
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::vector<double> pred(n);
  for (std::size_t i = 0; i < n; ++i) pred[i] = fit.predict(std::span<const double>(x).subspan(i * p, p));
  std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return pred[i] < pred[j]; });
  fulcrum::io::chart_series measured{"measured", {}}, fitted{"fitted", {}};
  for (std::size_t i : order) measured.values.push_back(t.times[i]), fitted.values.push_back(pred[i]);
  chart.series = {std::move(measured), std::move(fitted)};

  fulcrum::io::output_set files;
  if (!out.output.empty()) files.add(out.output, js.str());
  if (!out.svg.empty()) files.add(out.svg, fulcrum::io::to_svg(chart));
  files.commit();
  if (!out.quiet && !out.output.empty()) std::cout << "\nwrote cost model: " << out.output << '\n';
  if (!out.quiet && !out.svg.empty())
    std::cout << (out.output.empty() ? "\n" : "") << "wrote chart: " << out.svg << '\n';
  return exit_ok;
}

}  // namespace fplan
