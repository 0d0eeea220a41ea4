// Bandwidth benchmark of the engine's per-step memory-bound kernels: RoPE + KV-cache write
// (rope_kv_write_gpu) and greedy sampling (argmax_rows_gpu), achieved GB/s against the
// device-to-device copy bandwidth (measure_copy_bandwidth_gbps, bench/quant_bench.h).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/activation_quant.h"

namespace slidesparse {

struct KernelBandwidthRow {
  std::string kernel;  // "rope_kv int32", "rope_kv bf16", "argmax"
  int64_t rows = 0;    // tokens (rope_kv) or logit rows (argmax)
  int64_t cols = 0;    // QKV width (heads + 2 kv_heads) x head_dim, or the vocabulary
  double us = 0, gbps = 0, fraction_of_copy = 0;
};

// rope_kv_write_gpu at BitNet-2B's attention shape (20 heads, 5 KV heads, head_dim 128, KV block
// size 16), one row per (accumulator type, T), every token writing the cache (prefill). type Int32
// reads int32 + both scales (INT8 dense GEMM), BFloat16 reads bf16 + scale_x (INT8 sparse / FP8
// dense). Bytes = T x width x (acc bytes) read + T x width x 2 written + per token: scale_x, position,
// slot, cos and sin rows; scale_w (width x 4, cache-resident) is not counted. Launches rotate among
// operand sets larger than the L2 cache.
std::vector<KernelBandwidthRow> bench_rope_kv(const std::vector<AccumulatorType>& types,
                                              const std::vector<int64_t>& tokens, double copy_gbps, int warmup,
                                              int repeat, cudaStream_t stream);

// argmax_rows_gpu over fp32 logits [rows, vocab]: bytes = rows x vocab x 4 read + rows x 4 written.
std::vector<KernelBandwidthRow> bench_argmax(const std::vector<int64_t>& rows, int64_t vocab, double copy_gbps,
                                             int warmup, int repeat, cudaStream_t stream);

// Prints the rows as a table (kernel, rows, cols, us, GB/s, fraction of copy) to stdout.
void print_bandwidth_rows(const std::vector<KernelBandwidthRow>& rows);

}  // namespace slidesparse
