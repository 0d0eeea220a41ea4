// Fused RMSNorm + quantization kernel benchmark: achieved GB/s of rmsnorm_quantize_gpu against the
// device-to-device copy bandwidth, in the rows of the activation-quantization benchmark.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "bench/quant_bench.h"

namespace slidesparse {

// One row per (K, L, M) (L = 0: no slide, codes into ceil32(K) columns; kernel name "<kind>+norm"),
// with the residual fused (the engine's case): bytes = M*K*2 x read + M*K*2 residual read +
// M*K*2 residual written + rows_padded*(out_cols + 4) codes and scales written; the weight (K*2,
// cache-resident) is not counted. Each point screens quant_launch_candidates() and times the
// fastest, launches rotating among input sets larger than the L2 cache.
std::vector<QuantBenchRow> bench_rmsnorm_quantize(QuantKind kind, const std::vector<int64_t>& ms,
                                                  const std::vector<int64_t>& ks, const std::vector<int>& groups,
                                                  int warmup, int repeat, cudaStream_t stream);

}  // namespace slidesparse
