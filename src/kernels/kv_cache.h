// The paged KV cache as every engine kernel sees it. One layer's keys and values are two tensors
//   k, v: bf16 [num_blocks][kv_heads][block_size][head_dim]
// so one (block, kv head) is a contiguous block_size x head_dim tile. Token t of a sequence lives in
// block block_table[t / block_size] at offset t % block_size; its "slot" is
//   slot = block * block_size + offset   (vLLM's slot mapping; -1 marks a padding token).
// A step's batch is described by device arrays (AttentionBatch) so the same kernels run eagerly and
// inside CUDA graphs (decode), where only the arrays' contents change between replays.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

namespace slidesparse {

struct KvCacheLayer {
  __nv_bfloat16* k = nullptr;
  __nv_bfloat16* v = nullptr;
  int num_blocks = 0;
  int block_size = 0;  // tokens per block, a multiple of 16
  int kv_heads = 0;
  int head_dim = 0;    // 64 or 128
};

// Element offset of (block, kv head, offset in block, 0) inside k or v.
inline int64_t kv_tile_offset(const KvCacheLayer& c, int64_t block, int head, int offset) {
  return ((block * c.kv_heads + head) * c.block_size + offset) * int64_t{c.head_dim};
}

// Per step, device int32 arrays. Sequence s owns query rows [query_start[s], query_start[s+1]) of q
// and out; seq_len[s] counts its tokens in the cache *including* this step's (already written), so
// its query i sits at position seq_len[s] - qlen_s + i and attends keys 0..that position (causal).
// seq_len[s] == 0 marks a padding sequence (CUDA-graph buckets): its output rows are zeroed.
struct AttentionBatch {
  int num_seqs = 0;
  const int32_t* query_start = nullptr;  // [num_seqs + 1]
  const int32_t* seq_len = nullptr;      // [num_seqs]
  const int32_t* block_table = nullptr;  // [num_seqs][max_blocks_per_seq]
  int max_blocks_per_seq = 0;
  int max_query_len = 0;  // host-known bound on qlen_s (grid sizing)
  int max_seq_len = 0;    // host-known bound on seq_len[s] (grid sizing / split choice)
};

}  // namespace slidesparse
