// 16-byte vector access to 8 consecutive elements as floats (the pointer must be 16-byte aligned):
// the loads of GEMM outputs (int32, fp32, bf16) and tables, and the bf16 store, shared by the
// element-wise kernels.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

namespace slidesparse {

// Two floats rounded to bf16 (nearest even), `lo` in the low half: one packed conversion (F2FP).
// Hopper's conversion pipe runs at an eighth of the FP32 rate, so kernels that round several times
// per element pair their roundings through this (docs/PERF.md).
__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}

// The two halves of a bf16 pair as floats (exact).
__device__ __forceinline__ float bf16_low(uint32_t pair) { return __uint_as_float(pair << 16); }
__device__ __forceinline__ float bf16_high(uint32_t pair) { return __uint_as_float(pair & 0xFFFF0000u); }

// bf16(a * b) for two bf16 pairs: the product of two bf16 is exact in float, so rounding it once
// to bf16 (mul.rn.bf16x2, one instruction on sm_90) gives the bits of the float multiply followed
// by pack_bf16x2; older GPUs take that float path.
__device__ __forceinline__ uint32_t mul_bf16x2(uint32_t a, uint32_t b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  uint32_t product;
  asm("mul.rn.bf16x2 %0, %1, %2;" : "=r"(product) : "r"(a), "r"(b));
  return product;
#else
  return pack_bf16x2(__fmul_rn(bf16_low(a), bf16_low(b)), __fmul_rn(bf16_high(a), bf16_high(b)));
#endif
}

// bf16(a + b) and bf16(a - b) for two bf16 pairs: one rounding of the exact result. The float sum
// rounded again to bf16 gives the same bits (float keeps more than 2 x 8 + 1 significant bits, so
// the second rounding of an addition is innocuous), which is the path older GPUs take.
__device__ __forceinline__ uint32_t add_bf16x2(uint32_t a, uint32_t b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  uint32_t sum;
  asm("add.rn.bf16x2 %0, %1, %2;" : "=r"(sum) : "r"(a), "r"(b));
  return sum;
#else
  return pack_bf16x2(__fadd_rn(bf16_low(a), bf16_low(b)), __fadd_rn(bf16_high(a), bf16_high(b)));
#endif
}
__device__ __forceinline__ uint32_t sub_bf16x2(uint32_t a, uint32_t b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  uint32_t difference;
  asm("sub.rn.bf16x2 %0, %1, %2;" : "=r"(difference) : "r"(a), "r"(b));
  return difference;
#else
  return pack_bf16x2(__fsub_rn(bf16_low(a), bf16_low(b)), __fsub_rn(bf16_high(a), bf16_high(b)));
#endif
}

__device__ __forceinline__ void load8(const int32_t* p, float (&v)[8]) {
  const int4 a = *reinterpret_cast<const int4*>(p), b = *reinterpret_cast<const int4*>(p + 4);
  const int32_t w[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
#pragma unroll
  for (int i = 0; i < 8; ++i) v[i] = __int2float_rn(w[i]);
}

__device__ __forceinline__ void load8(const float* p, float (&v)[8]) {
  const float4 a = *reinterpret_cast<const float4*>(p), b = *reinterpret_cast<const float4*>(p + 4);
  const float w[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
#pragma unroll
  for (int i = 0; i < 8; ++i) v[i] = w[i];
}

// bf16 -> float is exact: the bits move to the top half.
__device__ __forceinline__ void load8(const __nv_bfloat16* p, float (&v)[8]) {
  const uint4 a = *reinterpret_cast<const uint4*>(p);
  const uint32_t pairs[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    v[2 * i] = __uint_as_float(pairs[i] << 16);
    v[2 * i + 1] = __uint_as_float(pairs[i] & 0xFFFF0000u);
  }
}

// Rounds to nearest even: values that are already bf16-exact are only repacked.
__device__ __forceinline__ void store8(__nv_bfloat16* p, const float (&v)[8]) {
  uint32_t pairs[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) pairs[i] = pack_bf16x2(v[2 * i], v[2 * i + 1]);
  *reinterpret_cast<uint4*>(p) = make_uint4(pairs[0], pairs[1], pairs[2], pairs[3]);
}

}  // namespace slidesparse
