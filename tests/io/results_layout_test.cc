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
  EXPECT_EQ(rl::throughput_backend_folder(rl::kDenseGroup), "cublaslt");
  EXPECT_EQ(rl::throughput_backend_folder(8), "cusparselt/2_8");
  EXPECT_EQ(rl::throughput_backend_folder(rl::kInfiniteGroup), "cusparselt/2_inf");
  EXPECT_EQ(rl::throughput_sparse_root(), "cusparselt");
  EXPECT_EQ(rl::kernel_backend_label(rl::kDenseGroup), "cublaslt");
  EXPECT_EQ(rl::kernel_backend_label(10), "cusparselt_2_10");
  EXPECT_EQ(rl::kernel_backend_label(rl::kInfiniteGroup), "cusparselt_2_inf");
  for (int group : {rl::kDenseGroup, 4, 6, 16, rl::kInfiniteGroup}) {
    EXPECT_EQ(rl::backend_group(rl::throughput_backend_folder(group)), group);
    EXPECT_EQ(rl::backend_group(rl::kernel_backend_label(group)), group);
  }
  for (const char* bad : {"", "cusparselt", "cusparselt_2_3", "cusparselt/2_2", "cusparselt_2_8x", "cuBLASLt", "2:8"})
    EXPECT_EQ(rl::backend_group(bad), std::nullopt) << bad;
  EXPECT_EQ(rl::sparsity_group("2:8"), 8);
  EXPECT_EQ(rl::sparsity_group("2:inf"), rl::kInfiniteGroup);
  EXPECT_EQ(rl::sparsity_group("2_8"), std::nullopt);
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
