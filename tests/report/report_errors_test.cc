// Malformed results: one error line naming the file (and line), nothing written; the CLI prints it
// as "slidesparse: error: ..." and fails.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "report/report.h"
#include "test_support.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::ScratchDir;
using testing::write_bytes;

fs::path copy_of_sample(const ScratchDir& dir) {
  const fs::path out = dir / "run";
  fs::copy(testing::test_data_dir() / "sample_results", out, fs::copy_options::recursive);
  return out;
}

std::string report_error(const fs::path& out) {
  try {
    write_report(out);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Replaces line `line` (1-based) of a text file.
void replace_line(const fs::path& file, int line, const std::string& text) {
  std::ifstream in(file);
  std::string all, l;
  for (int n = 1; std::getline(in, l); ++n) all += (n == line ? text : l) + "\n";
  write_bytes(file, all);
}

const fs::path kPrefillCsv =
    fs::path("results/throughput_bench/prefill/H100_cc90_INT8_cu130_x86_64/cusparselt/2_8") / "BitNet-2B_prefill.csv";

TEST(ReportErrors, ARowWithAMissingCellNamesFileAndLineAndWritesNothing) {
  ScratchDir dir;
  const fs::path out = copy_of_sample(dir);
  replace_line(out / kPrefillCsv, 3, "1024,1024,1,128,128,137.290101,140722.353846");
  EXPECT_EQ(report_error(out), (out / kPrefillCsv).string() + ": line 3: row has 7 cells, header has 8");
  EXPECT_FALSE(fs::exists(out / "report.md"));
  EXPECT_FALSE(fs::exists(out / "plots"));
}

TEST(ReportErrors, ACellThatIsNotANumberOrAMissingColumn) {
  ScratchDir dir;
  const fs::path out = copy_of_sample(dir);
  const fs::path csv = out / kPrefillCsv;
  const std::string original = read_text(csv);
  replace_line(csv, 2, "512,512,1,128,128,43.660923,fast,2.931655");
  EXPECT_EQ(report_error(out), csv.string() + ": line 2: column 'tokens_per_s': 'fast' is not a number");
  replace_line(csv, 2, "512,512.5,1,128,128,43.660923,22339.200000,2.931655");
  EXPECT_EQ(report_error(out), csv.string() + ": line 2: column 'prompt_len': '512.5' is not an integer");
  write_bytes(csv, original);
  replace_line(csv, 1, "M_prefill,prompt_len,max_num_seqs,num_prompts,N_prefill,requests_per_s,tok_s,elapsed_time_s");
  EXPECT_EQ(report_error(out), csv.string() + ": no column 'tokens_per_s' in the header");
  write_bytes(csv, "M_prefill,prompt_len\n\"512,1\n");
  EXPECT_EQ(report_error(out), csv.string() + ": line 2: unterminated quoted cell");
  write_bytes(csv, "");
  EXPECT_EQ(report_error(out), csv.string() + ": empty file (no header row)");
}

TEST(ReportErrors, ADuplicatedPointIsRejected) {
  ScratchDir dir;
  const fs::path out = copy_of_sample(dir);
  replace_line(out / kPrefillCsv, 3, "512,512,1,128,128,43.660923,22339.200000,2.931655");
  EXPECT_EQ(report_error(out), (out / kPrefillCsv).string() + ": line 3: M 512 appears twice");
}

TEST(ReportErrors, MalformedJsonFilesAndFoldersNameTheirPath) {
  ScratchDir dir;
  const fs::path out = copy_of_sample(dir);
  const fs::path status = out / "pipeline_status.json";
  const std::string original = read_text(status);
  write_bytes(status, "{\"version\": 1,");
  EXPECT_EQ(report_error(out), status.string() + ": not valid JSON");
  write_bytes(status, R"({"version": 2, "model": "m", "tasks": []})");
  EXPECT_EQ(report_error(out), status.string() + ": unsupported version 2 (expected 1)");
  write_bytes(status,
              R"({"version": 1, "model": "m", "tasks": [{"id": 1, "name": "base models", "status": "finished"}]})");
  EXPECT_EQ(report_error(out), status.string() + ": tasks[0]: unknown status 'finished'");
  write_bytes(status,
              R"({"version": 1, "model": "m", "tasks": [{"id": "one", "name": "base models", "status": "done"}]})");
  EXPECT_EQ(report_error(out), status.string() + ": tasks[0]: field 'id' is not an integer");
  write_bytes(status, original);

  const fs::path convert = out / "results/convert/BitNet-2B-FP8-SlideSparse-2_6.json";
  write_bytes(convert, R"({"name": "x", "dtype": "fp8", "sparsity": "2:6", "seconds": 1, "bytes": 2})");
  EXPECT_EQ(report_error(out), convert.string() + ": missing field 'expand_ratio'");
  fs::remove(convert);

  fs::create_directories(out / "results/kernel_bench/H100");
  EXPECT_EQ(report_error(out), (out / "results/kernel_bench/H100").string() +
                                   ": 'H100' is not a hardware tag ({GPU}_cc{XY}_{INT8|FP8E4M3}_cu{XY}_{arch})");
  EXPECT_FALSE(fs::exists(out / "report.md"));
}

TEST(ReportErrors, AFolderThatDoesNotExist) {
  ScratchDir dir;
  EXPECT_EQ(report_error(dir / "nowhere"), "results folder '" + (dir / "nowhere").string() + "' does not exist");
}

TEST(ReportCli, PrintsWhereTheReportLandedOrOneErrorLine) {
  ScratchDir dir;
  const fs::path out = copy_of_sample(dir);
  const testing::CommandResult ok = testing::run_slidesparse({"report", out.string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "report: " + (out / "report.md").string() + " (15 plots in " + (out / "plots").string() + ")\n");
  EXPECT_EQ(read_text(out / "report.md"), read_text(testing::test_data_dir() / "sample_results_report.md"));

  replace_line(out / kPrefillCsv, 3, "1024,1024");
  const testing::CommandResult bad = testing::run_slidesparse({"report", out.string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err,
            "slidesparse: error: " + (out / kPrefillCsv).string() + ": line 3: row has 2 cells, header has 8\n");
}

}  // namespace
}  // namespace slidesparse
