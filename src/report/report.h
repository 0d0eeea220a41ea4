// `slidesparse report DIR`: OUT/report.md and OUT/plots/*.svg regenerated from a results folder
// (the pipeline's --out; layout in pipeline_status.json + results/). Only the results' own times
// appear in the report (no "now"), so the same results always give the same bytes.
#pragma once

#include <filesystem>
#include <vector>

namespace slidesparse {

struct ReportSummary {
  std::filesystem::path report_md;
  int plots = 0;
};

// Reads everything first (Error naming the file on malformed input, nothing written then), then
// replaces OUT/plots as a whole (StagedDirectory) and writes OUT/report.md atomically.
// `compare_with`: results folders of other runs (other GPUs); their benchmark series join only the
// cross-GPU comparison, and only for machines this run has no results of.
ReportSummary write_report(const std::filesystem::path& out_dir,
                           const std::vector<std::filesystem::path>& compare_with = {});

}  // namespace slidesparse
