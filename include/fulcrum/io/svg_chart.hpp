// SPDX-License-Identifier: Apache-2.0
/// @file io/svg_chart.hpp
/// A self-contained SVG chart of per-group loads (per bin, per rank, per stage), one series per
/// plan ("before", "after", ...), with title, axis labels, ticks, grid, legend and dashed
/// reference lines (capacity, lower bound). Up to `bar_limit` groups it draws grouped bars; above
/// that, one line per series (min/max envelope per pixel column, so peaks stay visible). When all
/// values are close together the y axis starts above zero (`zoom`), and its label says so.
/// Output is deterministic and valid XML. O(total points).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace fulcrum::io {

/// One data series: a value per group (series may have different lengths).
struct chart_series {
  std::string name;
  std::vector<double> values;
};

/// A horizontal dashed line at `value` (e.g. capacity, lower bound).
struct chart_reference {
  std::string name;
  double value = 0;
};

/// What to draw.
struct load_chart {
  std::string title;
  std::string subtitle;
  std::string x_label = "group";
  std::string y_label = "load";
  std::vector<chart_series> series;
  std::vector<chart_reference> references;
  int width = 1000;
  int height = 560;
  std::size_t bar_limit = 80;  ///< at most this many groups: bars; more: lines
  /// Start the y axis above zero when every value lies in the upper half of the range, so small
  /// imbalances are visible (the axis label then says where it starts).
  bool zoom = true;
};

namespace detail {

inline std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Drop control characters XML 1.0 forbids.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') out += c;
    }
  }
  return out;
}

/// A round step >= raw: 1, 2, 2.5, 5 x 10^k.
inline double nice_step(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw * (1 - 1e-12)) return m * mag;
  return 10 * mag;
}

/// Compact tick label: 950, 12.5k, 3.2M, 1.5G; `step` (the tick spacing) sets the decimals shown.
inline std::string short_number(double v, double step = 0) {
  std::ostringstream os;
  const double a = std::fabs(v);
  const char* suffix = "";
  double div = 1;
  if (a >= 1e9) div = 1e9, suffix = "G";
  else if (a >= 1e6) div = 1e6, suffix = "M";
  else if (a >= 1e4) div = 1e3, suffix = "k";
  const double shown = v / div;
  int decimals = 0;
  if (step > 0) {
    decimals = static_cast<int>(std::max(0.0, -std::floor(std::log10(step / div) + 1e-9)));
    if (std::fabs(step / div * std::pow(10.0, decimals) - std::round(step / div * std::pow(10.0, decimals))) > 1e-6) ++decimals;
  } else if (shown != std::floor(shown)) {
    decimals = std::fabs(shown) < 10 ? 2 : 1;
  }
  os.setf(std::ios::fixed);
  os.precision(std::min(decimals, 9));
  os << shown << suffix;
  return os.str();
}

inline std::string fixed(double v) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(1);
  os << v;
  return os.str();
}

inline const char* series_color(std::size_t i) {
  static constexpr const char* palette[] = {"#9aa0a6", "#1a73e8", "#e8710a", "#188038", "#a142f4", "#d01884"};
  return palette[i % (sizeof palette / sizeof palette[0])];
}

}  // namespace detail

