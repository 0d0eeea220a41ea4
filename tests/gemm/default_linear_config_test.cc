// The per-backend default configuration of a linear layer where no GPU answers (this CPU machine):
// INT8 dense falls back to cuBLASLt's int32 + epilogue when the scaled GEMM is absent, sparse
// layers keep their scale placement, and the FP8 fast-accumulation preference reaches only dense
// FP8. The cases that probe cuBLASLt (FP8 dense) need a GPU and are covered by the GPU tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "gemm/scaled_gemm.h"
#include "core/error.h"
#include "gemm/w8a8_linear.h"

namespace slidesparse {
namespace {

TEST(DefaultLinearConfig, Int8DenseWithoutTheScaledGemmWritesInt32ForTheEpilogue) {
  if (scaled_gemm_available()) GTEST_SKIP() << "a Hopper GPU runs the scaled GEMM here";
  for (bool prefer_scaled : {true, false}) {
    const LinearConfig c = default_linear_config(QuantKind::Int8, 3840, 2560, Sparsity::dense(), 4096,
                                                 {.fp8_fast_accum = true, .scaled_gemm = prefer_scaled});
    EXPECT_EQ(c.output, GemmOutput::Int32);
    EXPECT_EQ(c.scales, ScaleMode::Epilogue);
    EXPECT_FALSE(c.fast_accum);  // an FP8 preference
    EXPECT_EQ(c.backend(), GemmBackend::CublasLt);
    EXPECT_TRUE(c.sparsity.is_dense());
    EXPECT_EQ(c.max_m, 4096);
  }
}

TEST(DefaultLinearConfig, SparseLayersKeepTheirScalePlacementAndGroup) {
  const LinearConfig int8 =
      default_linear_config(QuantKind::Int8, 13824, 2560, Sparsity::two_of(8), 512, {.fp8_fast_accum = true});
  EXPECT_EQ(int8.output, GemmOutput::BFloat16);
  EXPECT_EQ(int8.scales, ScaleMode::WeightInGemm);
  EXPECT_EQ(int8.backend(), GemmBackend::CusparseLt);
  EXPECT_EQ(int8.sparsity, Sparsity::two_of(8));
  EXPECT_FALSE(int8.fast_accum);
  const LinearConfig fp8 = default_linear_config(QuantKind::Fp8E4M3, 2560, 6912, Sparsity::two_of(4), 512);
  EXPECT_EQ(fp8.output, GemmOutput::BFloat16);
  EXPECT_EQ(fp8.scales, ScaleMode::Epilogue);
  EXPECT_EQ(fp8.sparsity, Sparsity::two_of(4));
}

TEST(DefaultLinearConfig, TwoOfInfIsNoWeightPattern) {
  try {
    default_linear_config(QuantKind::Int8, 2560, 2560, Sparsity::two_of_inf(), 512);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "a linear layer's weight is dense or 2:L with a finite L, not 2:inf");
  }
}

TEST(LinearGemmK, DenseKOrTheSlidKRoundedToTheSparseTile) {
  EXPECT_EQ(linear_gemm_k(2560, Sparsity::dense()), 2560);
  EXPECT_EQ(linear_gemm_k(2560, Sparsity::two_of(4)), 2560);
  EXPECT_EQ(linear_gemm_k(2560, Sparsity::two_of(8)), sparse_gemm_k(make_slide_geometry(2560, 8).k_slid));
  EXPECT_EQ(linear_gemm_k(6912, Sparsity::two_of(6)), sparse_gemm_k(make_slide_geometry(6912, 6).k_slid));
  EXPECT_EQ(linear_gemm_k(2560, Sparsity::two_of_inf()), sparse_gemm_k(5120));
}

// The run over which a weight scale is constant: what lets the fused norms read one scale per part.
TEST(ScaleRun, OnePerTensorPerEqualPartOrNone) {
  EXPECT_EQ(scale_run(std::vector<float>(2560, 0.25f)), 2560);
  std::vector<float> gate_up(13824, 0.5f);
  std::fill(gate_up.begin() + 6912, gate_up.end(), 0.75f);
  EXPECT_EQ(scale_run(gate_up), 6912);
  std::vector<float> qkv(3840, 1.0f);  // q 2560, k 640, v 640: unequal parts with their own scales
  std::fill(qkv.begin() + 2560, qkv.begin() + 3200, 2.0f);
  std::fill(qkv.begin() + 3200, qkv.end(), 3.0f);
  EXPECT_EQ(scale_run(qkv), 0);
  std::fill(qkv.begin() + 2560, qkv.end(), 2.0f);  // k and v share a scale: runs of 2560, the last shorter
  EXPECT_EQ(scale_run(qkv), 2560);
  EXPECT_EQ(scale_run(std::vector<float>{1.0f, 2.0f, 3.0f}), 1);
  EXPECT_EQ(scale_run(std::vector<float>{1.0f, 1.0f, 2.0f, 3.0f}), 0);  // the second run is not constant
  EXPECT_EQ(scale_run(std::vector<float>{0.0f, -0.0f}), 1);             // bits, not ==
  EXPECT_EQ(scale_run({}), 0);
}

}  // namespace
}  // namespace slidesparse
