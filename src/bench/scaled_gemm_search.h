// The tuner's search over the scaled GEMM's compiled tiles (gemm/scaled_gemm.h): each tile timed on
// random operands of the shape, the fastest kept.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "gemm/scaled_gemm.h"

namespace slidesparse {

// m: padded rows. Mean of `repeat` launches after `warmup`, per tile.
ScaledGemmTile fastest_scaled_gemm_tile(int64_t n, int64_t k, int64_t m, int warmup, int repeat, cudaStream_t stream);

}  // namespace slidesparse
