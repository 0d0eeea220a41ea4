// The tuner's search over the scaled GEMMs' compiled tiles (gemm/scaled_gemm.h,
// gemm/sparse_scaled_gemm.h, with its tile orders): each timed on random operands of the shape, the
// fastest kept.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "gemm/scaled_gemm.h"
#include "gemm/sparse_scaled_gemm.h"

namespace slidesparse {

struct ScaledGemmTileChoice {
  ScaledGemmTile tile;
  double latency_us = 0;  // its mean launch time
};

// The epilogue the engine runs on a shape (its tile is timed with it: the ping-pong tiles hide
// epilogue work that the cooperative ones keep on their critical path).
enum class ScaledGemmEpilogue { Plain, Relu2Mul, ResidualAdd };

// BitNet's engine on the scaled GEMM: gate_up with relu2 * up, o_proj and down_proj (n = hidden)
// adding into the residual stream, qkv plain.
ScaledGemmEpilogue bitnet_engine_epilogue(const std::string& layer);

// m: padded rows. Mean of `repeat` launches after `warmup`, per tile, with the given epilogue.
ScaledGemmTileChoice fastest_scaled_gemm_tile(int64_t n, int64_t k, int64_t m, int warmup, int repeat,
                                              cudaStream_t stream,
                                              ScaledGemmEpilogue epilogue = ScaledGemmEpilogue::Plain);

struct SparseScaledGemmChoice {
  SparseScaledGemmSchedule schedule;
  double latency_us = 0;
};

// The same for the sparse scaled GEMM on a random ternary 2:4 weight [n, k] (k: the GEMM's K'),
// over its tiles and their orders (sparse_scaled_gemm_candidates).
SparseScaledGemmChoice fastest_sparse_scaled_gemm_schedule(int64_t n, int64_t k, int64_t m, int warmup, int repeat,
                                                           cudaStream_t stream,
                                                           ScaledGemmEpilogue epilogue = ScaledGemmEpilogue::Plain);

}  // namespace slidesparse
