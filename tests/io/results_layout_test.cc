// The results folder's names, exactly as readers of the CSVs (ours, the original Python benchmark's,
// people's own scripts) expect them.
#include "io/results_layout.h"

#include <gtest/gtest.h>

namespace slidesparse {
namespace {

namespace rl = results_layout;

TEST(ResultsLayout, FoldersUnderTheRunDirectory) {
  const std::filesystem::path results = rl::results_dir("/runs/a");
  EXPECT_EQ(results, "/runs/a/results");
  EXPECT_EQ(rl::prepare_dir(results), "/runs/a/results/prepare");
  EXPECT_EQ(rl::convert_dir(results), "/runs/a/results/convert");
  EXPECT_EQ(rl::tuning_db(results), "/runs/a/results/tuning/tuning_db.json");
  EXPECT_EQ(rl::tuning_summary(results), "/runs/a/results/tuning/summary.json");
  EXPECT_EQ(rl::throughput_dir(results), "/runs/a/results/throughput_bench");
  EXPECT_EQ(rl::kernel_dir(results), "/runs/a/results/kernel_bench");
  EXPECT_EQ(rl::eval_dir(results), "/runs/a/results/eval");
}

TEST(ResultsLayout, BackendsHaveAFolderSpellingAndAFileSpelling) {
  const Sparsity dense = Sparsity::dense(), inf = Sparsity::two_of_inf();
  EXPECT_EQ(rl::throughput_backend_folder(dense), "cublaslt");
  EXPECT_EQ(rl::throughput_backend_folder(Sparsity::two_of(8)), "cusparselt/2_8");
  EXPECT_EQ(rl::throughput_backend_folder(inf), "cusparselt/2_inf");
  EXPECT_EQ(rl::throughput_sparse_root(), "cusparselt");
  EXPECT_EQ(rl::kernel_backend_label(dense), "cublaslt");
  EXPECT_EQ(rl::kernel_backend_label(Sparsity::two_of(10)), "cusparselt_2_10");
  EXPECT_EQ(rl::kernel_backend_label(inf), "cusparselt_2_inf");
  for (const Sparsity s : {dense, Sparsity::two_of(4), Sparsity::two_of(6), Sparsity::two_of(16), inf}) {
    EXPECT_EQ(rl::backend_sparsity(rl::throughput_backend_folder(s)), s);
    EXPECT_EQ(rl::backend_sparsity(rl::kernel_backend_label(s)), s);
  }
  for (const char* bad : {"", "cusparselt", "cusparselt_2_3", "cusparselt/2_2", "cusparselt_2_8x", "cusparselt_2_18",
                          "cuBLASLt", "2:8"})
    EXPECT_EQ(rl::backend_sparsity(bad), std::nullopt) << bad;
  EXPECT_EQ(rl::sparsity_of_text("2:8"), Sparsity::two_of(8));
  EXPECT_EQ(rl::sparsity_of_text("2:inf"), inf);
  EXPECT_EQ(rl::sparsity_of_text("2_8"), std::nullopt);
  EXPECT_EQ(rl::sparsity_of_text("dense"), std::nullopt);
}

TEST(ResultsLayout, FileNames) {
  EXPECT_EQ(rl::throughput_csv_name("decode"), "BitNet-2B_decode.csv");
  EXPECT_EQ(rl::throughput_point_json("/d", 512), "/d/json/BitNet-2B_M512.json");
  EXPECT_EQ(rl::kernel_point_json("/d", "model", "cusparselt_2_4", 64), "/d/json/model_cusparselt_2_4_M64.json");
  EXPECT_EQ(rl::kernel_layers_csv_name("cublaslt", "model"), "cublaslt_layers.csv");
  EXPECT_EQ(rl::kernel_layers_csv_name("cublaslt", "square"), "cublaslt_square.csv");
  EXPECT_EQ(rl::kernel_totals_csv_name("square"), "totals_square.csv");
  EXPECT_EQ(rl::kernel_label_of_layers_csv("cusparselt_2_6_layers.csv"), "cusparselt_2_6");
  EXPECT_EQ(rl::kernel_label_of_layers_csv("totals_model.csv"), std::nullopt);
  EXPECT_EQ(rl::kernel_label_of_layers_csv("_layers.csv"), std::nullopt);
}

}  // namespace
}  // namespace slidesparse
