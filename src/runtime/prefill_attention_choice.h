// Which kernel runs a prefill step's attention, and the cuDNN side of it. cuDNN's SDPA
// (cudnn/cudnn_prefill_attention.h) takes steps of fresh prompts only (nothing cached before their
// tokens) whose longest query has >= kCudnnMinQueryLen tokens, in a (sequences, length) bucket cuDNN
// supports, at row counts where the tuning database did not time our kernel faster; every other
// step, and every step once cuDNN has refused to execute, runs our kernel
// (kernels/attention_prefill.h). Each unsupported bucket is reported once, the refusal once.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cudnn/cudnn_prefill_attention.h"
#include "gpu/device_buffer.h"
#include "runtime/step_batch.h"

namespace slidesparse {

// Shorter queries keep our kernel: their attention is a small share of the step, and each new
// (sequences, length) bucket would cost cuDNN a graph build.
inline constexpr int kCudnnMinQueryLen = 256;

class PrefillAttentionChoice {
 public:
  // enabled: RunnerOptions::cudnn_attention. Loads cuDNN and makes its handle and the packed K/V
  // buffer for up to max_tokens rows; without cuDNN (or with its handle failing) every step keeps
  // our kernel.
  PrefillAttentionChoice(bool enabled, const CudnnAttentionShape& shape, int64_t max_tokens, cudaStream_t stream);

  // "cuDNN 9.10.2 SDPA (queries of >= 256 tokens) + built-in kernel" or "built-in kernel".
  std::string description() const;
  // Steps whose attention cuDNN ran so far.
  int64_t cudnn_steps() const { return cudnn_steps_; }

  // Builds, ahead of the first such step, the graph of a step of `seqs` fresh prompts of
  // `prompt_len` tokens (nothing when it would keep our kernel). tuned_for_cudnn: the database
  // does not prefer our kernel at the step's rows.
  void prepare(int seqs, int prompt_len, bool tuned_for_cudnn);

  // The cuDNN bucket for this step, its sequence offsets computed into q_offsets_host() /
  // kv_offsets_host() for the runner to stage (the runner sets the batch's device pointers to where
  // it staged them); nullopt when the step runs our kernel (decode, a cached prefix, short queries,
  // no cuDNN, an unsupported bucket, tuned against, refused).
  std::optional<CudnnAttentionBucket> choose(const StepBatch& batch, bool tuned_for_cudnn);
  const std::vector<int32_t>& q_offsets_host() const { return q_offsets_host_; }
  const std::vector<int32_t>& kv_offsets_host() const { return kv_offsets_host_; }
  // Where rope_kv_write_gpu writes the step's RoPE(k) and v packed for cuDNN, [T, 2 kv_heads, head_dim].
  __nv_bfloat16* packed_kv() { return packed_kv_.as<__nv_bfloat16>(); }

  // One layer of a chosen step on cuDNN. False (after one warning, and for every later call) when
  // cuDNN refuses to execute; nothing was launched then, and the caller runs our kernel.
  bool run(const __nv_bfloat16* q, const CudnnAttentionBatch& batch, __nv_bfloat16* out);

 private:
  bool bucket_ready(const CudnnAttentionBucket& bucket);  // prepares; warns once when unsupported

  CudnnAttentionShape shape_;
  std::unique_ptr<CudnnPrefillAttention> cudnn_;  // null: cuDNN unavailable or disabled
  DeviceBuffer packed_kv_;
  std::vector<int32_t> q_offsets_host_, kv_offsets_host_;  // reused: no allocation per step
  std::set<CudnnAttentionBucket> warned_;
  int64_t cudnn_steps_ = 0;
  bool refused_ = false;
};

}  // namespace slidesparse