/// Writes `chart` as an SVG document.
inline void write_svg(std::ostream& os, const load_chart& chart) {
  using detail::fixed;
  using detail::xml_escape;
  const double W = chart.width, H = chart.height;
  const double left = 80, right = 24, legend_y = chart.subtitle.empty() ? 56 : 78, top = legend_y + 22, bottom = 64;
  const double pw = W - left - right, ph = H - top - bottom;

  std::size_t n = 0;
  double ymax = 0;
  for (const auto& s : chart.series) {
    n = std::max(n, s.values.size());
    for (double v : s.values)
      if (std::isfinite(v)) ymax = std::max(ymax, v);
  }
  for (const auto& r : chart.references)
    if (std::isfinite(r.value)) ymax = std::max(ymax, r.value);
  double ymin_data = ymax;
  for (const auto& s : chart.series)
    for (double v : s.values)
      if (std::isfinite(v)) ymin_data = std::min(ymin_data, v);
  for (const auto& r : chart.references)
    if (std::isfinite(r.value)) ymin_data = std::min(ymin_data, r.value);
  double ybottom = 0;
  double step = detail::nice_step(ymax > 0 ? ymax * 1.08 / 5 : 1);
  if (chart.zoom && ymax > 0 && ymin_data > 0.5 * ymax) {
    const double spread = std::max(ymax - ymin_data, ymax * 1e-6);
    step = detail::nice_step(spread * 1.4 / 5);
    ybottom = std::max(0.0, step * std::floor((ymin_data - 0.2 * spread) / step));
  }
  const double ytop = step * std::ceil((ymax > 0 ? ymax + 0.08 * (ymax - ybottom) : 5 * step) / step);
  auto y_of = [&](double v) {
    const double c = std::isfinite(v) ? std::clamp(v, ybottom, ytop) : ybottom;
    return top + ph - (c - ybottom) / (ytop - ybottom) * ph;
  };
  const double slots = static_cast<double>(std::max<std::size_t>(n, 1));
  auto x_of = [&](double slot) { return left + slot / slots * pw; };

  os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
     << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << chart.width << "\" height=\"" << chart.height
     << "\" viewBox=\"0 0 " << chart.width << ' ' << chart.height << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
     << "<title>" << xml_escape(chart.title) << "</title>\n"
     << "<rect x=\"0\" y=\"0\" width=\"" << chart.width << "\" height=\"" << chart.height << "\" fill=\"#ffffff\"/>\n"
     << "<text x=\"" << fixed(W / 2) << "\" y=\"30\" text-anchor=\"middle\" font-size=\"19\" font-weight=\"bold\">"
     << xml_escape(chart.title) << "</text>\n";
  if (!chart.subtitle.empty())
    os << "<text x=\"" << fixed(W / 2) << "\" y=\"54\" text-anchor=\"middle\" font-size=\"13\" fill=\"#444444\">"
       << xml_escape(chart.subtitle) << "</text>\n";

  // Grid and y ticks.
  os << "<g font-size=\"12\" fill=\"#333333\">\n";
  for (double v = ybottom; v <= ytop + step * 1e-9; v += step) {
    const double y = y_of(v);
    os << "<line x1=\"" << fixed(left) << "\" y1=\"" << fixed(y) << "\" x2=\"" << fixed(left + pw) << "\" y2=\"" << fixed(y)
       << "\" stroke=\"#e0e0e0\"/>\n"
       << "<text x=\"" << fixed(left - 8) << "\" y=\"" << fixed(y + 4) << "\" text-anchor=\"end\">"
       << detail::short_number(v, step) << "</text>\n";
  }
  // x ticks: about 10, at round group numbers (1-based labels).
  const double xstep = detail::nice_step(slots / 10);
  const bool bars = n <= chart.bar_limit;
  for (double g = 0; g < slots; g += std::max(1.0, xstep)) {
    const double x = bars ? x_of(g + 0.5) : x_of(g);
    os << "<line x1=\"" << fixed(x) << "\" y1=\"" << fixed(top + ph) << "\" x2=\"" << fixed(x) << "\" y2=\""
       << fixed(top + ph + 5) << "\" stroke=\"#333333\"/>\n"
       << "<text x=\"" << fixed(x) << "\" y=\"" << fixed(top + ph + 19) << "\" text-anchor=\"middle\">"
       << static_cast<long long>(g) << "</text>\n";
  }
  os << "</g>\n";

  // Data.
  const std::size_t s_count = chart.series.size();
  for (std::size_t si = 0; si < s_count; ++si) {
    const auto& s = chart.series[si];
    const char* color = detail::series_color(s_count == 1 ? 1 : si);
    os << "<g fill=\"" << color << "\" stroke=\"" << color << "\">\n";
    if (bars) {
      const double slot_w = pw / slots;
      const double bar_w = slot_w * 0.8 / static_cast<double>(std::max<std::size_t>(s_count, 1));
      for (std::size_t g = 0; g < s.values.size(); ++g) {
        const double x = x_of(static_cast<double>(g)) + slot_w * 0.1 + bar_w * static_cast<double>(si);
        const double y = y_of(s.values[g]);
        os << "<rect x=\"" << fixed(x) << "\" y=\"" << fixed(y) << "\" width=\"" << fixed(std::max(bar_w, 0.5))
           << "\" height=\"" << fixed(top + ph - y) << "\" stroke=\"none\"><title>" << xml_escape(s.name) << ", group "
           << g << ": " << detail::short_number(s.values[g]) << "</title></rect>\n";
      }
    } else if (!s.values.empty()) {
      // One column per pixel: min and max of the groups falling in it.
      const std::size_t columns = static_cast<std::size_t>(std::max(1.0, std::floor(pw)));
      os << "<polyline fill=\"none\" stroke-width=\"1.6\" stroke-linejoin=\"round\" points=\"";
      std::size_t g = 0;
      for (std::size_t c = 0; c < columns && g < s.values.size(); ++c) {
        const std::size_t end = std::max(g + 1, static_cast<std::size_t>(std::ceil(static_cast<double>(c + 1) * slots / static_cast<double>(columns))));
        double lo = s.values[g], hi = s.values[g];
        for (std::size_t j = g; j < std::min(end, s.values.size()); ++j) lo = std::min(lo, s.values[j]), hi = std::max(hi, s.values[j]);
        const double x = x_of(static_cast<double>(g));
        os << fixed(x) << ',' << fixed(y_of(hi)) << ' ';
        if (lo != hi) os << fixed(x) << ',' << fixed(y_of(lo)) << ' ';
        g = end;
      }
      os << "\"/>\n";
    }
    os << "</g>\n";
  }
  // Reference lines.
  for (const auto& r : chart.references) {
    if (!std::isfinite(r.value)) continue;
    const double y = y_of(r.value);
    os << "<line x1=\"" << fixed(left) << "\" y1=\"" << fixed(y) << "\" x2=\"" << fixed(left + pw) << "\" y2=\"" << fixed(y)
       << "\" stroke=\"#d93025\" stroke-width=\"1.5\" stroke-dasharray=\"6,4\"/>\n";
  }
  // Axes.
  os << "<line x1=\"" << fixed(left) << "\" y1=\"" << fixed(top) << "\" x2=\"" << fixed(left) << "\" y2=\"" << fixed(top + ph)
     << "\" stroke=\"#333333\"/>\n"
     << "<line x1=\"" << fixed(left) << "\" y1=\"" << fixed(top + ph) << "\" x2=\"" << fixed(left + pw) << "\" y2=\""
     << fixed(top + ph) << "\" stroke=\"#333333\"/>\n"
     << "<text x=\"" << fixed(left + pw / 2) << "\" y=\"" << fixed(H - 16) << "\" text-anchor=\"middle\" font-size=\"14\">"
     << xml_escape(chart.x_label) << "</text>\n"
     << "<text x=\"18\" y=\"" << fixed(top + ph / 2) << "\" text-anchor=\"middle\" font-size=\"14\" transform=\"rotate(-90 18 "
     << fixed(top + ph / 2) << ")\">" << xml_escape(chart.y_label)
     << (ybottom > 0 ? " (axis from " + detail::short_number(ybottom) + ")" : std::string()) << "</text>\n";

  // Legend: one row under the titles.
  const std::size_t entries = s_count + chart.references.size();
  if (entries > 0) {
    double width = 0;
    for (const auto& se : chart.series) width += 36 + 7.0 * static_cast<double>(se.name.size());
    for (const auto& r : chart.references) width += 36 + 7.0 * static_cast<double>(r.name.size());
    double x = std::max(left, left + (pw - width) / 2);
    const double y = legend_y;
    os << "<g font-size=\"12\">\n";
    for (std::size_t si = 0; si < s_count; ++si) {
      os << "<rect x=\"" << fixed(x) << "\" y=\"" << fixed(y - 9) << "\" width=\"18\" height=\"10\" fill=\""
         << detail::series_color(s_count == 1 ? 1 : si) << "\"/>\n<text x=\"" << fixed(x + 24) << "\" y=\"" << fixed(y)
         << "\">" << xml_escape(chart.series[si].name) << "</text>\n";
      x += 36 + 7.0 * static_cast<double>(chart.series[si].name.size());
    }
    for (const auto& r : chart.references) {
      os << "<line x1=\"" << fixed(x) << "\" y1=\"" << fixed(y - 4) << "\" x2=\"" << fixed(x + 18) << "\" y2=\""
         << fixed(y - 4) << "\" stroke=\"#d93025\" stroke-width=\"1.5\" stroke-dasharray=\"6,4\"/>\n<text x=\""
         << fixed(x + 24) << "\" y=\"" << fixed(y) << "\">" << xml_escape(r.name) << "</text>\n";
      x += 36 + 7.0 * static_cast<double>(r.name.size());
    }
    os << "</g>\n";
  }
  os << "</svg>\n";
}

/// The chart as an SVG string.
[[nodiscard]] inline std::string to_svg(const load_chart& chart) {
  std::ostringstream os;
  write_svg(os, chart);
  return os.str();
}

}  // namespace fulcrum::io
