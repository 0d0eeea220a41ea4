#include "report/svg_plot.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace slidesparse::report {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

LinePlot throughput(std::vector<std::pair<double, double>> points) {
  return {"Prefill throughput", "M", "tokens/s", true, true, {{"cuBLASLt", "#333333", std::move(points)}}};
}

TEST(SvgPlot, Log2AxisTicksAtPowersOfTwoLabelledWithM) {
  const std::string svg = render_svg(throughput({{512, 21480}, {1024, 30565}, {4096, 71210}}));
  for (const char* label : {">512</text>", ">1024</text>", ">2048</text>", ">4096</text>"})
    EXPECT_TRUE(contains(svg, label)) << label;
  EXPECT_FALSE(contains(svg, ">256</text>"));
  EXPECT_FALSE(contains(svg, ">8192</text>"));
  // y from zero in thousands: 0 .. 80k in steps of 20k.
  for (const char* label : {">0</text>", ">20k</text>", ">40k</text>", ">60k</text>", ">80k</text>"})
    EXPECT_TRUE(contains(svg, label)) << label;
  EXPECT_FALSE(contains(svg, ">100k</text>"));
  EXPECT_TRUE(contains(svg, "<polyline fill=\"none\" stroke=\"#333333\" stroke-width=\"2.0\" points=\""));
  EXPECT_EQ(svg, render_svg(throughput({{512, 21480}, {1024, 30565}, {4096, 71210}})));
}

TEST(SvgPlot, CrowdedAxisLabelsEveryOtherTick) {
  std::vector<std::pair<double, double>> points;
  for (double m = 64; m <= 131072; m *= 2) points.push_back({m, 1.0 + m / 1e6});
  const std::string svg = render_svg(throughput(points));
  EXPECT_TRUE(contains(svg, ">64</text>"));
  EXPECT_FALSE(contains(svg, ">128</text>"));
  EXPECT_TRUE(contains(svg, ">256</text>"));
  EXPECT_TRUE(contains(svg, ">65536</text>"));
  EXPECT_FALSE(contains(svg, ">131072</text>"));
}

TEST(SvgPlot, SpeedupAxisFitsDataAndTheoryWithDashedLegendOnlyStyles) {
  LinePlot plot{"Speedup", "M", "speedup", true, false, {}};
  plot.series.push_back({"2:4", "#1f77b4", {{64, 1.1}, {256, 1.25}}});
  plot.series.push_back({"2:4 theoretical", "#1f77b4", {{64, 2.0}, {256, 2.0}}, true, false, false});
  plot.series.push_back({"theoretical L/(L-2)", "#777777", {}, true, false, true});
  const std::string svg = render_svg(plot);
  EXPECT_TRUE(contains(svg, ">2.0</text>"));
  EXPECT_TRUE(contains(svg, ">1.2</text>"));
  EXPECT_FALSE(contains(svg, ">0.0</text>"));  // not forced to start at zero
  EXPECT_TRUE(contains(svg, ">theoretical L/(L-2)</text>"));
  EXPECT_FALSE(contains(svg, ">2:4 theoretical</text>"));  // drawn, not in the legend
  EXPECT_TRUE(contains(svg, "<title>2:4 theoretical</title>"));
  EXPECT_TRUE(contains(svg, "stroke=\"#1f77b4\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\""));
}

TEST(SvgPlot, TextIsEscapedAndBadInputRejected) {
  LinePlot plot = throughput({{64, 1}});
  plot.title = "a < b & \"c\"";
  EXPECT_TRUE(contains(render_svg(plot), ">a &lt; b &amp; &quot;c&quot;</text>"));
  auto error_of = [](const LinePlot& p) {
    try {
      render_svg(p);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error_of(throughput({})), "plot 'Prefill throughput' has no data");
  EXPECT_EQ(error_of(throughput({{0, 1}})), "plot 'Prefill throughput': x must be positive on a log2 axis");
}

}  // namespace
}  // namespace slidesparse::report
