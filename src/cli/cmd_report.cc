#include <cstdio>
#include <filesystem>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "report/report.h"

namespace slidesparse {

int run_report(const CommandArgs& args) {
  ArgParser p("slidesparse report",
              "Regenerates DIR/report.md and DIR/plots/*.svg from a results folder (the pipeline's --out):\n"
              "task summary, preparation, conversion, tuning, prefill / decode / kernel tables with speedups,\n"
              "failures, and a cross-GPU comparison when results of several GPUs are present.");
  p.positional("DIR", "results folder (pipeline_status.json and results/)");
  p.option("compare", "DIR[,DIR...]",
           "results folders of runs on other GPUs: added to the cross-GPU comparison only (this run's own GPU keeps "
           "its own numbers)");
  if (!p.parse(args)) return 0;
  std::vector<std::filesystem::path> compare;
  if (p.has("compare"))
    for (const std::string& dir : split_commas(p.get("compare"))) compare.emplace_back(dir);
  const ReportSummary summary = write_report(p.get("DIR"), compare);
  std::printf("report: %s (%d plot%s in %s)\n", summary.report_md.c_str(), summary.plots, summary.plots == 1 ? "" : "s",
              (summary.report_md.parent_path() / "plots").c_str());
  return 0;
}

}  // namespace slidesparse
