// The names under which `slidesparse tune` records our kernels' launch shapes and the runtime looks
// them up: a tuning database written by one build must be read by the next, so they are fixed.
#include <gtest/gtest.h>

#include "gemm/w8a8_linear.h"
#include "kernels/norm_quant.h"

namespace slidesparse {
namespace {

TEST(TuningNames, PlainQuantizers) {
  EXPECT_EQ(quant_kernel_name(QuantKind::Int8, 0), "quantize_int8");
  EXPECT_EQ(quant_kernel_name(QuantKind::Fp8E4M3, 8), "quantize_slide_fp8_L8");
}

TEST(TuningNames, FusedNorms) {
  EXPECT_EQ(fused_norm_kernel_name(FusedNormKernel::Tensor, QuantKind::Int8, 0), "norm_quant_int8_L0");
  EXPECT_EQ(fused_norm_kernel_name(FusedNormKernel::Residual, QuantKind::Fp8E4M3, 4), "residual_norm_quant_fp8_L4");
  EXPECT_EQ(fused_norm_kernel_name(FusedNormKernel::Relu2Mul, QuantKind::Int8, 10), "relu2_norm_quant_int8_L10");
}

}  // namespace
}  // namespace slidesparse
