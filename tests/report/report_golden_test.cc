// The report of the committed sample results (tests/data/sample_results, written by
// tests/data/make_sample_results.py) must reproduce tests/data/sample_results_report.md byte for byte.
// To change the report on purpose, regenerate the golden file and review its diff:
//   SLIDESPARSE_UPDATE_GOLDEN=1 ctest --test-dir <build> -R ReportGolden
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/staged_directory.h"
#include "report/report.h"
#include "test_support.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::ScratchDir;
using testing::test_data_dir;

fs::path copy_of_sample(const ScratchDir& dir) {
  const fs::path out = dir / "run";
  fs::copy(test_data_dir() / "sample_results", out, fs::copy_options::recursive);
  return out;
}

// plots/<name>.svg files the report links, in order.
std::vector<std::string> linked_plots(const std::string& report) {
  std::vector<std::string> out;
  const std::regex link(R"(\]\(plots/([^)]+\.svg)\))");
  for (auto it = std::sregex_iterator(report.begin(), report.end(), link); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

TEST(ReportGolden, SampleResultsReproduceTheGoldenReport) {
  ScratchDir dir;
  const fs::path out = copy_of_sample(dir);
  const ReportSummary summary = write_report(out);
  EXPECT_EQ(summary.report_md, out / "report.md");
  const std::string report = read_text(summary.report_md);
  const fs::path golden = test_data_dir() / "sample_results_report.md";
  if (std::getenv("SLIDESPARSE_UPDATE_GOLDEN")) {
    write_file_atomic(golden, report);
    GTEST_SKIP() << "rewrote " << golden << ": review its diff";
  }
  EXPECT_EQ(report, read_text(golden)) << "the report changed; if on purpose, regenerate the golden file with "
                                          "SLIDESPARSE_UPDATE_GOLDEN=1 and review its diff";
  // H100 INT8 and FP8, A100 INT8: prefill and decode throughput + speedup, kernel speedup each.
  EXPECT_EQ(summary.plots, 15);
}

TEST(ReportGolden, ReportHasEverySectionAndTheCrossGpuComparison) {
  ScratchDir dir;
  const std::string report = read_text(write_report(copy_of_sample(dir)).report_md);
  for (const std::string heading :
       {"# SlideSparse pipeline report\n", "## Run summary\n", "## Tasks\n", "## Model preparation\n",
        "## SlideSparse conversion\n", "## Offline tuning\n", "## Prefill throughput\n", "## Decode throughput\n",
        "## Kernel benchmark\n", "## Failures\n", "## Cross-GPU comparison\n"})
    EXPECT_NE(report.find(heading), std::string::npos) << heading;
  EXPECT_NE(report.find("- **GPUs:** H100 (cc 9.0, CUDA 13.0, x86_64); A100 (cc 8.0, CUDA 13.0, x86_64)\n"),
            std::string::npos);
  EXPECT_NE(report.find("| 8 | kernel cuSPARSELt 2:12..2:inf | skipped | 0.0 s | — | "
                        "not selected (--tasks 1,1,1,1,1,1,1,0) |\n"),
            std::string::npos);
  EXPECT_NE(report.find("| `decode/FP8/cusparselt/2:10/M=256` | cuSPARSELt: cusparseLtMatmul failed "
                        "(CUSPARSE_STATUS_INTERNAL_ERROR) in decode step 17 | 9.4 s |\n"),
            std::string::npos);
  EXPECT_NE(report.find("FP8: not supported (cc 8.0 < 8.9).\n"), std::string::npos);
  EXPECT_NE(report.find("| not supported (cc 8.0 < 8.9) | — |"), std::string::npos);
  // Speedups of the sample's prefill INT8 M=1024 on the H100 (REFERENCE §9's 1.10/1.14/1.08/1.10).
  EXPECT_NE(report.find("| 1024 | 1.10 | 1.14 | 1.08 | 1.10 |\n"), std::string::npos);
  EXPECT_NE(report.find("| theoretical L/(L-2) | 2.00 | 1.50 | 1.33 | 1.25 |\n"), std::string::npos);
}

TEST(ReportGolden, PlotsAreLinkedSvgFilesNamingTheirSeries) {
  ScratchDir dir;
  const fs::path out = copy_of_sample(dir);
  const std::string report = read_text(write_report(out).report_md);
  const std::vector<std::string> links = linked_plots(report);
  ASSERT_EQ(links.size(), 15u);
  std::set<std::string> on_disk;
  for (const auto& e : fs::directory_iterator(out / "plots")) on_disk.insert(e.path().filename().string());
  EXPECT_EQ(on_disk, std::set<std::string>(links.begin(), links.end()));
  for (const auto& name : links) {
    SCOPED_TRACE(name);
    const std::string svg = read_text(out / "plots" / name);
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
    EXPECT_TRUE(svg.ends_with("</svg>\n"));
    EXPECT_EQ(svg.find("nan"), std::string::npos);
    EXPECT_EQ(svg.find("inf\""), std::string::npos);
  }
  const std::string throughput = read_text(out / "plots" / "prefill_throughput_H100_cc90_INT8_cu130_x86_64.svg");
  for (const std::string series : {"dense", "SlideSparse 2:4", "SlideSparse 2:6", "SlideSparse 2:8", "SlideSparse 2:10"})
    EXPECT_NE(throughput.find(">" + series + "</text>"), std::string::npos) << series;
  EXPECT_NE(throughput.find(">tokens/s</text>"), std::string::npos);
  EXPECT_NE(throughput.find(">4096</text>"), std::string::npos);
  const std::string speedup = read_text(out / "plots" / "decode_speedup_H100_cc90_FP8E4M3_cu130_x86_64.svg");
  for (const std::string series : {"2:4", "2:6", "2:8", "2:10", "dense = 1.0", "theoretical L/(L-2)"})
    EXPECT_NE(speedup.find(">" + series + "</text>"), std::string::npos) << series;
  EXPECT_NE(speedup.find("<title>2:8 theoretical</title>"), std::string::npos);
  EXPECT_NE(speedup.find("stroke-dasharray=\"6 4\""), std::string::npos);
  const std::string kernel = read_text(out / "plots" / "kernel_speedup_A100_cc80_INT8_cu130_x86_64.svg");
  EXPECT_NE(kernel.find(">16384</text>"), std::string::npos);
  EXPECT_NE(kernel.find(">2:10</text>"), std::string::npos);
  EXPECT_NE(kernel.find(">cuBLASLt = 1.0</text>"), std::string::npos);  // kernels compare against cuBLASLt itself
}

TEST(ReportGolden, RegeneratingGivesTheSameBytesAndDropsStalePlots) {
  ScratchDir dir;
  const fs::path out = copy_of_sample(dir);
  const std::string first = read_text(write_report(out).report_md);
  testing::write_bytes(out / "plots" / "stale.svg", "<svg/>");
  const std::string svg = read_text(out / "plots" / "kernel_speedup_H100_cc90_INT8_cu130_x86_64.svg");
  EXPECT_EQ(read_text(write_report(out).report_md), first);
  EXPECT_FALSE(fs::exists(out / "plots" / "stale.svg"));
  EXPECT_EQ(read_text(out / "plots" / "kernel_speedup_H100_cc90_INT8_cu130_x86_64.svg"), svg);
  for (const auto& name : testing::list_dir(out))  // no staging or temporary files left
    EXPECT_FALSE(name.starts_with(".") || name.find(".tmp-") != std::string::npos) << name;
}

// `report --compare`: another run's GPU joins the cross-GPU comparison only; its own sections stay
// with its own report. A compare folder that does not exist is one error, and nothing is written.
TEST(ReportGolden, ComparedRunsJoinOnlyTheCrossGpuComparison) {
  ScratchDir dir;
  const fs::path out = copy_of_sample(dir);
  const fs::path other = dir / "a100-run";
  for (const std::string sub : {"results/throughput_bench/prefill", "results/throughput_bench/decode",
                                "results/kernel_bench"}) {
    fs::create_directories(other / sub);
    fs::rename(out / sub / "A100_cc80_INT8_cu130_x86_64", other / sub / "A100_cc80_INT8_cu130_x86_64");
  }
  const std::string alone = read_text(write_report(out).report_md);
  EXPECT_EQ(alone.find("## Cross-GPU comparison\n"), std::string::npos);
  EXPECT_EQ(alone.find("A100"), std::string::npos);

  const std::string compared = read_text(write_report(out, {other}).report_md);
  const size_t cross = compared.find("## Cross-GPU comparison\n");
  ASSERT_NE(cross, std::string::npos);
  EXPECT_EQ(compared.find("### A100"), std::string::npos);  // no per-GPU sections of the other run
  EXPECT_GT(compared.find("A100 (cc 8.0) tokens/s"), cross);
  EXPECT_NE(compared.find("H100 (cc 9.0) tokens/s"), std::string::npos);
  // The comparison is the one the report of both GPUs' results in one folder has.
  const std::string golden = read_text(test_data_dir() / "sample_results_report.md");
  EXPECT_EQ(compared.substr(cross), golden.substr(golden.find("## Cross-GPU comparison\n")));

  fs::remove(out / "report.md");
  try {
    write_report(out, {dir / "missing"});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "results folder '" + (dir / "missing").string() + "' does not exist");
  }
  EXPECT_FALSE(fs::exists(out / "report.md"));
}

// The speedup chain sits between the kernel tables and the failures, one table per machine and
// dtype with sparse results; with every sparse result removed there is nothing to chain.
TEST(ReportGolden, SpeedupChainNeedsSparseResults) {
  ScratchDir dir;
  const fs::path out = copy_of_sample(dir);
  const std::string heading = "## Speedup from kernel to end to end\n";
  std::string report = read_text(write_report(out).report_md);
  const size_t at = report.find(heading);
  ASSERT_NE(at, std::string::npos);
  EXPECT_LT(report.find("## Kernel benchmark\n"), at);
  EXPECT_LT(at, report.find("## Failures\n"));
  EXPECT_NE(report.find("| 2:4 | 2.00 | 1.29 | 1.15 | 1.12 | 1.10 |\n", at), std::string::npos) << report.substr(at, 900);

  std::vector<fs::path> sparse;
  for (const auto& entry : fs::recursive_directory_iterator(out / "results")) {
    const std::string name = entry.path().filename().string();
    if (name == "cusparselt" || name.rfind("cusparselt_", 0) == 0) sparse.push_back(entry.path());
  }
  ASSERT_FALSE(sparse.empty());
  for (const auto& path : sparse) fs::remove_all(path);
  report = read_text(write_report(out).report_md);
  EXPECT_EQ(report.find(heading), std::string::npos);
  EXPECT_NE(report.find("## Kernel benchmark\n"), std::string::npos);
}

// Task 9's results (results/eval/*.json): a perplexity table in the conversion section, dense and
// each 2:L with the change from dense, and a plot of perplexity against L.
TEST(ReportGolden, PerplexityResultsAddATableAndAPlot) {
  ScratchDir dir;
  const fs::path out = copy_of_sample(dir);
  fs::create_directories(out / "results" / "eval");
  auto eval = [&](const std::string& name, const std::string& dtype, const std::string& sparsity, double ppl) {
    const nlohmann::json j = {{"model", name},     {"dtype", dtype},      {"sparsity", sparsity},
                              {"text_file", "wiki.txt"}, {"perplexity", ppl}, {"scored_tokens", 4095},
                              {"context", 1024},   {"stride", 512},       {"windows", 7}};
    testing::write_bytes(out / "results" / "eval" / (name + ".json"), j.dump(2));
  };
  eval("BitNet-2B-INT8", "INT8", "dense", 10.0);
  eval("BitNet-2B-INT8-SlideSparse-2_4", "INT8", "2:4", 12.5);
  eval("BitNet-2B-INT8-SlideSparse-2_8", "INT8", "2:8", 10.8);
  eval("BitNet-2B-FP8", "FP8", "dense", 10.2);
  eval("BitNet-2B-FP8-SlideSparse-2_4", "FP8", "2:4", 13.26);
  const std::string report = read_text(write_report(out).report_md);
  const size_t at = report.find("### Perplexity\n");
  ASSERT_NE(at, std::string::npos);
  EXPECT_LT(report.find("## SlideSparse conversion\n"), at);
  EXPECT_LT(at, report.find("## Offline tuning\n"));
  EXPECT_NE(report.find("On `wiki.txt` (4,095 tokens scored; windows of 1024 tokens, stride 512)"), std::string::npos);
  EXPECT_NE(report.find("| dtype | dense | 2:4 | 2:8 |\n"), std::string::npos) << report.substr(at, 600);
  EXPECT_NE(report.find("| FP8 | 10.200 | 13.260 (+30.0%) | — |\n"), std::string::npos) << report.substr(at, 600);
  EXPECT_NE(report.find("| INT8 | 10.000 | 12.500 (+25.0%) | 10.800 (+8.0%) |\n"), std::string::npos);
  EXPECT_NE(report.find("](plots/perplexity.svg)"), std::string::npos);
  // The sample run is of the synth model: the report says its perplexities measure no quality.
  const std::string synthetic_note = "The model is synthetic (random BitNet-shaped weights";
  EXPECT_NE(report.find(synthetic_note), std::string::npos);
  const std::string svg = read_text(out / "plots" / "perplexity.svg");
  for (const std::string series : {"INT8 2:L", "INT8 dense", "FP8 2:L", "FP8 dense"})
    EXPECT_NE(svg.find(">" + series + "</text>"), std::string::npos) << series;

  // A run of a trained checkpoint gets no such note.
  nlohmann::json status = nlohmann::json::parse(read_text(out / "pipeline_status.json"));
  status["model"] = "microsoft/bitnet-b1.58-2B-4T-bf16";
  testing::write_bytes(out / "pipeline_status.json", status.dump(2));
  EXPECT_EQ(read_text(write_report(out).report_md).find(synthetic_note), std::string::npos);
}

}  // namespace
}  // namespace slidesparse
