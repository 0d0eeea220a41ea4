// CPU reference of the engine's attention (what kernels/attention.h computes), on bf16 bit patterns:
// causal, grouped-query (query head h reads kv head h / (heads / kv_heads)), keys and values read from
// the paged cache layout of kernels/kv_cache.h.
//   s_j = fp32 dot(q, k_j) (products of bf16 values exact in fp32, summed in double, rounded once)
//         * softmax_scale
//   p_j = exp(s_j - max_j s_j) / sum_j exp(...)       (double)
//   out = bf16(sum_j p_j * v_j)                        (double, rounded once)
// The GPU kernels round P to bf16 for the tensor-core product and sum in another order: they agree
// with this to bf16-level tolerances, stated in the tests.
#pragma once

#include <cstdint>
#include <vector>

namespace slidesparse {

struct HostKvCache {  // one layer, bf16 bits, layout [num_blocks][kv_heads][block_size][head_dim]
  std::vector<uint16_t> k, v;
  int num_blocks = 0, block_size = 0, kv_heads = 0, head_dim = 0;
};

struct HostAttentionBatch {
  std::vector<int32_t> query_start;  // [num_seqs + 1]
  std::vector<int32_t> seq_len;      // [num_seqs]
  std::vector<int32_t> block_table;  // [num_seqs][max_blocks_per_seq]
  int max_blocks_per_seq = 0;
};

// q: [T, heads, head_dim]; out: [T, heads * head_dim] (T = query_start.back()). Padding sequences
// (seq_len 0) get zero rows.
void attention_reference(const uint16_t* q, const HostKvCache& cache, const HostAttentionBatch& batch, int heads,
                         float softmax_scale, uint16_t* out);

}  // namespace slidesparse
