#include "report/report_plots.h"

#include <functional>

#include "report/report_format.h"

namespace slidesparse::report {

namespace {

std::string m_axis(const std::string& stage) {
  if (stage == "prefill") return "M (prompt tokens per step, log2 scale)";
  if (stage == "decode") return "M (concurrent sequences, log2 scale)";
  return "M (GEMM rows, log2 scale)";
}

// Speedup vs M per sparse backend, each with its theoretical L/(L-2) as a dashed line of the same
// colour, and the baseline (cuBLASLt, or the engine's dense path) at 1.0.
std::optional<LinePlot> speedup_plot(
    const std::string& title, const std::string& x_label, const std::string& y_label, const std::string& baseline,
    const std::set<int64_t>& ms,
    const std::vector<Sparsity>& backends,
    const std::function<std::optional<double>(const Sparsity&, int64_t)>& speedup) {
  LinePlot plot{title, x_label, y_label, true, false, {}};
  if (ms.empty()) return std::nullopt;
  const double lo = double(*ms.begin()), hi = double(*ms.rbegin());  // reference lines span every M
  std::vector<PlotSeries> theory;
  for (const auto& b : backends) {
    PlotSeries s{b.str(), backend_colour(b), {}};
    for (int64_t m : ms)
      if (const auto v = speedup(b, m)) s.points.push_back({double(m), *v});
    if (s.points.empty()) continue;
    const double t = theoretical_speedup(b);
    theory.push_back({b.str() + " theoretical", s.colour, {{lo, t}, {hi, t}}, true, false, false});
    plot.series.push_back(std::move(s));
  }
  if (plot.series.empty()) return std::nullopt;
  plot.series.insert(plot.series.begin(),
                     PlotSeries{baseline + " = 1.0", backend_colour(Sparsity::dense()), {{lo, 1.0}, {hi, 1.0}}, false, false, true});
  for (auto& s : theory) plot.series.push_back(std::move(s));
  plot.series.push_back({"theoretical L/(L-2)", "#777777", {}, true, false, true});
  return plot;
}

}  // namespace

std::string backend_colour(const Sparsity& backend) {
  if (backend.is_dense()) return "#333333";
  if (backend.is_inf()) return "#17becf";
  switch (backend.group()) {
    case 4:
      return "#1f77b4";
    case 6:
      return "#ff7f0e";
    case 8:
      return "#2ca02c";
    case 10:
      return "#d62728";
    case 12:
      return "#9467bd";
    case 14:
      return "#8c564b";
    case 16:
      return "#e377c2";
    default:
      return "#bcbd22";
  }
}

std::optional<LinePlot> throughput_plot(const ThroughputTable& table, const std::string& stage,
                                        const std::string& subject) {
  LinePlot plot{stage_title(stage) + " throughput vs M — " + subject, m_axis(stage), "tokens/s", true, true, {}};
  for (const auto& [backend, points] : table.by_backend) {
    PlotSeries s{engine_label(backend), backend_colour(backend), {}};
    for (const auto& [m, row] : points)
      if (!row.failed()) s.points.push_back({double(m), row.tokens_per_s});
    if (!s.points.empty()) plot.series.push_back(std::move(s));
  }
  if (plot.series.empty()) return std::nullopt;
  return plot;
}

std::optional<LinePlot> throughput_speedup_plot(const ThroughputTable& table, const std::string& stage,
                                                const std::string& subject) {
  return speedup_plot(stage_title(stage) + " speedup over dense — " + subject, m_axis(stage),
                      "speedup (sparse / dense tokens/s)", "dense", table.ms, table.sparse_backends(),
                      [&](const Sparsity& b, int64_t m) { return table.speedup(b, m); });
}

std::optional<LinePlot> kernel_speedup_plot(const KernelTable& table, const std::string& subject) {
  return speedup_plot("Kernel speedup over cuBLASLt (4-layer total) — " + subject, m_axis("kernel"),
                      "speedup (cuBLASLt / sparse latency)", "cuBLASLt", table.ms, table.sparse_backends(),
                      [&](const Sparsity& b, int64_t m) { return table.speedup(b, m); });
}

std::string add_plot(std::vector<PlotFile>& files, const std::string& name, const LinePlot& plot) {
  files.push_back({name, render_svg(plot)});
  return "![" + plot.title + "](plots/" + name + ")\n";
}

}  // namespace slidesparse::report
