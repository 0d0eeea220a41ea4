// Fused (residual add +) RMSNorm (+ per-token quantization + slide): what the BitNet forward runs
// in front of every linear layer (input_layernorm -> qkv, attn_sub_norm -> o_proj,
// post_attention_layernorm -> gate_up, ffn_sub_norm -> down_proj), and the plain RMSNorm of
// model.norm. The math is exactly src/math/rmsnorm.h (with math/activation.h for the MLP) followed
// by src/math/quantize.h; GEMM outputs are read through an AccView (kernels/acc_view.h), so the
// values are the bf16 the unfused dequantize epilogue would write. Host launchers take an explicit
// stream, allocate nothing and are safe inside CUDA graph capture.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "kernels/acc_view.h"
#include "kernels/activation_quant.h"
#include "math/slide.h"
#include "math/weight_code.h"

namespace slidesparse {

// The three quantizing norms of the engine's forward, by what feeds them: a bf16 tensor
// (rmsnorm_quantize_gpu: the first input norm, attn_sub_norm), a GEMM accumulator plus the residual
// (residual_rmsnorm_quantize_gpu), the gate_up accumulator (relu2_mul_rmsnorm_quantize_gpu). Their
// best launch shapes differ from the plain quantizer's (other bytes per row), so `slidesparse tune`
// records each under its own name.
enum class FusedNormKernel { Tensor, Residual, Relu2Mul };
// e.g. "residual_norm_quant_int8_L0" (group 0: dense, else the slide's L).
std::string fused_norm_kernel_name(FusedNormKernel norm, QuantKind kind, int group);

// h = residual_in ? bf16(x + residual_in) : x, row by row ([rows, k] bf16); residual_out (nullable,
// only with residual_in) receives h and may alias x or residual_in. n = RMSNorm(h) * weight (bf16).
// Codes and scales are what quantize_rows_gpu (slide == nullptr: codes [rows_padded, out_cols],
// out_cols >= k, a multiple of 16) or quantize_slide_rows_gpu (out_cols >= slide->k_slid) would
// produce from n: padding rows get zero codes and scale 1, padding columns zeros, nothing needs
// clearing beforehand. k <= kRmsNormMaxK.
void rmsnorm_quantize_gpu(QuantKind kind, const __nv_bfloat16* x, const __nv_bfloat16* residual_in,
                          __nv_bfloat16* residual_out, const __nv_bfloat16* weight, int64_t rows, int64_t k,
                          float eps, const SlideGeometry* slide, int64_t rows_padded, int64_t out_cols,
                          uint8_t* codes, float* scale, cudaStream_t stream, const QuantLaunchConfig& config = {});

// The same without quantization: y [rows, k] = RMSNorm(h) * weight in bf16 (y may alias x).
void rmsnorm_gpu(const __nv_bfloat16* x, const __nv_bfloat16* residual_in, __nv_bfloat16* residual_out,
                 const __nv_bfloat16* weight, int64_t rows, int64_t k, float eps, __nv_bfloat16* y,
                 cudaStream_t stream, const QuantLaunchConfig& config = {});

// h = bf16(residual + value(delta)) row by row; residual := h (in place); then exactly
// rmsnorm_quantize_gpu on h (same shapes, padding and slide rules). delta holds >= k columns per row.
void residual_rmsnorm_quantize_gpu(QuantKind kind, const AccView& delta, __nv_bfloat16* residual,
                                   const __nv_bfloat16* weight, int64_t rows, int64_t k, float eps,
                                   const SlideGeometry* slide, int64_t rows_padded, int64_t out_cols, uint8_t* codes,
                                   float* scale, cudaStream_t stream, const QuantLaunchConfig& config = {});

// a = relu2_mul(gate_up) per math/activation.h (gate_up [rows, 2 * inter] through the AccView: gate
// columns then up), then RMSNorm(a) * weight quantized (+ slide) into codes for down_proj, as
// rmsnorm_quantize_gpu with k = inter: BitNet's MLP middle in one pass, a never stored.
void relu2_mul_rmsnorm_quantize_gpu(QuantKind kind, const AccView& gate_up, int64_t rows, int64_t inter,
                                    const __nv_bfloat16* weight, float eps, const SlideGeometry* slide,
                                    int64_t rows_padded, int64_t out_cols, uint8_t* codes, float* scale,
                                    cudaStream_t stream, const QuantLaunchConfig& config = {});

// The final norm for the rows that sample: out[i] = RMSNorm(bf16(residual[r] + value(delta, r))) *
// weight with r = row_index[i] (device int32, each a valid row of delta and residual); out bf16
// [count, k]. The residual is not written.
void residual_rmsnorm_rows_gpu(const AccView& delta, const __nv_bfloat16* residual, const int32_t* row_index,
                               int64_t count, int64_t k, const __nv_bfloat16* weight, float eps,
                               __nv_bfloat16* out, cudaStream_t stream);

}  // namespace slidesparse
