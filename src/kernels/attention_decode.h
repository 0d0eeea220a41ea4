// Paged decode attention: one query token per sequence against that sequence's keys and values in
// the paged KV cache (kernels/kv_cache.h). The math is math/attention.h's with P rounded to bf16
// for the tensor-core product; decode is KV-bandwidth-bound, so each K / V element is read from
// memory once per (sequence, kv head) and serves all query heads of that kv head.
//
// Long contexts are split along the keys (flash-decoding): every split leaves a normalized partial
// output and its log-sum-exp in the caller's workspace, and a second kernel combines them. The
// launch shape depends only on host values fixed when a CUDA graph is captured (num_seqs, heads,
// cache geometry, batch.max_seq_len); each split reads the real seq_len from device memory and
// finds its key range there, so one capture replays with any seq_len / block_table contents.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "kernels/acc_view.h"
#include "kernels/kv_cache.h"

namespace slidesparse {

// Keys one split may cover at most: the whole split's block ids sit in shared memory.
constexpr int kAttentionDecodeMaxChunk = 512;
// Keys that always share a cache block (block sizes are multiples of it): splits are whole groups.
constexpr int kAttentionDecodeKeyGroup = 16;

// How the keys are cut into splits. The defaults are what the engine runs; tests and the benchmark
// vary them.
struct AttentionDecodeConfig {
  // A sequence is split only into pieces of at least this many keys (a multiple of 16, at most
  // kAttentionDecodeMaxChunk): short contexts stay whole, so they pay no combine.
  int min_chunk = 128;
  // Split until num_seqs * kv_heads * splits reaches about this many blocks, so few long sequences
  // still fill the GPU. 0: twice the current device's SM count. Measured on an H100 (132 SMs),
  // 16..512 sequences x 64..1024 keys: once there are about two blocks per SM, a split's extra
  // launch and partial outputs cost more than its parallelism buys (64 sequences x 272 keys: one
  // block each 20.9 us, three splits 25.7); below one block per SM, splitting wins (16 x 512 keys:
  // four splits 14.1 us, none 18.3).
  int target_blocks = 0;
  // Nonzero: every sequence is cut into pieces of exactly this many keys (a multiple of 16, at most
  // kAttentionDecodeMaxChunk; min_chunk and target_blocks unused), so its keys are summed in an order
  // that depends on its own length alone, not on the other sequences of the launch: a request's
  // output is the same whatever it is batched with. Costs the parallelism of few long sequences and
  // a combine for every sequence longer than the chunk.
  int fixed_chunk = 0;
};

// Bytes of workspace attention_decode_gpu needs for these bounds, whatever the cache's kv_heads
// and for any launch of at most num_seqs sequences (0 when none of them splits). max_seq_len is
// batch.max_seq_len. The split plan (this, attention_decode_splits) is host arithmetic in
// attention_decode_plan.cc; only the default fill target asks the device (its SM count).
size_t attention_decode_workspace_bytes(int num_seqs, int heads, int head_dim, int max_seq_len,
                                        const AttentionDecodeConfig& config = {});

// The splits per sequence a launch uses (1: no combine kernel, no workspace touched). Throws Error
// for a config outside the ranges AttentionDecodeConfig states.
int attention_decode_splits(int num_seqs, int kv_heads, int max_seq_len, const AttentionDecodeConfig& config = {});

// Bytes of workspace one launch of `splits` splits per sequence uses: each split's normalized
// partial output, fp32 [num_seqs, heads, splits, head_dim], then its log-sum-exp, fp32 [num_seqs,
// heads, splits]; 0 for one split.
size_t attention_decode_partials_bytes(int num_seqs, int heads, int head_dim, int splits);

// Shared memory one block of attention_decode_gpu's kernel takes at this head_dim (64 or 128):
// with its registers, what sets its blocks per SM (benchmarks run grids of the same occupancy).
int attention_decode_block_shared_bytes(int head_dim);

// One query token per sequence: q bf16 [batch.num_seqs, heads, head_dim] (rotated), out bf16
// [batch.num_seqs, heads * head_dim]. The query sits at position seq_len[s] - 1 and attends keys
// 0 .. seq_len[s] - 1 (its own key already written); batch.query_start is ignored. Query head h reads
// kv head h / (heads / kv_heads), heads / kv_heads <= 8. seq_len[s] must not exceed
// batch.max_seq_len; padding sequences (seq_len 0) get zero rows. k, v, out and workspace 16-byte
// aligned, q 4-byte aligned. No allocation, no synchronization: safe inside CUDA graph capture.
void attention_decode_gpu(const __nv_bfloat16* q, const KvCacheLayer& cache, const AttentionBatch& batch, int heads,
                          float softmax_scale, __nv_bfloat16* out, void* workspace, size_t workspace_bytes,
                          cudaStream_t stream, const AttentionDecodeConfig& config = {});

// The step's fresh token of every sequence as the QKV GEMM left it, for attention_decode_rope_gpu:
// rope_kv_write_gpu's inputs with one token per sequence (token s is sequence s).
struct DecodeRope {
  AccView qkv;                     // rows [num_seqs, >= (heads + 2 kv_heads) * head_dim]: q, k, v heads
  const int32_t* positions;        // device int32 [num_seqs]: the token's position (seq_len - 1)
  const int32_t* slot_mapping;     // device int32 [num_seqs]: its cache slot (negative: none)
  const __nv_bfloat16* cos;        // device bf16 [max_positions][head_dim / 2] (math/rope.h's table)
  const __nv_bfloat16* sin;
};

// Whether attention_decode_rope_gpu takes these QKV rows: a bf16 accumulator (scales applied or
// still to apply) in 16-byte aligned rows with 16-byte aligned weight scales. Other forms go through
// rope_kv_write_gpu and attention_decode_gpu.
bool attention_decode_fuses_rope(const AccView& qkv);

// rope_kv_write_gpu followed by attention_decode_gpu, in one launch (the same bits in the output and
// in the cache): every block rotates its kv head's queries from the QKV rows itself, and the block
// holding each sequence's last key rotates that key, writes it and its value to the token's cache
// slot and uses them for that key (its other keys come from the cache as before). Saves the RoPE
// kernel's launch and its q round trip. The query's position is seq_len[s] - 1, as for
// attention_decode_gpu; slots past the cache are not written. Same contract otherwise.
void attention_decode_rope_gpu(const DecodeRope& rope, const KvCacheLayer& cache, const AttentionBatch& batch,
                               int heads, float softmax_scale, __nv_bfloat16* out, void* workspace,
                               size_t workspace_bytes, cudaStream_t stream, const AttentionDecodeConfig& config = {});

}  // namespace slidesparse
