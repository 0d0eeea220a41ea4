// Bandwidth benchmark of the engine's per-step memory-bound kernels: RoPE + KV-cache write
// (rope_kv_write_gpu) and greedy sampling (argmax_rows_gpu), achieved GB/s against the
// device-to-device copy bandwidth (measure_copy_bandwidth_gbps, bench/device_ceilings.h).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bench/bandwidth_rows.h"
#include "kernels/activation_quant.h"

namespace slidesparse {

// The GEMM output forms RoPE reads in the engine: int32 + both scales (INT8 dense on cuBLASLt), bf16
// + scale_x (INT8 sparse, FP8), plain bf16 (INT8 dense on the scaled GEMM).
enum class RopeInput { Int32BothScales, Bf16ScaleX, Bf16Plain };

// rope_kv_write_gpu at BitNet-2B's attention shape (20 heads, 5 KV heads, head_dim 128, KV block
// size 16), one row per (input form, T) (kernel "rope_kv int32" / "rope_kv bf16+sx" / "rope_kv bf16",
// rows T, cols the QKV width (heads + 2 kv_heads) x head_dim), every token writing the cache
// (prefill). Bytes = T x width x (acc bytes) read + T x width x 2 written + per token: scale_x,
// position, slot, cos and sin rows; scale_w (width x 4, cache-resident) is not counted. Launches
// rotate among operand sets larger than the L2 cache.
std::vector<BandwidthRow> bench_rope_kv(const std::vector<RopeInput>& inputs, const std::vector<int64_t>& tokens,
                                        double copy_gbps, int warmup, int repeat, cudaStream_t stream);

// sample_rows_gpu over fp32 logits [rows, vocab] uniform in [-20, 20] (cols the vocabulary): every
// row greedy (kernel "argmax"), every row at temperature 0.8 with top-p 0.95 ("sample top-p"), and
// with top-k 50 as well ("sample top-k+top-p"), each with every blocks_per_row of the list (0: the
// launch's own choice; others named in the kernel column, "argmax /4"). Bytes = the logits as often
// as the kernel reads them (argmax 1, top-p 4: the argmax, two histogram passes and the draw; top-k
// + top-p 5) + rows x 4 written.
std::vector<BandwidthRow> bench_sampling(const std::vector<int64_t>& rows, int64_t vocab,
                                         const std::vector<int>& blocks_per_row, double copy_gbps, int warmup,
                                         int repeat, cudaStream_t stream);

}  // namespace slidesparse
