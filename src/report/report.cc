#include "report/report.h"

#include "io/staged_directory.h"
#include "report/report_sections.h"
#include "report/results.h"

namespace slidesparse {

ReportSummary write_report(const std::filesystem::path& out_dir, const std::vector<std::filesystem::path>& compare_with) {
  using namespace report;
  const Results results = read_results(out_dir);
  std::vector<Results> others;
  for (const auto& dir : compare_with) others.push_back(read_results(dir));
  Results compared = results;
  add_other_machines(compared, others);
  std::vector<PlotFile> plots;
  std::string md = title_and_summary(results);
  md += tasks_section(results);
  md += preparation_section(results);
  md += conversion_section(results, plots);
  md += tuning_section(results);
  md += throughput_section(results, "prefill", plots);
  md += throughput_section(results, "decode", plots);
  md += kernel_section(results, plots);
  md += speedup_chain_section(results);
  md += failures_section(results);
  md += cross_gpu_section(compared);
  while (md.size() >= 2 && md.ends_with("\n\n")) md.pop_back();  // one trailing newline

  StagedDirectory plot_dir(out_dir / "plots", /*overwrite=*/true);
  for (const auto& p : plots) write_file_atomic(plot_dir.path() / p.name, p.svg);
  plot_dir.commit();
  const std::filesystem::path report_md = out_dir / "report.md";
  write_file_atomic(report_md, md);
  return {report_md, static_cast<int>(plots.size())};
}

}  // namespace slidesparse
