// Reference W8A8 linear on the CPU: y[M,N] = x_q[M,K] . W[N,K]^T with int32 (INT8) or fp32 (FP8)
// accumulation, then y = acc * scale_x[m] * scale_w[n] in fp32. The oracle for every GPU GEMM test.
#pragma once

#include <cstdint>

#include "math/weight_code.h"

namespace slidesparse {

// INT8: exact int32 sums.
void reference_gemm_int8(const int8_t* x_q, const int8_t* w, int64_t m, int64_t n, int64_t k, int32_t* acc);

// FP8 E4M3 codes: products summed in fp32 in increasing k.
void reference_gemm_fp8(const uint8_t* x_q, const uint8_t* w, int64_t m, int64_t n, int64_t k, float* acc);

// Full linear: the GEMM above, then acc * scale_x[m] * scale_w[n] (scale_w has n entries).
void reference_linear_w8a8(QuantKind kind, const uint8_t* x_q, const float* scale_x, const uint8_t* w,
                           const float* scale_w, int64_t m, int64_t n, int64_t k, float* y);

}  // namespace slidesparse
