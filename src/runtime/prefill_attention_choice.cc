#include "runtime/prefill_attention_choice.h"

#include <cstdio>

#include "core/error.h"
#include "cudnn/cudnn_library.h"

namespace slidesparse {

PrefillAttentionChoice::PrefillAttentionChoice(bool enabled, const CudnnAttentionShape& shape, int64_t max_tokens,
                                               cudaStream_t stream)
    : shape_(shape) {
  if (!enabled) return;
  std::string why;
  if (!cudnn_library(&why)) return;  // it noted once why, for the whole process
  try {
    cudnn_ = std::make_unique<CudnnPrefillAttention>(shape, stream);
    packed_kv_ = DeviceBuffer(static_cast<size_t>(max_tokens) * 2 * shape.kv_heads * shape.head_dim * 2,
                              "packed keys and values for cuDNN");
  } catch (const Error& e) {  // e.g. no handle: the engine still runs, on our kernel
    cudnn_.reset();
    std::fprintf(stderr, "slidesparse: note: prefill attention uses the built-in kernel (%s)\n", e.what());
  }
}

std::string PrefillAttentionChoice::description() const {
  if (!cudnn_) return "built-in kernel";
  std::string why;
  return "cuDNN " + cudnn_library(&why)->version_string() + " SDPA (queries of >= " +
         std::to_string(kCudnnMinQueryLen) + " tokens) + built-in kernel";
}

bool PrefillAttentionChoice::bucket_ready(const CudnnAttentionBucket& bucket) {
  std::string why;
  if (cudnn_->prepare(bucket, &why)) return true;
  if (warned_.insert(bucket).second)
    std::fprintf(stderr, "slidesparse: warning: %s; using the built-in attention kernel\n", why.c_str());
  return false;
}

void PrefillAttentionChoice::prepare(int seqs, int prompt_len, bool tuned_for_cudnn) {
  if (cudnn_ && !refused_ && tuned_for_cudnn && prompt_len >= kCudnnMinQueryLen)
    bucket_ready({cudnn_sequence_bucket(seqs, shape_.max_seqs), cudnn_length_bucket(prompt_len, shape_.max_len)});
}

std::optional<CudnnAttentionBucket> PrefillAttentionChoice::choose(const StepBatch& b, bool tuned_for_cudnn) {
  if (!cudnn_ || refused_ || b.decode || b.max_query_len < kCudnnMinQueryLen || !tuned_for_cudnn ||
      !all_fresh_prompts(b))
    return std::nullopt;
  const CudnnAttentionBucket bucket{cudnn_sequence_bucket(b.num_seqs(), shape_.max_seqs),
                                    cudnn_length_bucket(b.max_seq_len, shape_.max_len)};
  if (b.max_seq_len > bucket.len || !bucket_ready(bucket)) return std::nullopt;
  cudnn_sequence_offsets(b, bucket.seqs, int64_t{shape_.heads} * shape_.head_dim,
                         int64_t{2} * shape_.kv_heads * shape_.head_dim, q_offsets_host_, kv_offsets_host_);
  ++cudnn_steps_;
  return bucket;
}

bool PrefillAttentionChoice::run(const __nv_bfloat16* q, const CudnnAttentionBatch& batch, __nv_bfloat16* out) {
  if (refused_) return false;
  std::string why;
  if (cudnn_->run(q, packed_kv(), batch, out, &why)) return true;
  // Nothing was launched: this layer and every later step run our kernel instead.
  std::fprintf(stderr, "slidesparse: warning: %s; prefill attention continues on the built-in kernel\n", why.c_str());
  refused_ = true;
  return false;
}

}  // namespace slidesparse
