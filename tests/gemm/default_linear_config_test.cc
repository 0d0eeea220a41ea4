// The per-backend default configuration of a linear layer where no GPU answers (this CPU machine):
// INT8 dense falls back to cuBLASLt's int32 + epilogue when the scaled GEMM is absent, sparse
// layers keep their scale placement, and the FP8 fast-accumulation preference reaches only dense
// FP8. The cases that probe cuBLASLt (FP8 dense) need a GPU and are covered by the GPU tests.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace slidesparse
