// Prefill attention through cuDNN's SDPA for steps of fresh prompts (every sequence's queries are
// all its tokens, nothing cached before them), with the contract of attention_prefill_gpu on such a
// step: query i of a sequence attends its keys 0 .. i. The keys and values are not read from the
// paged cache but from the step's own rows, which rope_kv_write_gpu also writes packed (its kv_out):
// q and out in our packed [T, heads, head_dim] layout, kv as [T, 2 x kv_heads, head_dim] (the k heads,
// then the v heads). All three are cuDNN's ragged "THD" layout, one element offset per sequence, with
// padding masks from the per-sequence lengths.
//
// cuDNN graphs have fixed dims, so one is built per (sequences, length) bucket on first use (cuDNN
// compiles its kernel then: 0.1-1 s) and cached; a step pads its sequence count to the bucket with
// zero-length sequences. run() allocates nothing of ours and does not synchronize.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "gpu/device_buffer.h"

namespace slidesparse {

struct CudnnAttentionShape {
  int heads = 0, kv_heads = 0, head_dim = 0;
  int max_seqs = 0;  // sequences per step (the largest sequence bucket)
  int max_len = 0;   // the longest sequence (the largest length bucket)
  float softmax_scale = 0;
};

// Sequence bucket: the next power of two >= seqs, at most max_seqs. Length bucket: the next power
// of two >= the longest sequence, at least 64, at most max_len.
int cudnn_sequence_bucket(int seqs, int max_seqs);
int cudnn_length_bucket(int max_len, int max_seq_tokens);

struct CudnnAttentionBucket {
  int seqs = 0, len = 0;
  auto operator<=>(const CudnnAttentionBucket&) const = default;
};

// Per step, device int32 arrays sized for the sequence bucket b (entries past the real sequences:
// zero lengths, offsets equal to the total).
struct CudnnAttentionBatch {
  CudnnAttentionBucket bucket;
  const int32_t* q_offsets = nullptr;   // [b + 1] element offset of each sequence's first row in q / out
  const int32_t* kv_offsets = nullptr;  // [b + 1] the same in kv
  const int32_t* seq_len = nullptr;     // [b] tokens of each sequence (queries = keys)
};

// The frontend's own checks of the graph a bucket gets (dims, strides, ragged rules, what the
// loaded backend version supports) for a GPU of `sm_version` (90 = Hopper), without a GPU or a
// handle. False with the frontend's message in `why`. Throws Error when cuDNN cannot be loaded.
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

  // out = attention(q, k, v) for a prepared bucket; q / out as in attention_prefill_gpu, kv as
  // rope_kv_write_gpu's kv_out. False, with cuDNN's message in `why`, when cuDNN refused to execute
  // (nothing was launched then, so the caller can run its own kernel instead); throws Error for a
  // bucket that was not prepared.
  bool run(const __nv_bfloat16* q, const __nv_bfloat16* kv, const CudnnAttentionBatch& batch, __nv_bfloat16* out,
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
