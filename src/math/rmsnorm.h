// RMSNorm as transformers' BitNetRMSNorm / LlamaRMSNorm computes it, fixed to the bit so the GPU
// kernels (kernels/norm_quant.h) reproduce it exactly:
//   var = mean(h * h) in fp32, r = 1 / sqrt(var + eps)   (IEEE: correctly rounded sqrt and divide)
//   y   = bf16(float(w) * float(bf16(h * r)))            (`self.weight * hidden.to(input_dtype)`)
// Only the order of the fp32 sum is left open by transformers. Ours is order-free: each h * h of a
// bf16 h is an integer multiple of a power of two, so the row's squares are added as 64-bit
// integers on a fixed-point grid set by the row's largest exponent (the top square sits below
// 2^46, squares below 2^-30 of that grid's unit are truncated). Integer addition is associative,
// so any reduction order (any GPU launch shape) gives the same sum, converted once:
//   var = float(double(S) * 2^T / k)
// Its error against the exact mean is below 2^-28 relative for k <= 2^17, far under fp32's own.
#pragma once

#include <cstdint>

#include "math/slide.h"
#include "math/weight_code.h"

namespace slidesparse {

inline constexpr int64_t kRmsNormMaxK = int64_t{1} << 17;  // the 64-bit square sum cannot overflow

// The row's variance mean(h * h) of k bf16 values, as defined above (k in 1..kRmsNormMaxK).
float rms_variance_bf16(const uint16_t* h, int64_t k);

// y [rows, k] = RMSNorm(x) * weight, all bf16 bit patterns.
void rmsnorm_rows_bf16(const uint16_t* x, const uint16_t* weight, int64_t rows, int64_t k, float eps, uint16_t* y);

// The normalized bf16 rows quantized per token (math/quantize.h): slide == nullptr gives codes
// [rows, k] (quantize_rows), else codes [rows, slide->k_slid] (quantize_slide_rows, slide->k == k).
void rmsnorm_quantize_rows(QuantKind kind, const uint16_t* x, const uint16_t* weight, int64_t rows, int64_t k,
                           float eps, const SlideGeometry* slide, uint8_t* codes, float* scale);

// out = bf16(float(a) + float(b)), element-wise (a bf16 tensor add in PyTorch). out may alias a or b.
void add_rows_bf16(const uint16_t* a, const uint16_t* b, int64_t n, uint16_t* out);

}  // namespace slidesparse
