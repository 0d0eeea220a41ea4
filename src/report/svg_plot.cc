#include "report/svg_plot.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "io/csv_writer.h"

namespace slidesparse::report {

namespace {

// Canvas and plot area (pixels): the legend column sits right of the plot area.
constexpr double kWidth = 820, kHeight = 480;
constexpr double kLeft = 84, kRight = 630, kTop = 52, kBottom = 416;
constexpr double kLegendX = 648;

std::string px(double v) { return format_fixed(v, 1); }

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

// 1, 2, 2.5 or 5 times a power of ten: about `intervals` steps over `range`.
double nice_step(double range, int intervals) {
  const double raw = range / intervals;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  const double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * magnitude;
}

// Fewest decimals that show `step` exactly (0.25 -> 2, 2.5 -> 1, 5000 -> 0).
int decimals_for(double step) {
  for (int d = 0; d < 6; ++d) {
    const double scaled = step * std::pow(10.0, d);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) return d;
  }
  return 6;
}

struct Axis {
  double lo = 0, hi = 1;
  double map(double v, double p0, double p1) const { return p0 + (v - lo) / (hi - lo) * (p1 - p0); }
};

struct YTicks {
  Axis axis;
  std::vector<double> values;
  double step = 1;
};

YTicks y_ticks(double lo, double hi, bool from_zero) {
  if (from_zero) lo = std::min(lo, 0.0);
  if (hi - lo < 1e-12) {  // a flat line still gets a readable band around it
    const double pad = std::max(std::fabs(hi) * 0.1, 0.1);
    lo -= pad, hi += pad;
  } else {
    const double pad = 0.06 * (hi - lo);
    hi += pad;
    if (!from_zero || lo < 0) lo -= pad;
  }
  YTicks t;
  t.step = nice_step(hi - lo, 6);
  const double first = std::floor(lo / t.step + 1e-9), last = std::ceil(hi / t.step - 1e-9);
  t.axis = {first * t.step, last * t.step};
  for (double i = first; i <= last + 1e-9; i += 1) t.values.push_back(i * t.step);
  return t;
}

// Large values read better as "40k" / "1.5M"; the step decides the decimals.
std::string y_label(double value, double step, double largest) {
  double scale = 1;
  std::string suffix;
  if (largest >= 1e6)
    scale = 1e6, suffix = "M";
  else if (largest >= 1e4)
    scale = 1e3, suffix = "k";
  if (std::fabs(value) < step * 1e-9) return "0";
  return format_fixed(value / scale, decimals_for(step / scale)) + suffix;
}

std::string line(double x1, double y1, double x2, double y2, const std::string& style) {
  return "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) + "\" " + style +
         "/>\n";
}

std::string text(double x, double y, const std::string& anchor, const std::string& content,
                 const std::string& extra = "") {
  return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor + "\"" + extra + ">" +
         escape(content) + "</text>\n";
}

std::string stroke(const PlotSeries& s, double width) {
  return "stroke=\"" + s.colour + "\" stroke-width=\"" + format_fixed(width, 1) + "\"" +
         (s.dashed ? " stroke-dasharray=\"6 4\"" : "");
}

// Measured series stand out; reference lines (dashed theory, a plain baseline) stay thinner.
double line_width(const PlotSeries& s) { return s.dashed ? 1.5 : s.markers ? 2.0 : 1.2; }

}  // namespace

