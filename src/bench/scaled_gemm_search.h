// The tuner's search over the scaled GEMM's compiled tiles (gemm/scaled_gemm.h): each tile timed on
// random operands of the shape, the fastest kept.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "gemm/scaled_gemm.h"

namespace slidesparse {

struct ScaledGemmTileChoice {
  ScaledGemmTile tile;
  double latency_us = 0;  // its mean launch time
};

// m: padded rows. Mean of `repeat` launches after `warmup`, per tile.
ScaledGemmTileChoice fastest_scaled_gemm_tile(int64_t n, int64_t k, int64_t m, int warmup, int repeat,
                                              cudaStream_t stream);

}  // namespace slidesparse
