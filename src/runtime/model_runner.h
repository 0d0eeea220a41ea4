// Runs the BitNet forward pass on the GPU for one engine step (docs/ENGINE.md): fused norm /
// quantize kernels around the W8A8 GEMMs, RoPE fused with the paged KV-cache write, prefill or
// decode attention, the final norm and lm_head for the sampled rows only, and their tokens drawn
// on the device. Every buffer is allocated at construction for the configured limits; the KV cache takes
// what is left of the memory budget; decode steps replay CUDA graphs captured once per batch-size
// bucket (padded to the next bucket). run() allocates nothing.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gemm/bf16_gemm.h"
#include "gpu/device_buffer.h"
#include "kernels/attention_decode.h"
#include "kernels/attention_prefill.h"
#include "kernels/kv_cache.h"
#include "runtime/model_weights.h"
#include "runtime/prefill_attention_choice.h"
#include "runtime/staged_layout.h"
#include "runtime/step_batch.h"
#include "runtime/step_profiler.h"
#include "tuning/tuning_db.h"

namespace slidesparse {

struct RunnerOptions {
  int max_num_seqs = 256;
  int max_num_batched_tokens = 8192;
  int max_model_len = 0;  // 0: LlmEngine takes the model's max_position_embeddings
  int block_size = 64;
  double gpu_memory_utilization = 0.9;  // share of the GPU's memory this process may hold in all
  bool cuda_graphs = true;
  int num_kv_blocks = 0;  // > 0: exactly this many KV blocks instead of what the memory budget allows
  // Prefill steps of fresh prompts only (no cached prefix) with a query of >= 256 tokens run
  // cuDNN's SDPA when libcudnn 9.7+ is found (and the tuning database, where it timed both, did not
  // find our kernel faster); other steps, or without cuDNN, our kernel.
  bool cudnn_attention = true;
  // Every request's output independent of what else runs in its steps: decode attention cuts keys
  // at fixed positions (kBatchInvariantDecodeChunk), prefill attention runs our kernel alone, the
  // fused norms and attention keep their default launch shapes at every row count, and lm_head takes
  // no split-K algorithm. LlmEngine adds what lies outside the runner: no dense fallback (its GEMM
  // rounds otherwise than cuSPARSELt's) and INT8 models only (FP8 GEMMs accumulate in floating point
  // in an order that varies with the row count). Decode of few long sequences loses the parallelism
  // of adaptive splits.
  bool batch_invariant = false;
  const TuningDatabase* tuning = nullptr;
};

// The decode attention split of batch-invariant runs: long enough that contexts of a few hundred
// tokens pay no combine, short enough that one long sequence still spans several blocks.
inline constexpr int kBatchInvariantDecodeChunk = 256;

// One step's sizes as staging and the forward pass see them.
struct StepShape {
  int tokens = 0;    // token rows (decode graphs: the bucket size)
  int64_t rows = 0;  // rows the GEMMs and quantizers run on (tokens padded: prefill_rows / padded_rows)
  int seqs = 0;      // sequences
  int samples = 0;   // rows sampled (0: a step of mid-prompt chunks, no lm_head)
  bool decode = false;
  int max_query_len = 0, max_seq_len = 0;
};

class ModelRunner {
 public:
  ModelRunner(ModelWeights& weights, const RunnerOptions& options, cudaStream_t stream);
  ~ModelRunner();
  ModelRunner(const ModelRunner&) = delete;
  ModelRunner& operator=(const ModelRunner&) = delete;

  // Rows the linear layers must be loaded for (WeightLoadOptions::max_tokens).
  static int64_t rows_needed(const RunnerOptions& options);

  int num_kv_blocks() const { return num_blocks_; }
  int max_blocks_per_seq() const { return max_blocks_per_seq_; }
  // While set, steps run eagerly with a mark after every phase (see StepProfiler).
  void set_profiler(StepProfiler* profiler) { profiler_ = profiler; }

  // Builds, ahead of the first such step, what a prefill step of `seqs` fresh prompts of
  // `prompt_len` tokens needs: the GEMM plans for its rows and its cuDNN attention graph.
  void prepare_prefill(int seqs, int prompt_len);
  // "cuDNN 9.10.2 SDPA (queries of >= 256 tokens) + built-in kernel" or "built-in kernel".
  std::string prefill_attention_description() const { return attention_->description(); }
  // Prefill steps whose attention ran on cuDNN so far.
  int64_t cudnn_attention_steps() const { return attention_->cudnn_steps(); }