std::string render_svg(const LinePlot& plot) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const auto& s : plot.series)
    for (const auto& [x, y] : s.points) {
      require(!plot.log2_x || x > 0, "plot '" + plot.title + "': x must be positive on a log2 axis");
      const double u = plot.log2_x ? std::log2(x) : x;
      x_lo = std::min(x_lo, u), x_hi = std::max(x_hi, u);
      y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
    }
  require(x_lo <= x_hi, "plot '" + plot.title + "' has no data");

  // x: half a doubling of margin on each side keeps markers off the axes.
  const double x_pad = x_hi > x_lo ? (plot.log2_x ? 0.3 : 0.05 * (x_hi - x_lo)) : 1.0;
  const Axis xa{x_lo - x_pad, x_hi + x_pad};
  const YTicks yt = y_ticks(y_lo, y_hi, plot.y_from_zero);
  const double largest = std::max(std::fabs(yt.axis.lo), std::fabs(yt.axis.hi));
  auto X = [&](double x) { return xa.map(plot.log2_x ? std::log2(x) : x, kLeft, kRight); };
  auto Y = [&](double y) { return yt.axis.map(y, kBottom, kTop); };

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px(kWidth) + "\" height=\"" + px(kHeight) +
                    "\" viewBox=\"0 0 " + px(kWidth) + " " + px(kHeight) +
                    "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n";
  svg += "<title>" + escape(plot.title) + "</title>\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + px(kWidth) + "\" height=\"" + px(kHeight) + "\" fill=\"#ffffff\"/>\n";
  svg += text(kWidth / 2, 28, "middle", plot.title, " font-size=\"15\" font-weight=\"bold\"");

  // Grid and y ticks.
  for (double v : yt.values) {
    const double y = Y(v);
    svg += line(kLeft, y, kRight, y, "stroke=\"#e6e6e6\" stroke-width=\"1\"");
    svg += line(kLeft - 5, y, kLeft, y, "stroke=\"#333333\" stroke-width=\"1\"");
    svg += text(kLeft - 8, y + 4, "end", y_label(v, yt.step, largest));
  }
  // x ticks: powers of two (every other label when they would crowd), or a linear scale.
  std::vector<double> x_ticks;
  if (plot.log2_x) {
    for (double k = std::ceil(xa.lo); k <= std::floor(xa.hi); k += 1) x_ticks.push_back(std::exp2(k));
  } else {
    const double step = nice_step(xa.hi - xa.lo, 6);
    for (double k = std::ceil(xa.lo / step); k * step <= xa.hi; k += 1) x_ticks.push_back(k * step);
  }
  const size_t label_every = x_ticks.size() > 10 ? 2 : 1;
  for (size_t i = 0; i < x_ticks.size(); ++i) {
    const double x = X(x_ticks[i]);
    svg += line(x, kTop, x, kBottom, "stroke=\"#f0f0f0\" stroke-width=\"1\"");
    svg += line(x, kBottom, x, kBottom + 5, "stroke=\"#333333\" stroke-width=\"1\"");
    if (i % label_every == 0)
      svg += text(x, kBottom + 19, "middle", format_fixed(x_ticks[i], plot.log2_x ? 0 : decimals_for(x_ticks[i])));
  }
  // Axes and their labels.
  svg += line(kLeft, kTop, kLeft, kBottom, "stroke=\"#333333\" stroke-width=\"1\"");
  svg += line(kLeft, kBottom, kRight, kBottom, "stroke=\"#333333\" stroke-width=\"1\"");
  svg += text((kLeft + kRight) / 2, kBottom + 44, "middle", plot.x_label, " font-size=\"13\"");
  const double mid_y = (kTop + kBottom) / 2;
  svg += "<text x=\"0\" y=\"0\" text-anchor=\"middle\" font-size=\"13\" transform=\"translate(20," + px(mid_y) +
         ") rotate(-90)\">" + escape(plot.y_label) + "</text>\n";

  // Series: lines first, markers on top, each in a group titled with its name.
  for (const auto& s : plot.series) {
    if (s.points.empty()) continue;
    svg += "<g>\n<title>" + escape(s.name) + "</title>\n";
    std::string points;
    for (const auto& [x, y] : s.points) {
      if (!points.empty()) points += ' ';
      points += px(X(x)) + "," + px(Y(y));
    }
    if (s.points.size() > 1)
      svg += "<polyline fill=\"none\" " + stroke(s, line_width(s)) + " points=\"" + points + "\"/>\n";
    if (s.markers)
      for (const auto& [x, y] : s.points)
        svg += "<circle cx=\"" + px(X(x)) + "\" cy=\"" + px(Y(y)) + "\" r=\"3.5\" fill=\"" + s.colour + "\"/>\n";
    svg += "</g>\n";
  }

  // Legend column.
  double ly = kTop + 8;
  for (const auto& s : plot.series) {
    if (!s.in_legend) continue;
    svg += line(kLegendX, ly, kLegendX + 26, ly, stroke(s, line_width(s)));
    if (s.markers)
      svg += "<circle cx=\"" + px(kLegendX + 13) + "\" cy=\"" + px(ly) + "\" r=\"3.5\" fill=\"" + s.colour + "\"/>\n";
    svg += text(kLegendX + 34, ly + 4, "start", s.name);
    ly += 20;
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace slidesparse::report
