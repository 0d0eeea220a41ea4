// The report's figures, built from the result views: throughput vs M per backend, speedup vs M per
// sparsity against the theoretical L/(L-2), kernel speedups. Each is an SVG under OUT/plots/.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/result_views.h"
#include "report/svg_plot.h"

namespace slidesparse::report {

// One colour per backend, the same in every plot.
std::string backend_colour(const Sparsity& backend);

// nullopt when the table has no point to draw. `subject` names machine and dtype: "H100 (cc 9.0), INT8".
std::optional<LinePlot> throughput_plot(const ThroughputTable& table, const std::string& stage,
                                        const std::string& subject);
std::optional<LinePlot> throughput_speedup_plot(const ThroughputTable& table, const std::string& stage,
                                                const std::string& subject);
std::optional<LinePlot> kernel_speedup_plot(const KernelTable& table, const std::string& subject);

struct PlotFile {
  std::string name;  // file name under plots/
  std::string svg;
};

// Renders `plot` into `files` as `name` and returns the Markdown image line linking it.
std::string add_plot(std::vector<PlotFile>& files, const std::string& name, const LinePlot& plot);

}  // namespace slidesparse::report
