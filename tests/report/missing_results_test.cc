// Missing pieces are normal (tasks not run yet): the report says so instead of failing.
#include <gtest/gtest.h>

#include <filesystem>

#include "report/report.h"
#include "report/result_views.h"
#include "test_support.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::ScratchDir;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(ReportMissing, AnEmptyFolderGivesAReportOfWhatIsMissing) {
  ScratchDir dir;
  const ReportSummary s = write_report(dir.path());
  EXPECT_EQ(s.plots, 0);
  EXPECT_TRUE(fs::is_directory(dir / "plots"));
  EXPECT_TRUE(fs::is_empty(dir / "plots"));
  const std::string md = read_text(s.report_md);
  EXPECT_TRUE(
      contains(md, "- **Model:** unknown (no pipeline_status.json)\n- **GPUs:** none (no benchmark results)\n\n"));
  EXPECT_TRUE(contains(md, "_No pipeline_status.json in this folder: the task summary is unavailable._\n"));
  EXPECT_TRUE(contains(md, "_No model preparation results yet._\n"));
  EXPECT_TRUE(contains(md, "_No conversion results yet._\n"));
  EXPECT_TRUE(contains(md, "_No tuning results yet._\n"));
  EXPECT_TRUE(contains(md, "_No prefill results yet._\n"));
  EXPECT_TRUE(contains(md, "_No decode results yet._\n"));
  EXPECT_TRUE(contains(md, "_No kernel results yet._\n"));
  EXPECT_TRUE(contains(md, "_No pipeline_status.json in this folder: unit failures are unknown._\n"));
  EXPECT_FALSE(contains(md, "Cross-GPU"));
  EXPECT_TRUE(md.ends_with("unknown._\n"));
}

TEST(ReportMissing, NotesCarryTheTaskStatusAndReason) {
  ScratchDir dir;
  testing::write_bytes(dir / "pipeline_status.json", R"({"version": 1, "model": "synth:bitnet-tiny",
    "started_utc": "2026-11-25T08:00:00Z", "updated_utc": "2026-11-25T08:00:09Z",
    "tasks": [{"id": 1, "name": "base models", "status": "done", "seconds": 4.25, "reason": "", "units_done": 3, "units_total": 3},
              {"id": 2, "name": "SlideSparse conversion", "status": "running", "seconds": 5, "reason": "", "units_done": 1, "units_total": 8},
              {"id": 4, "name": "prefill throughput", "status": "skipped", "seconds": 0, "reason": "no CUDA GPU", "units_done": 0, "units_total": 0},
              {"id": 6, "name": "kernel cuBLASLt", "status": "pending", "seconds": 0, "reason": "", "units_done": 0, "units_total": 6},
              {"id": 7, "name": "kernel cuSPARSELt 2:4..2:10", "status": "skipped", "seconds": 0, "reason": "no CUDA GPU", "units_done": 0, "units_total": 0}],
    "units": {"base/BF16": {"status": "done", "seconds": 1.5, "error": ""}}})");
  const std::string md = read_text(write_report(dir.path()).report_md);
  EXPECT_TRUE(contains(md, "- **Model:** `synth:bitnet-tiny`\n"));
  EXPECT_TRUE(contains(md, "- **Started:** 2026-11-25T08:00:00Z, **last update:** 2026-11-25T08:00:09Z\n"));
  EXPECT_TRUE(contains(md, "- **Tasks:** 1 done, 2 skipped, 1 running, 1 pending; 9.2 s of task time\n"));
  EXPECT_TRUE(contains(md, "| 1 | base models | done | 4.2 s | 3/3 |  |\n"));
  EXPECT_TRUE(contains(md, "| 6 | kernel cuBLASLt | pending | — | 0/6 |  |\n"));
  EXPECT_TRUE(contains(md, "| 4 | prefill throughput | skipped | 0.0 s | — | no CUDA GPU |\n"));
  EXPECT_TRUE(contains(md, "_No conversion results yet (task 2 SlideSparse conversion: running)._\n"));
  EXPECT_TRUE(contains(md, "_No prefill results yet (task 4 prefill throughput: skipped — no CUDA GPU)._\n"));
  EXPECT_TRUE(contains(md,
                       "_No kernel results yet (task 6 kernel cuBLASLt: pending; "
                       "task 7 kernel cuSPARSELt 2:4..2:10: skipped — no CUDA GPU)._\n"));
  EXPECT_TRUE(contains(md, "## Failures\n\nNo failed units.\n"));
}

TEST(ReportMissing, OneGpuHasNoCrossGpuSection) {
  ScratchDir dir;
  const fs::path out = dir / "run";
  fs::copy(testing::test_data_dir() / "sample_results", out, fs::copy_options::recursive);
  for (const char* stage : {"prefill", "decode"})
    fs::remove_all(out / "results/throughput_bench" / stage / "A100_cc80_INT8_cu130_x86_64");
  fs::remove_all(out / "results/kernel_bench/A100_cc80_INT8_cu130_x86_64");
  const ReportSummary s = write_report(out);
  EXPECT_EQ(s.plots, 10);
  const std::string md = read_text(s.report_md);
  EXPECT_FALSE(contains(md, "Cross-GPU"));
  EXPECT_FALSE(contains(md, "not supported"));
  EXPECT_TRUE(contains(md, "- **GPUs:** H100 (cc 9.0, CUDA 13.0, x86_64)\n"));
}

