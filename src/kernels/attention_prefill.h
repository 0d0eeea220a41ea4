// Paged prefill attention on tensor cores (FlashAttention-2 style, mma.sync m16n8k16 bf16): every
// query row of a step attends, causally, the keys and values of its sequence in the paged KV cache
// (kernels/kv_cache.h). The math is math/attention.h's with fp32 scores, an online softmax in fp32
// (exp2 with log2(e) folded into the scale), P rounded to bf16 for the PV product, fp32
// accumulation and one bf16 rounding of the output.
//
// A CTA owns 64 query rows of one sequence for heads_per_cta query heads that share a kv head
// (4 warps per head, 16 rows per warp, Q in registers); it streams that kv head's keys and values
// in tiles of 64 through double-buffered shared memory (cp.async, one page-table lookup per 16
// keys), so each K / V tile read from L2 serves every head of the CTA. Key tiles wholly above the
// diagonal are never loaded; only the tiles that cross it are masked.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "kernels/kv_cache.h"

namespace slidesparse {

struct AttentionPrefillConfig {
  // Query heads per CTA: 1 or 2 (a divisor of heads / kv_heads); 0 picks 2 when the group size is
  // even (halves the L2 -> SM traffic of K and V), else 1. Tests and the benchmark vary it.
  int heads_per_cta = 0;
  // Keys per shared-memory tile: 64 or 32 (0: 64). A 32-key tile holds half the score registers.
  int key_tile = 0;
  // Q's fragments stay in registers for the whole key loop (true), or are re-read from shared
  // memory every tile (false): 32 registers fewer per thread, which lets two CTAs share an SM, for
  // 4 KB more shared-memory reads per warp and tile.
  bool q_in_registers = true;
};

// q: bf16 [T, heads, head_dim] (rotated); out: bf16 [T, heads * head_dim], T = query_start[num_seqs].
// Sequence s's query i sits at position seq_len[s] - qlen_s + i and attends keys 0 .. that position
// (its own keys already written to the cache); query head h reads kv head h / (heads / kv_heads).
// head_dim 64 or 128, block_size a positive multiple of 16, qlen_s <= batch.max_query_len (rows
// beyond it are not computed). Padding sequences (seq_len 0) get zero rows. q and out 16-byte
// aligned. No allocation, no synchronization: safe inside CUDA graph capture.
void attention_prefill_gpu(const __nv_bfloat16* q, const KvCacheLayer& cache, const AttentionBatch& batch, int heads,
                           float softmax_scale, __nv_bfloat16* out, cudaStream_t stream,
                           const AttentionPrefillConfig& config = {});

}  // namespace slidesparse
