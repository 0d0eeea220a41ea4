// Device-side reads of an AccView (kernels/acc_view.h): the exact bf16 value the dequantization
// epilogue would have stored, computed in registers.
#pragma once

#include <cuda_bf16.h>

#include "kernels/acc_view.h"

namespace slidesparse {

__device__ __forceinline__ float acc_raw(const AccView& v, int64_t row, int64_t col) {
  const int64_t i = row * v.ld + col;
  switch (v.type) {
    case AccumulatorType::Int32: return static_cast<float>(static_cast<const int32_t*>(v.data)[i]);
    case AccumulatorType::Float32: return static_cast<const float*>(v.data)[i];
    default: return __bfloat162float(static_cast<const __nv_bfloat16*>(v.data)[i]);
  }
}

// The scaled value before its bf16 rounding (callers that round two at a time use this).
__device__ __forceinline__ float acc_scaled_unrounded(float raw, const AccView& v, int64_t row, int64_t col) {
  float y = raw;
  if (v.scale_x) y = __fmul_rn(y, v.scale_x[row]);
  if (v.scale_w) y = __fmul_rn(y, v.scale_w[col]);
  return y;
}

// The scaled value, rounded to bf16 exactly like dequantize_rows_gpu, returned as float.
__device__ __forceinline__ float acc_scaled(float raw, const AccView& v, int64_t row, int64_t col) {
  return __bfloat162float(__float2bfloat16_rn(acc_scaled_unrounded(raw, v, row, col)));
}

__device__ __forceinline__ float acc_value(const AccView& v, int64_t row, int64_t col) {
  return acc_scaled(acc_raw(v, row, col), v, row, col);
}

}  // namespace slidesparse
