// Vocabulary shared by the two GEMM backends and the linear operator.
//
// Layout (both backends, "TN"): weights W row-major [N, K] (K' for SlideSparse) and quantized
// activations X row-major [M_pad, K]; the result D is row-major [M_pad, N]. In the libraries'
// column-major terms: D[N, M] = op(W)[N, K] . X[K, M] with W declared [K, N] and op = transpose.
#pragma once

#include <library_types.h>

#include <cstdint>
#include <string_view>

#include "math/weight_code.h"

namespace slidesparse {

enum class GemmBackend { CublasLt, CusparseLt };

enum class GemmOutput { Int32, Float32, BFloat16 };

// Where the dequantization scales y = acc * scale_x[m] * scale_w[n] are applied.
enum class ScaleMode {
  // D holds the raw accumulator; a separate epilogue kernel applies both scales (exact for INT8).
  Epilogue,
  // The GEMM applies scale_w (alpha vector over N); D = bf16(acc * scale_w[n]). The per-token scale
  // is left to the next kernel (composable with norms and activations).
  WeightInGemm,
  // The GEMM applies both (cuBLASLt FP8 outer-vector scale modes): D = bf16(acc * scale_w[n] * scale_x[m]).
  BothInGemm,
};

std::string_view gemm_backend_name(GemmBackend backend);  // "cublaslt" / "cusparselt"
std::string_view gemm_output_name(GemmOutput output);     // "int32" / "fp32" / "bf16"
std::string_view scale_mode_name(ScaleMode mode);         // "epilogue" / "weight-in-gemm" / "both-in-gemm"
size_t gemm_output_bytes(GemmOutput output);
// The CUDA element types both libraries take: CUDA_R_8I / CUDA_R_8F_E4M3; CUDA_R_32I / 32F / 16BF.
cudaDataType cuda_input_type(QuantKind kind);
cudaDataType cuda_output_type(GemmOutput output);

// Activations are padded to a multiple of this many rows (both libraries' tile constraints; the
// quantization kernels write the padding rows themselves).
inline constexpr int64_t kRowAlignment = 16;
inline int64_t padded_rows(int64_t m) { return (m + kRowAlignment - 1) / kRowAlignment * kRowAlignment; }

// cuSPARSELt 0.8's SM90 kernels run K in tiles of 128 (INT8) or 256 (FP8) and read the compressed
// weight's metadata for the whole last tile, while the compressed size it reports covers K rounded
// up to 64 only: with a K' that is not a multiple of the tile the kernel reads past the end of the
// compressed buffer (compute-sanitizer, N=128: INT8 K'=416 read 1,024 bytes past a 33,792-byte
// buffer, FP8 K'=384 2,048 bytes past 30,720). The sparse GEMM therefore runs on K' rounded up to
// 256: the weight gets zero columns at load (all-zero 4-chunks are 2:4-valid) and the quantization
// kernels write zero activation columns there.
inline constexpr int64_t kSparseGemmKAlignment = 256;
inline int64_t sparse_gemm_k(int64_t k_slid) {
  return (k_slid + kSparseGemmKAlignment - 1) / kSparseGemmKAlignment * kSparseGemmKAlignment;
}

struct GemmShape {
  QuantKind kind = QuantKind::Int8;
  GemmOutput output = GemmOutput::Int32;
  ScaleMode scales = ScaleMode::Epilogue;
  int64_t n = 0;
  int64_t k = 0;  // the K the GEMM sees (K' for SlideSparse weights)
  // FP8 on cuBLASLt: accumulate in the tensor core's reduced-precision path without the periodic
  // promotion to fp32 (CUBLASLT_MATMUL_DESC_FAST_ACCUM). Faster, slightly less accurate; off by
  // default, measured in docs/PERF.md.
  bool fast_accum = false;
};

// Throws Error for combinations the libraries do not offer (e.g. INT8 with fp32 output on cuBLASLt),
// non-multiple-of-32 N or K, or FP8 below compute capability 8.9.
void validate_gemm_shape(GemmBackend backend, const GemmShape& shape, int compute_capability);

}  // namespace slidesparse
