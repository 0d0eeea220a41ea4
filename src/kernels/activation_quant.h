// Activation-side kernels of the W8A8 linear layer: per-token quantization (INT8 / FP8 E4M3), the
// fused quantize + slide ("lifting") for any 2:L, and the dequantization epilogues. Host launchers:
// explicit stream, no allocation, safe inside CUDA graph capture. The math is exactly that of
// src/math/quantize.h (the CPU reference every GPU test compares against).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <vector>

#include "math/slide.h"
#include "math/weight_code.h"

namespace slidesparse {

// Launch shape of the per-row quantization kernels (tunable per (K, M) by `slidesparse tune`).
struct QuantLaunchConfig {
  int threads = 128;  // threads per block; one block handles rows_per_block rows
  int rows_per_block = 1;
};
// The candidates `tune` times.
std::vector<QuantLaunchConfig> quant_launch_candidates();
// "128x1": threads per block x rows per block.
std::string quant_launch_name(const QuantLaunchConfig& config);

// x: bf16 [rows, k] row-major. Writes out: codes [rows_padded, out_cols] row-major and scale
// [rows_padded]. Rows >= rows are written as zero codes with scale 1.0; columns k..out_cols-1 are
// written as zeros; nothing else is touched (no memset needed beforehand). k >= 1, out_cols >= k,
// out_cols % 16 == 0, rows_padded >= rows.
void quantize_rows_gpu(QuantKind kind, const __nv_bfloat16* x, int64_t rows, int64_t k, int64_t rows_padded,
                       int64_t out_cols, uint8_t* out, float* scale, cudaStream_t stream,
                       const QuantLaunchConfig& config = {});

// Quantize with the scale over the original K, and lift: out [rows_padded, out_cols] with
// out[m, j'] = q(x[m, map(j')]) (0 where map(j') is padding, and for j' >= geometry.k_slid). Same
// padding rules as above; out_cols >= geometry.k_slid (the sparse GEMM's K, gemm/gemm_types.h).
void quantize_slide_rows_gpu(QuantKind kind, const SlideGeometry& geometry, const __nv_bfloat16* x, int64_t rows,
                             int64_t rows_padded, int64_t out_cols, uint8_t* out, float* scale, cudaStream_t stream,
                             const QuantLaunchConfig& config = {});

enum class AccumulatorType { Int32, Float32, BFloat16 };

// y[m, n] = bf16(float(acc[m, n]) * scale_x[m] * scale_w[n]) for m < rows; acc row-major [>= rows, n].
// scale_w may be nullptr (then only the row scale applies: the GEMM already applied the weight
// scale). y may alias acc when acc is BFloat16.
void dequantize_rows_gpu(AccumulatorType type, const void* acc, int64_t rows, int64_t n, const float* scale_x,
                         const float* scale_w, __nv_bfloat16* y, cudaStream_t stream);

}  // namespace slidesparse