TEST(ReportMissing, PointsWrittenAsMinusOneShowAsFailed) {
  ScratchDir dir;
  const fs::path out = dir / "run";
  fs::copy(testing::test_data_dir() / "sample_results", out, fs::copy_options::recursive);
  const fs::path csv =
      out / "results/throughput_bench/prefill/H100_cc90_INT8_cu130_x86_64/cusparselt/2_8/BitNet-2B_prefill.csv";
  std::string text = read_text(csv);
  const size_t row = text.find("\n512,") + 1;
  text.replace(row, text.find('\n', row) - row, "512,512,1,128,128,-1,-1,-1");
  testing::write_bytes(csv, text);
  const std::string md = read_text(write_report(out).report_md);
  EXPECT_TRUE(contains(md, "| 512 | SlideSparse 2:8 | failed | failed | failed |\n"));
  EXPECT_TRUE(contains(md, "| 512 | 1.06 | 1.09 | — | 1.05 |\n"));
}

TEST(ReportMissing, TwoOfFourPointsNameTheLayersThatRanTheDenseGemm) {
  ScratchDir dir;
  const fs::path out = dir / "run";
  fs::copy(testing::test_data_dir() / "sample_results", out, fs::copy_options::recursive);
  const fs::path point = out / "results/throughput_bench/decode/H100_cc90_FP8E4M3_cu130_x86_64/cusparselt/2_4/json/"
                               "BitNet-2B_M64.json";
  std::string text = read_text(point);
  const size_t brace = text.rfind('}');
  text.insert(brace, R"json(, "dense_fallback": {"o": "cuBLASLt on the 2:4 weight (tuned 9.1 us, cuSPARSELt 9.8 us)",
                        "qkv": "cuBLASLt on the 2:4 weight (tuned 11.0 us, cuSPARSELt 11.5 us)"})json");
  testing::write_bytes(point, text);
  const std::string md = read_text(write_report(out).report_md);
  EXPECT_TRUE(contains(md,
                       "Linear layers that ran the dense GEMM on their pruned weight (the tuning database timed it "
                       "faster than the sparse GEMM at that M, or at every M it timed both at; the others ran the sparse "
                       "GEMM):\n\n"
                       "- 2:4 M=64: o, qkv\n\n"))
      << md;
}

TEST(ReportViews, KernelTotalsSumTheFourLayersAndAgreeWithTheBenchTotals) {
  ScratchDir dir;
  const fs::path out = dir / "run";
  fs::copy(testing::test_data_dir() / "sample_results", out, fs::copy_options::recursive);
  const auto tables = [&] {
    return report::kernel_table(report::read_results(out), "H100_cc90_cu13.0_x86_64", "INT8");
  };
  const report::KernelTable t = tables();
  EXPECT_EQ(t.tag, "H100_cc90_INT8_cu130_x86_64");
  EXPECT_EQ(t.ms, (std::set<int64_t>{64, 1024, 16384}));
  ASSERT_NE(t.find(Sparsity::two_of(4), 1024), nullptr);
  // totals_model.csv, which the benchmark writes beside the layers: 134.50 / 108.47 us, x1.240.
  EXPECT_NEAR(t.find(Sparsity::dense(), 1024)->latency_us, 134.50, 0.005);
  EXPECT_NEAR(t.find(Sparsity::two_of(4), 1024)->latency_us, 108.47, 0.005);
  EXPECT_NEAR(*t.speedup(Sparsity::two_of(4), 1024), 1.240, 0.0005);
  // Dense-equivalent TOPS of the total: the work of all four layers over their summed latency.
  const double ops = 2.0 * 1024 * (3840.0 * 2560 + 2560.0 * 2560 + 13824.0 * 2560 + 2560.0 * 6912);
  EXPECT_NEAR(t.find(Sparsity::dense(), 1024)->tops, ops / 134.50 / 1e6, 0.01);

  // A missing layer leaves that M's total (and speedup) out rather than understating it.
  const fs::path csv = out / "results/kernel_bench/H100_cc90_INT8_cu130_x86_64/cusparselt_2_8_layers.csv";
  std::string text = read_text(csv);
  const size_t row = text.find("1024,13824,2560");
  text.erase(row, text.find('\n', row) + 1 - row);
  testing::write_bytes(csv, text);
  const report::KernelTable without = tables();
  EXPECT_EQ(without.find(Sparsity::two_of(8), 1024), nullptr);
  EXPECT_FALSE(without.speedup(Sparsity::two_of(8), 1024).has_value());
  EXPECT_NE(without.find(Sparsity::two_of(8), 64), nullptr);
}

TEST(ReportViews, ThroughputSpeedupsAreTokenRatiosAtTheSameM) {
  ScratchDir dir;
  const fs::path out = dir / "run";
  fs::copy(testing::test_data_dir() / "sample_results", out, fs::copy_options::recursive);
  const report::Results r = report::read_results(out);
  const report::ThroughputTable t = report::throughput_table(r, "decode", "H100_cc90_cu13.0_x86_64", "FP8E4M3");
  EXPECT_EQ(t.ms, (std::set<int64_t>{64, 256}));
  EXPECT_NEAR(*t.speedup(Sparsity::two_of(6), 64), 0.95, 1e-6);
  EXPECT_EQ(t.find(Sparsity::two_of(10), 256), nullptr);  // the failed unit wrote no point
  EXPECT_FALSE(t.speedup(Sparsity::two_of(10), 256).has_value());
  const std::vector<report::Machine> ms = report::machines(r);
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].name(), "H100 (cc 9.0)");
  EXPECT_EQ(ms[1].fp8_not_supported(), "not supported (cc 8.0 < 8.9)");
  EXPECT_EQ(report::benchmark_dtypes(r), (std::vector<std::string>{"INT8", "FP8E4M3"}));
}

}  // namespace
}  // namespace slidesparse
