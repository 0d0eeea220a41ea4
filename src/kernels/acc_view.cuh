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

// scale_w[col, col + 8) (16-byte aligned: col % 4 == 0 and an aligned scale_w), read through the
// read-only cache: every row reads the same scales.
__device__ __forceinline__ ScaleChunk load_weight_scales(const float* scale_w, int64_t col) {
  const float4* p = reinterpret_cast<const float4*>(scale_w + col);
  return {__ldg(p), __ldg(p + 1)};
}

// The same where there is a weight scale.
__device__ __forceinline__ ScaleChunk load_scale_chunk(const AccView& v, int64_t col) {
  return v.scale_w ? load_weight_scales(v.scale_w, col) : ScaleChunk{};
}

// Which scales a bf16 accumulator still carries, as a compile-time fact for kernels compiled per
// form: none, the per-token scale_x alone, or the weight scales (with scale_x, or with 1 where the
// accumulator has none: x * 1 = x, so the bits are those of the weight scales alone). XWPart is XW
// where the weight scale is one value per part a consumer reads (AccView::scale_w_run), so that it
// reads each once per row: the register norms take it (acc_scales() does not return it).
enum class AccScales { None, X, XW, XWPart };

__host__ __device__ inline AccScales acc_scales(const AccView& v) {
  return v.scale_w ? AccScales::XW : v.scale_x ? AccScales::X : AccScales::None;
}

// The bf16 values of 8 consecutive elements of a bf16 accumulator as 4 packed pairs (acc_scaled):
// raw * scale_x, then * the columns' weight scales w, in float, each pair rounded by one packed
// conversion; the raw pairs themselves without scales.
template <AccScales kScales>
__device__ __forceinline__ uint4 scaled_bf16_pairs(uint4 raw, float scale_x, const ScaleChunk& w) {
  if constexpr (kScales == AccScales::None) {
    return raw;
  } else {
    const float ws[8] = {w.lo.x, w.lo.y, w.lo.z, w.lo.w, w.hi.x, w.hi.y, w.hi.z, w.hi.w};
    uint32_t* pairs = &raw.x;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      float lo = __fmul_rn(bf16_low(pairs[j]), scale_x), hi = __fmul_rn(bf16_high(pairs[j]), scale_x);
      if constexpr (kScales == AccScales::XW) lo = __fmul_rn(lo, ws[2 * j]), hi = __fmul_rn(hi, ws[2 * j + 1]);
      pairs[j] = pack_bf16x2(lo, hi);
    }
    return raw;
  }
}

// scaled_bf16_pairs for the scales v carries (w: read only with v.scale_w; scale_x: used only with
// v.scale_x).
__device__ __forceinline__ uint4 scaled_bf16_chunk(uint4 raw, const AccView& v, float scale_x, const ScaleChunk& w) {
  if (v.scale_w) return scaled_bf16_pairs<AccScales::XW>(raw, v.scale_x ? scale_x : 1.0f, w);
  if (v.scale_x) return scaled_bf16_pairs<AccScales::X>(raw, scale_x, w);
  return raw;
}

}  // namespace slidesparse
