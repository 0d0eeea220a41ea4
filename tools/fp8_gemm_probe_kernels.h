// The FP8 instantiations of the scaled GEMM's kernels (gemm/scaled_gemm_kernels.cuh) that
// tools/fp8_gemm_probe measures: E4M3 inputs, fp32 accumulation, both scales in the epilogue,
// bf16 out, on the scaled GEMM's four tiles. Built for sm_90a only.
#pragma once

#include <cuda_runtime.h>

#include "gemm/scaled_gemm.h"
#include "gemm/scaled_gemm_launch.h"

namespace slidesparse::fp8_probe {

// The promoting mainloop: partial sums added into fp32 registers every p.fp8_promotion_interval MMAs.
void launch_promoting(ScaledGemmTile tile, const scaled_gemm_detail::Problem& p, cudaStream_t stream);
// The fast-accumulation mainloop: the whole K summed in the tensor cores' own accumulators.
void launch_fast(ScaledGemmTile tile, const scaled_gemm_detail::Problem& p, cudaStream_t stream);

}  // namespace slidesparse::fp8_probe
