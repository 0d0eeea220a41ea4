#include "report/result_names.h"

#include <gtest/gtest.h>

#include "test_support.h"

#include "core/error.h"
#include "report/report_format.h"

namespace slidesparse::report {
namespace {

using testing::error_of;

TEST(HardwareFolder, ParsesTheBenchmarksTags) {
  const HardwareFolder h = parse_hardware_folder("H100_cc90_FP8E4M3_cu129_x86_64", "r");
  EXPECT_EQ(h.tag, "H100_cc90_FP8E4M3_cu129_x86_64");
  EXPECT_EQ(h.gpu, "H100");
  EXPECT_EQ(h.compute_capability, 90);
  EXPECT_EQ(h.cc_text(), "9.0");
  EXPECT_EQ(h.dtype, "FP8E4M3");
  EXPECT_EQ(dtype_name(h.dtype), "FP8");
  EXPECT_EQ(dtype_name("INT8"), "INT8");
  EXPECT_EQ(h.cuda, "12.9");
  EXPECT_EQ(h.arch, "x86_64");
  EXPECT_EQ(h.machine_key(), "H100_cc90_cu12.9_x86_64");
  EXPECT_TRUE(h.supports_fp8());

  const HardwareFolder b = parse_hardware_folder("B200_cc100_INT8_cu130_aarch64", "r");
  EXPECT_EQ(b.cc_text(), "10.0");
  EXPECT_EQ(b.cuda, "13.0");
  EXPECT_EQ(b.arch, "aarch64");
  EXPECT_FALSE(parse_hardware_folder("A100_cc80_INT8_cu130_x86_64", "r").supports_fp8());
  EXPECT_TRUE(parse_hardware_folder("L40S_cc89_INT8_cu130_x86_64", "r").supports_fp8());
}

TEST(HardwareFolder, RejectsOtherNamesWithTheirFolder) {
  for (const std::string bad : {"H100", "H100_cc9_INT8_cu130_x86_64", "H100_cc90_BF16_cu130_x86_64",
                                "H100_cc90_INT8_cu130_", "H100_cc90_INT8_x86_64"})
    EXPECT_EQ(
        error_of([&] { parse_hardware_folder(bad, "out/prefill/" + bad); }),
        "out/prefill/" + bad + ": '" + bad + "' is not a hardware tag ({GPU}_cc{XY}_{INT8|FP8E4M3}_cu{XY}_{arch})");
}

TEST(ResultBackend, ParsesFoldersLabelsAndSparsities) {
  EXPECT_TRUE(parse_backend("cublaslt", "x").is_dense());
  EXPECT_EQ(parse_backend("cusparselt/2_6", "x"), Sparsity::two_of(6));
  EXPECT_EQ(parse_backend("cusparselt_2_10", "x"), Sparsity::two_of(10));
  EXPECT_EQ(parse_backend("cusparselt_2_inf", "x"), Sparsity::two_of_inf());
  EXPECT_EQ(parse_sparsity("2:8", "x"), Sparsity::two_of(8));
  EXPECT_EQ(parse_sparsity("2:inf", "x").str(), "2:inf");
  EXPECT_EQ(error_of([] { parse_backend("cusparselt/2_5", "dir"); }),
            "dir: unknown backend 'cusparselt/2_5' (expected cublaslt or cusparselt 2_L)");
  EXPECT_EQ(error_of([] { parse_backend("cusparselt_2_", "dir"); }),
            "dir: unknown backend 'cusparselt_2_' (expected cublaslt or cusparselt 2_L)");
  EXPECT_EQ(error_of([] { parse_sparsity("1:4", "f.json"); }), "f.json: unknown sparsity '1:4' (expected 2:L)");
}

TEST(ResultBackend, NamesOrderAndTheoreticalSpeedups) {
  const Sparsity dense = Sparsity::dense(), s4 = Sparsity::two_of(4), s6 = Sparsity::two_of(6),
                 s8 = Sparsity::two_of(8), s10 = Sparsity::two_of(10), inf = Sparsity::two_of_inf();
  EXPECT_EQ(backend_label(dense), "cuBLASLt");
  EXPECT_EQ(backend_label(s8), "cuSPARSELt 2:8");
  EXPECT_EQ(backend_label(inf), "cuSPARSELt 2:inf");
  EXPECT_EQ(engine_label(dense), "dense");
  EXPECT_EQ(engine_label(s8), "SlideSparse 2:8");
  EXPECT_TRUE(dense < s4 && s4 < s6 && s6 < s10 && s10 < inf);
  EXPECT_EQ(format_speedup(theoretical_speedup(s4)), "2.00");
  EXPECT_EQ(format_speedup(theoretical_speedup(s6)), "1.50");
  EXPECT_EQ(format_speedup(theoretical_speedup(s8)), "1.33");
  EXPECT_EQ(format_speedup(theoretical_speedup(s10)), "1.25");
  EXPECT_EQ(format_speedup(theoretical_speedup(inf)), "1.00");
}

TEST(ReportFormat, NumbersReadTheSameEverywhere) {
  EXPECT_EQ(format_rate(30565.4), "30,565");
  EXPECT_EQ(format_rate(999.5), "1,000");
  EXPECT_EQ(format_rate(12.0), "12");
  EXPECT_EQ(format_grouped(1234567.891, 1), "1,234,567.9");
  EXPECT_EQ(format_grouped(-1234.5, 1), "-1,234.5");
  EXPECT_EQ(format_grouped(-0.01, 1), "0.0");
  EXPECT_EQ(format_seconds(8346.51), "8,346.5 s");
  EXPECT_EQ(format_bytes(17), "17 B");
  EXPECT_EQ(format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(format_bytes(2751463424), "2.56 GiB");
  EXPECT_EQ(format_percent(0.3418), "34.2 %");
}

TEST(ReportFormat, MarkdownTablesEscapeCellText) {
  MarkdownTable t({"unit", "error", "time"}, "llr");
  t.add_row({"a", "x | y\nz", "1.0 s"});
  EXPECT_EQ(t.text(), "| unit | error | time |\n|---|---|---:|\n| a | x \\| y z | 1.0 s |\n");
  EXPECT_EQ(error_of([&] { t.add_row({"only"}); }), "markdown table: row has 1 cells, header has 3");
}

}  // namespace
}  // namespace slidesparse::report
