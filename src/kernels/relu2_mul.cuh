// BitNet's MLP activation on the GPU, element by element as math/activation.h computes it on bf16
// values: the relu2*up norm (kernels/norm_quant.cuh) and the scaled GEMM's MLP epilogue
// (gemm/relu2_mul_store.cuh) share these, so both give the reference's bits.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

#include "kernels/vector_io.cuh"

namespace slidesparse {

// math/activation.h: bf16(bf16(relu(g)^2) * u) (fmaxf takes a NaN gate to 0, as the reference does);
// the final rounding is the caller's.
__device__ __forceinline__ float relu2_mul(float g, float u) {
  const float r = fmaxf(g, 0.0f);
  return __fmul_rn(__bfloat162float(__float2bfloat16_rn(__fmul_rn(r, r))), u);
}

// bf16 pair of relu2_mul for two elements, with both roundings paired.
__device__ __forceinline__ uint32_t relu2_mul_pair(float g0, float u0, float g1, float u1) {
  const float r0 = fmaxf(g0, 0.0f), r1 = fmaxf(g1, 0.0f);
  const uint32_t squares = pack_bf16x2(__fmul_rn(r0, r0), __fmul_rn(r1, r1));
  return pack_bf16x2(__fmul_rn(bf16_low(squares), u0), __fmul_rn(bf16_high(squares), u1));
}

// relu2_mul_pair on two bf16 pairs in bf16x2 arithmetic: max.bf16x2 returns the non-NaN input (a
// NaN gate gives 0, as fmaxf does) and mul.rn.bf16x2 rounds each exact product once to bf16, which is
// what the float path computes (the product of two bf16 is exact in float). Three instructions per
// pair instead of about fourteen; sm_90 has mul.bf16x2, older GPUs take the float path.
__device__ __forceinline__ uint32_t relu2_mul_bf16x2(uint32_t gate, uint32_t up) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  uint32_t relu;
  asm("max.bf16x2 %0, %1, %2;" : "=r"(relu) : "r"(gate), "r"(0u));
  return mul_bf16x2(mul_bf16x2(relu, relu), up);
#else
  return relu2_mul_pair(bf16_low(gate), bf16_low(up), bf16_high(gate), bf16_high(up));
#endif
}

}  // namespace slidesparse
