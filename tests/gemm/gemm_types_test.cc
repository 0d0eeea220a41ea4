// Shape and type validation of the GEMM backends: runs on the CPU (no GPU call involved).
#include <gtest/gtest.h>

#include "core/error.h"
#include "gemm/gemm_types.h"

namespace slidesparse {
namespace {

std::string error_of(GemmBackend backend, const GemmShape& shape, int cc) {
  try {
    validate_gemm_shape(backend, shape, cc);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GemmTypes, AcceptsTheDefaultConfigurations) {
  EXPECT_EQ(error_of(GemmBackend::CublasLt, {QuantKind::Int8, GemmOutput::Int32, ScaleMode::Epilogue, 3840, 2560}, 90), "");
  EXPECT_EQ(error_of(GemmBackend::CublasLt, {QuantKind::Fp8E4M3, GemmOutput::BFloat16, ScaleMode::BothInGemm, 3840, 2560}, 90), "");
  EXPECT_EQ(error_of(GemmBackend::CusparseLt, {QuantKind::Int8, GemmOutput::BFloat16, ScaleMode::WeightInGemm, 13824, 3840}, 90), "");
  EXPECT_EQ(error_of(GemmBackend::CusparseLt, {QuantKind::Fp8E4M3, GemmOutput::Float32, ScaleMode::Epilogue, 2560, 9216}, 89), "");
}

TEST(GemmTypes, RejectsShapesThatAreNotMultiplesOf32) {
  EXPECT_EQ(error_of(GemmBackend::CusparseLt, {QuantKind::Int8, GemmOutput::BFloat16, ScaleMode::WeightInGemm, 3840, 2570}, 90),
            "cusparselt int8 GEMM N=3840 K=2570: N and K must be positive multiples of 32");
  EXPECT_EQ(error_of(GemmBackend::CublasLt, {QuantKind::Int8, GemmOutput::Int32, ScaleMode::Epilogue, 100, 2560}, 90),
            "cublaslt int8 GEMM N=100 K=2560: N and K must be positive multiples of 32");
}

TEST(GemmTypes, RejectsFp8BelowAda) {
  EXPECT_EQ(error_of(GemmBackend::CublasLt, {QuantKind::Fp8E4M3, GemmOutput::BFloat16, ScaleMode::BothInGemm, 64, 64}, 80),
            "cublaslt fp8 GEMM N=64 K=64: FP8 needs compute capability 8.9 or newer (this GPU is 8.0)");
}

TEST(GemmTypes, RejectsOutputsAndScaleModesTheLibrariesLack) {
  EXPECT_EQ(error_of(GemmBackend::CublasLt, {QuantKind::Int8, GemmOutput::BFloat16, ScaleMode::Epilogue, 64, 64}, 90),
            "cublaslt int8 GEMM N=64 K=64: cuBLASLt supports int32 output, not bf16");
  EXPECT_EQ(error_of(GemmBackend::CusparseLt, {QuantKind::Int8, GemmOutput::Float32, ScaleMode::Epilogue, 64, 64}, 90),
            "cusparselt int8 GEMM N=64 K=64: cuSPARSELt supports int32 or bf16 output here, not fp32");
  EXPECT_EQ(error_of(GemmBackend::CusparseLt, {QuantKind::Fp8E4M3, GemmOutput::BFloat16, ScaleMode::BothInGemm, 64, 64}, 90),
            "cusparselt fp8 GEMM N=64 K=64: cuSPARSELt cannot apply a per-token scale");
  EXPECT_EQ(error_of(GemmBackend::CusparseLt, {QuantKind::Int8, GemmOutput::Int32, ScaleMode::WeightInGemm, 64, 64}, 90),
            "cusparselt int8 GEMM N=64 K=64: scales inside the GEMM need a bf16 output");
}

TEST(GemmTypes, PaddedRows) {
  EXPECT_EQ(padded_rows(1), 16);
  EXPECT_EQ(padded_rows(16), 16);
  EXPECT_EQ(padded_rows(17), 32);
  EXPECT_EQ(padded_rows(4096), 4096);
}

// cuSPARSELt's largest K tile (FP8, 256): BitNet's K' at 2:6 (K = 2560), 2:8 and 2:10 (K = 6912)
// are not multiples of it.
TEST(GemmTypes, SparseGemmKRoundsKPrimeUpToTheKTile) {
  EXPECT_EQ(sparse_gemm_k(2560), 2560);    // 2:4, K = 2560
  EXPECT_EQ(sparse_gemm_k(6912), 6912);    // 2:4, K = 6912
  EXPECT_EQ(sparse_gemm_k(3424), 3584);    // 2:6, K = 2560
  EXPECT_EQ(sparse_gemm_k(10368), 10496);  // 2:8, K = 6912
  EXPECT_EQ(sparse_gemm_k(11072), 11264);  // 2:10, K = 6912
  EXPECT_EQ(sparse_gemm_k(384), 512);      // 2:8, K = 256 (the GPU tests' shape)
  EXPECT_EQ(sparse_gemm_k(32), 256);
}

}  // namespace
}  // namespace slidesparse
