// Between the host side of the scaled GEMM (gemm/scaled_gemm.cc, a plain C++ file) and its kernels
// (gemm/scaled_gemm_int8*.cu), which are built for sm_90a alone: the CUTLASS instantiations compile
// once, for the one architecture that runs them.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "gemm/scaled_gemm.h"

namespace slidesparse::scaled_gemm_detail {

struct Problem {
  const void* x = nullptr;  // [m, k] codes
  const void* w = nullptr;  // [n, k] codes
  const float* scale_x = nullptr;
  const float* scale_w = nullptr;
  __nv_bfloat16* d = nullptr;  // [m, n] (for the residual epilogue read first), or [m, n / 2] for the MLP epilogue
  int64_t m = 0, n = 0, k = 0;
  int sm_count = 0;
  // FP8 mainloops that promote: the tensor cores' partial sums are added into fp32 registers every
  // this many MMAs (a multiple of the MMAs per k-tile; CUTLASS's default). Other mainloops ignore it.
  uint32_t fp8_promotion_interval = 4;
};

// Whether the kernel translation units were compiled with the kernels (an sm_90a build).
bool kernels_built();
// Launch one GEMM (throws Error when CUTLASS refuses the problem or the launch fails).
void launch_int8(ScaledGemmTile tile, const Problem& p, cudaStream_t stream);
// The same GEMM with the MLP epilogue: d [m, n / 2] = relu2(gate) * up of the interleaved columns
// (ScaledGemm::run_relu2_mul).
void launch_int8_relu2_mul(ScaledGemmTile tile, const Problem& p, cudaStream_t stream);
// The same on gate_up rows in blocks of kSparseGateUpBlock (ScaledGemm::run_relu2_mul's `block`).
void launch_int8_relu2_mul_block(ScaledGemmTile tile, const Problem& p, cudaStream_t stream);
// The same GEMM added to d in place: d = bf16(float(d) + float(bf16(value))) (ScaledGemm::run_residual_add).
void launch_int8_residual_add(ScaledGemmTile tile, const Problem& p, cudaStream_t stream);

}  // namespace slidesparse::scaled_gemm_detail
