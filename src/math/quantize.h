// The W8A8 quantization math (per-tensor absmean ternary weights, per-token absmax activations),
// exactly as the GPU kernels must reproduce it.
#pragma once

#include <cstdint>

#include "math/slide.h"
#include "math/weight_code.h"

namespace slidesparse {

inline constexpr float kInt8Qmax = 127.0f;
inline constexpr float kFp8Qmax = 448.0f;
inline float quant_qmax(QuantKind kind) { return kind == QuantKind::Int8 ? kInt8Qmax : kFp8Qmax; }

// ---- weights: per-tensor absmean ternarization ------------------------------------------------
// s = max(mean(|W|), 1e-5), the mean accumulated in double and rounded to float once.
float absmean_scale_bf16(const uint16_t* w, int64_t n);
// T = clamp(round_half_even(W / s), -1, 1), encoded as int8 or E4M3 codes. Returns the zero count.
int64_t ternarize_bf16(QuantKind kind, const uint16_t* w, int64_t n, float scale, uint8_t* out);

// ---- activations: per-token dynamic symmetric quantization ------------------------------------
// For each row: absmax over its K values (fp32); inv = QMAX / max(absmax, 1e-12);
// scale = max(absmax / QMAX, 1 / (QMAX * 512)); q = clamp(rint(x * inv), -128, 127) (INT8) or
// e4m3(clamp(x * inv, -448, 448)) (FP8, round-to-nearest-even).
void quantize_rows(QuantKind kind, const float* x, int64_t rows, int64_t k, uint8_t* x_q, float* scale);

// Quantize (scale over the original K) and lift in one pass: x_slid [rows, K'] = q(x)[., map(j')].
void quantize_slide_rows(QuantKind kind, const SlideGeometry& geometry, const float* x, int64_t rows,
                         uint8_t* x_slid, float* scale);

}  // namespace slidesparse
