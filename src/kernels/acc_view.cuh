// Device-side reads of an AccView (kernels/acc_view.h): the exact bf16 value the dequantization
// epilogue would have stored, computed in registers.
#pragma once

#include <cuda_bf16.h>

#include "kernels/acc_view.h"
#include "kernels/vector_io.cuh"

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

// The weight scales of 8 consecutive columns (zero and unused without scale_w).
struct ScaleChunk {
  float4 lo, hi;
};

// scale_w[col, col + 8) where there is a weight scale (16-byte aligned: col % 4 == 0 and an aligned
// scale_w), read through the read-only cache: every row reads the same scales.
__device__ __forceinline__ ScaleChunk load_scale_chunk(const AccView& v, int64_t col) {
  if (!v.scale_w) return {};
  const float4* p = reinterpret_cast<const float4*>(v.scale_w + col);
  return {__ldg(p), __ldg(p + 1)};
}

// The bf16 values of 8 consecutive elements of a bf16 accumulator as 4 packed pairs (acc_scaled):
// raw * scale_x, then * the columns' weight scales (w: read only with v.scale_w), in float, each
// pair rounded by one packed conversion; the raw pairs themselves without scales.
__device__ __forceinline__ uint4 scaled_bf16_chunk(uint4 raw, const AccView& v, float scale_x, const ScaleChunk& w) {
  if (!v.scale_x && !v.scale_w) return raw;
  const float ws[8] = {w.lo.x, w.lo.y, w.lo.z, w.lo.w, w.hi.x, w.hi.y, w.hi.z, w.hi.w};
  uint32_t* pairs = &raw.x;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    float lo = bf16_low(pairs[j]), hi = bf16_high(pairs[j]);
    if (v.scale_x) lo = __fmul_rn(lo, scale_x), hi = __fmul_rn(hi, scale_x);
    if (v.scale_w) lo = __fmul_rn(lo, ws[2 * j]), hi = __fmul_rn(hi, ws[2 * j + 1]);
    pairs[j] = pack_bf16x2(lo, hi);
  }
  return raw;
}

}  // namespace slidesparse
