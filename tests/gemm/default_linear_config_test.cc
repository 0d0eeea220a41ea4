// The per-backend default configuration of a linear layer where no GPU answers (this CPU machine):
// INT8 dense falls back to cuBLASLt's int32 + epilogue when the scaled GEMM is absent, sparse
// layers keep their scale placement, and the FP8 fast-accumulation preference reaches only dense
// FP8. The cases that probe cuBLASLt (FP8 dense) need a GPU and are covered by the GPU tests.
#include <gtest/gtest.h>

#include "gemm/scaled_gemm.h"
#include "gemm/w8a8_linear.h"

namespace slidesparse {
namespace {

TEST(DefaultLinearConfig, Int8DenseWithoutTheScaledGemmWritesInt32ForTheEpilogue) {
  if (scaled_gemm_available()) GTEST_SKIP() << "a Hopper GPU runs the scaled GEMM here";
  for (bool prefer_scaled : {true, false}) {
    const LinearConfig c = default_linear_config(GemmBackend::CublasLt, QuantKind::Int8, 3840, 2560, 0, 4096,
                                                 {.fp8_fast_accum = true, .scaled_gemm = prefer_scaled});
    EXPECT_EQ(c.output, GemmOutput::Int32);
    EXPECT_EQ(c.scales, ScaleMode::Epilogue);
    EXPECT_FALSE(c.fast_accum);  // an FP8 preference
    EXPECT_EQ(c.group, 0);
    EXPECT_EQ(c.max_m, 4096);
  }
}

TEST(DefaultLinearConfig, SparseLayersKeepTheirScalePlacementAndGroup) {
  const LinearConfig int8 =
      default_linear_config(GemmBackend::CusparseLt, QuantKind::Int8, 13824, 2560, 8, 512, {.fp8_fast_accum = true});
  EXPECT_EQ(int8.output, GemmOutput::BFloat16);
  EXPECT_EQ(int8.scales, ScaleMode::WeightInGemm);
  EXPECT_EQ(int8.group, 8);
  EXPECT_FALSE(int8.fast_accum);
  const LinearConfig fp8 = default_linear_config(GemmBackend::CusparseLt, QuantKind::Fp8E4M3, 2560, 6912, 4, 512);
  EXPECT_EQ(fp8.output, GemmOutput::BFloat16);
  EXPECT_EQ(fp8.scales, ScaleMode::Epilogue);
  EXPECT_EQ(fp8.group, 4);
}

}  // namespace
}  // namespace slidesparse
