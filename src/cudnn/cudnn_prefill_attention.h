// Prefill attention through cuDNN's SDPA, with the contract of attention_prefill_gpu: sequence s's
// qlen_s query rows are the last of its seq_len_s cached tokens, so query i attends keys 0 ..
// seq_len_s - qlen_s + i (cuDNN's bottom-right causal diagonal; for fresh prompts, qlen == seq_len,
// it is the usual top-left one). It reads q and writes out in our packed [T, heads, head_dim] layout
// (cuDNN's ragged "THD" layout, one element offset per sequence) and reads K and V in place from
// the paged cache through the block table (kernels/kv_cache.h's [num_blocks][kv_heads][block_size]
// [head_dim] is cuDNN's container layout), with padding masks from per-sequence lengths.
//
// cuDNN graphs have fixed dims, so one is built per (sequence, query-length, key-length) bucket on
// first use (cuDNN compiles its kernel then: 0.1-1 s) and cached; a step pads its sequence count to
// the bucket with zero-length sequences. run() allocates nothing of ours and does not synchronize.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "gpu/device_buffer.h"
#include "kernels/kv_cache.h"

namespace slidesparse {

struct CudnnAttentionShape {
  int heads = 0, kv_heads = 0, head_dim = 0;
  int block_size = 0, num_blocks = 0, max_blocks_per_seq = 0;
  int max_seqs = 0;       // sequences per step (the largest sequence bucket)
  float softmax_scale = 0;
};

// Sequence bucket: the next power of two >= seqs, at most max_seqs. Length bucket (queries and keys
// alike): the next power of two >= the longest length, at least 64, at most the longest sequence the
// block table can hold (max_blocks_per_seq * block_size).
int cudnn_sequence_bucket(int seqs, int max_seqs);
int cudnn_length_bucket(int max_len, int max_seq_tokens);

// Per step, device int32 arrays sized for the sequence bucket b (entries past the real sequences:
// zero lengths, offsets equal to the total, block-table rows of valid block ids).
struct CudnnAttentionBucket {
  int seqs = 0, query = 0, keys = 0;  // query <= keys
  auto operator<=>(const CudnnAttentionBucket&) const = default;
};

struct CudnnAttentionBatch {
  CudnnAttentionBucket bucket;
  const int32_t* ragged_offsets = nullptr;  // [b + 1] element offset of each sequence's first row in q / out
  const int32_t* seq_len_q = nullptr;       // [b]
  const int32_t* seq_len_kv = nullptr;      // [b] keys in the cache, this step's included
  const int32_t* block_table = nullptr;     // [b][ceil(keys / block_size)] (runtime/step_batch.h)
};

// The frontend's own checks of the graph a bucket gets (dims, strides, ragged and paged rules,
// what the loaded backend version supports) for a GPU of `sm_version` (90 = Hopper), without a GPU
// or a handle. False with the frontend's message in `why`. Throws Error when cuDNN cannot be loaded.
bool validate_cudnn_prefill_graph(const CudnnAttentionShape& shape, const CudnnAttentionBucket& bucket, int sm_version,
                                  std::string* why);

class CudnnPrefillAttention {
 public:
  // Throws Error when cuDNN cannot be used (cudnn/cudnn_library.h says why) or its handle fails.
  CudnnPrefillAttention(const CudnnAttentionShape& shape, cudaStream_t stream);
  ~CudnnPrefillAttention();
  CudnnPrefillAttention(const CudnnPrefillAttention&) = delete;
  CudnnPrefillAttention& operator=(const CudnnPrefillAttention&) = delete;

  // Builds the graph of this bucket once (and grows the workspace it needs). False when cuDNN does
  // not support it, with cuDNN's reason in `why`; the caller then uses its own kernel.
  bool prepare(const CudnnAttentionBucket& bucket, std::string* why);

  // out = attention(q, cache) for a prepared bucket; q / out as in attention_prefill_gpu. False,
  // with cuDNN's message in `why`, when cuDNN refused to execute (nothing was launched then, so the
  // caller can run its own kernel instead); throws Error for a bucket that was not prepared.
  bool run(const __nv_bfloat16* q, const KvCacheLayer& cache, const CudnnAttentionBatch& batch, __nv_bfloat16* out,
           std::string* why);

 private:
  struct Graph;
  CudnnAttentionShape shape_;
  cudaStream_t stream_;
  void* handle_ = nullptr;  // cudnnHandle_t
  std::map<CudnnAttentionBucket, std::unique_ptr<Graph>> graphs_;  // nullptr: unsupported
  DeviceBuffer workspace_;
};

}  // namespace slidesparse
