// Rotary position embedding fused with the paged KV-cache write: the step between the QKV GEMM and
// attention. One pass reads every QKV value once (through the AccView, so the dequantization
// epilogue is fused too), rotates q and k with the bf16 cos / sin table and stores q_out, k and v.
// The math is exactly math/rope.h's apply_rope on the bf16 values acc_value gives.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/acc_view.h"
#include "kernels/kv_cache.h"

namespace slidesparse {

// qkv: rows [tokens, >= (heads + 2 kv_heads) * head_dim], columns q (heads x head_dim), then k
// (kv_heads x head_dim), then v; kv_heads and head_dim come from `cache`. For token t < tokens:
//   q_out[t] (bf16 [tokens, heads, head_dim]) = RoPE(q) at positions[t];
//   if slot_mapping[t] >= 0, the cache's k and v at that slot get RoPE(k) and v.
// rope_cos / rope_sin: device bf16 [max_positions][head_dim / 2] (math/rope.h's RopeTable uploaded);
// positions[t] must lie in [0, max_positions). Slots at or past num_blocks * block_size are not
// written (they would be outside the cache). positions and slot_mapping are device int32 [tokens].
// kv_out (optional, bf16 [tokens, 2 x kv_heads, head_dim]): where given, token t's RoPE(k) and v
// heads are also written there, packed (k heads, then v heads), for attention that reads a fresh
// prompt's keys from the step itself (cudnn/cudnn_prefill_attention.h); tokens without a cache slot
// are left unwritten. +2 kv_heads x head_dim x 2 bytes written per token.
// head_dim % 16 == 0 (64 and 128 in practice); q_out, kv_out, cache.k, cache.v and the tables must
// be 16-byte aligned (cudaMalloc'd). Any AccView type and ld; 16-byte loads when its rows are
// aligned. Explicit stream, no allocation, safe inside CUDA graph capture.
void rope_kv_write_gpu(const AccView& qkv, int64_t tokens, const int32_t* positions, const int32_t* slot_mapping,
                       const __nv_bfloat16* rope_cos, const __nv_bfloat16* rope_sin, int heads,
                       const KvCacheLayer& cache, __nv_bfloat16* q_out, cudaStream_t stream,
                       __nv_bfloat16* kv_out = nullptr);

}  // namespace slidesparse