  // Launches the step and returns without waiting for the GPU: the step's arrays go to the device in
  // one copy, the forward pass runs (a captured graph for decode steps whose bucket has one), each
  // sample row's token is drawn on the device (batch.sample_params, kernels/sampling.h), and the
  // tokens and the token check are copied back. A second step may be launched before the first is
  // waited for (LlmEngine runs one step ahead); its rows with batch.carried_rows take their tokens
  // from the step launched just before it. A step that keeps its logits (perplexity) must be waited
  // for before the next launch.
  void launch(const StepBatch& batch, bool keep_logits);
  // Waits for the oldest launched step; returns the token drawn for every sample row and, when it
  // was launched keeping them, the sample rows' fp32 logits [rows][vocab]. Throws Error when a token
  // id outside the vocabulary reached the model.
  void wait(std::vector<int32_t>& tokens, std::vector<float>* logits = nullptr);
  // launch, then wait.
  void run(const StepBatch& batch, std::vector<int32_t>& tokens, std::vector<float>* logits = nullptr);
  // Whether a decode step of `seqs` sequences replays a captured graph (graphs on, no profiler, a
  // bucket that large): the steps that may be launched ahead.
  bool replays_graph(int seqs) const;
  // How long the last wait() waited for the GPU.
  double last_wait_seconds() const { return last_wait_seconds_; }
  // For the last waited step when it and the step waited before it were decode steps: the GPU time
  // from the end of that step's forward pass to the start of this one's (copies back and in, and
  // any time the GPU waited for the host to launch). Negative otherwise.
  double last_decode_gap_seconds() const { return last_decode_gap_seconds_; }

 private:
  void allocate_kv_cache();
  void prepare_rows(int64_t rows);
  // Where a step of this shape stages its arrays (cudnn_seqs: cuDNN's bucket, 0 without).
  StagedLayout layout(const StepShape& shape, int cudnn_seqs) const;
  // Writes the step's arrays (padded to `shape`, and cuDNN's offsets for a bucket of cudnn_seqs
  // sequences when it runs cuDNN) into the pinned `host` block and copies the block to the device.
  void stage(const StepBatch& batch, const StepShape& shape, const StagedLayout& layout, int cudnn_seqs,
             int32_t* host);
  void forward(const StepShape& shape, const StagedLayout& layout, const CudnnAttentionBatch* cudnn = nullptr);
  void capture_graphs();
  static int64_t prefill_rows(int tokens);

  ModelWeights& weights_;
  RunnerOptions options_;
  cudaStream_t stream_;
  int64_t hidden_, inter_, heads_, kv_heads_, head_dim_, vocab_;
  int max_blocks_per_seq_ = 0, num_blocks_ = 0;
  float softmax_scale_ = 0;

  Bf16Gemm lm_head_gemm_;
  AttentionDecodeConfig decode_config_;
  DeviceBuffer residual_, q_, attn_, codes_, scale_[2], acc_, workspace_, final_x_, logits_, sampled_;
  DeviceBuffer decode_workspace_, rope_cos_, rope_sin_, kv_, staged_device_, error_flag_;
  size_t staged_capacity_ = 0;  // int32s of staged_device_ and of each slot's staged_host
  int64_t max_samples_ = 0;     // rows of sampled_
  // One launched step's host side. Three slots: two steps in flight, and the step waited before
  // them, whose forward_end starts the next decode gap.
  struct LaunchSlot {
    int32_t* staged_host = nullptr;   // pinned: the step's arrays (staged_capacity_)
    int32_t* results_host = nullptr;  // pinned: the sampled tokens (max_samples_), then the token check
    cudaEvent_t forward_begin = nullptr, forward_end = nullptr, done = nullptr;
    int samples = 0;
    bool keep_logits = false, decode = false;
  };
  static constexpr int kSlots = 3;
  LaunchSlot slots_[kSlots];
  int next_slot_ = 0;     // the next launch's slot
  int in_flight_ = 0;     // launched, not waited: the slots before next_slot_
  int last_waited_ = -1;  // slot of the last waited step
  int last_launch_samples_ = 0;  // rows of sampled_ the last launched step writes
  double last_decode_gap_seconds_ = -1;
  std::vector<KvCacheLayer> cache_layers_;
  struct RowLaunchConfigs {  // per prepared row count: the fused norms' and prefill attention's launch shapes
    QuantLaunchConfig tensor, residual, relu2;
    QuantLaunchConfig mlp_tensor;  // the tensor norm on the MLP activation (gate_up's relu2*up epilogue)
    AttentionPrefillConfig attention;
    bool cudnn_attention = true;  // false: the tuning database timed our kernel faster at these rows
  };
  std::map<int64_t, RowLaunchConfigs> prepared_rows_;
  std::vector<int> graph_batch_sizes_;
  double last_wait_seconds_ = 0;
  std::map<int, cudaGraphExec_t> graphs_;
  std::unique_ptr<PrefillAttentionChoice> attention_;
  StepProfiler* profiler_ = nullptr;
};

}  // namespace slidesparse
