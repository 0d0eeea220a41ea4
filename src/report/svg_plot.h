// A small line-plot renderer for the report: SVG text with axes, ticks and labels, a log2 x-axis
// for M, grid lines, a legend beside the plot area (so it never covers data), dashed lines for
// theoretical values. Output is deterministic (fixed-point coordinates) so reports can be compared.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace slidesparse::report {

struct PlotSeries {
  std::string name;
  std::string colour;                             // "#1f77b4"
  std::vector<std::pair<double, double>> points;  // (x, y) in data units, ascending x
  bool dashed = false;
  bool markers = true;
  bool in_legend = true;  // a series with no points and in_legend only explains a line style
};

struct LinePlot {
  std::string title, x_label, y_label;
  bool log2_x = true;        // x ticks at powers of two, labelled with their value
  bool y_from_zero = false;  // throughput axes start at 0; speedup axes fit the data
  std::vector<PlotSeries> series;
};

// Error if no series has a point, or a log2 axis gets an x <= 0.
std::string render_svg(const LinePlot& plot);

}  // namespace slidesparse::report
