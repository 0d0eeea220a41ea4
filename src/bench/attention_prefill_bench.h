// Prefill attention benchmark (`slidesparse bench attention`): attention_prefill_gpu at BitNet-2B's
// shape (20 query heads, 5 kv heads, head_dim 128, causal, full prompts: qlen = seq_len) for the
// caller's sequence counts and lengths, in TFLOP/s against this GPU's dense bf16 peak
// (bench/device_ceilings.h).
#pragma once

#include <cuda_runtime.h>

#include <optional>
#include <vector>

#include "kernels/attention_prefill.h"

namespace slidesparse {

// BitNet-2B's attention geometry, which the benchmark and `tune` time.
inline constexpr int kBitnetAttentionHeads = 20, kBitnetAttentionKvHeads = 5, kBitnetAttentionHeadDim = 128;

struct AttentionPrefillBenchRow {
  int seqs = 0, seq_len = 0, block_size = 0;
  int heads_per_cta = 0;  // the CTA shape timed (1 or 2)
  int key_tile = 64;      // keys per shared-memory tile (64 or 32)
  bool q_in_registers = true;
  bool cudnn = false;  // cuDNN's SDPA (cudnn/cudnn_prefill_attention.h) instead of our kernel
  double ms = 0, tflops = 0, fraction_of_peak = 0;
};

// What `tune` records per step size: the fastest variant of our kernel, and whether cuDNN's SDPA
// (where it is available) beat it.
struct AttentionPrefillChoice {
  AttentionPrefillConfig kernel;
  std::optional<bool> cudnn;  // whether cuDNN's SDPA was fastest; empty when it was not timed
};

// One row per (seqs, seq_len, kernel variant: heads_per_cta in {1, 2} x key_tile in {64, 32} x Q in
// registers or shared memory), plus one for cuDNN's SDPA where libcudnn 9.7+ loads and supports the
// shape (same paged cache, the engine's bucket of sequences); each times `repeat` launches after `warmup`
// with CUDA events. FLOPs = seqs x 20 heads x 4 x 128 x seq_len (seq_len + 1) / 2 (QK^T and PV over
// the causally visible keys; masked work inside diagonal tiles is not counted). Operands are random
// bf16; the KV cache's blocks (block_size tokens) are handed out in shuffled order. One operand set:
// the kernel is compute-bound, so L2 residency of small shapes hardly matters.
// with_cudnn: cuDNN's SDPA is timed too (where libcudnn 9.7+ loads), as the engine runs it on fresh prompts.
std::vector<AttentionPrefillBenchRow> bench_attention_prefill(const std::vector<int>& seq_counts,
                                                              const std::vector<int>& seq_lens, int block_size,
                                                              int warmup, int repeat, bool with_cudnn,
                                                              cudaStream_t stream);

// The fastest kernel variant for `seqs` full prompts of `seq_len` tokens (BitNet-2B heads, the given
// KV block size) and whether cuDNN was faster still, timed as above: what `slidesparse tune` records.
AttentionPrefillChoice fastest_attention_prefill(int seqs, int seq_len, int block_size, int warmup, int repeat,
                                                 bool with_cudnn, cudaStream_t stream);

// Prints the rows as a table (seqs, seq_len, block, kernel: heads/CTA, keys/tile and Q, or cuDNN;
// ms, TFLOP/s, % of the dense peak).
void print_attention_prefill_rows(const std::vector<AttentionPrefillBenchRow>& rows);

}  // namespace slidesparse
