// Runs the BitNet forward pass on the GPU for one engine step (docs/ENGINE.md): fused norm /
// quantize kernels around the W8A8 GEMMs, RoPE fused with the paged KV-cache write, prefill or
// decode attention, the final norm and lm_head for the sampled rows only, and greedy argmax on the
// device. Every buffer is allocated at construction for the configured limits; the KV cache takes
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
#include "kernels/attention_prefill.h"
#include "kernels/kv_cache.h"
#include "runtime/model_weights.h"
#include "runtime/prefill_attention_choice.h"
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
  const TuningDatabase* tuning = nullptr;
};

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

  // Runs the step and returns the greedy token of every sample row (at most max_num_seqs rows) (argmax, lowest index on ties);
  // when `logits` is given it also receives those rows' fp32 logits [rows][vocab] for host sampling.
  void run(const StepBatch& batch, std::vector<int32_t>& greedy, std::vector<float>* logits = nullptr);
  // How long the last run() waited for the GPU at its end: the rest of a step is the host's time,
  // during which the GPU has nothing queued.
  double last_wait_seconds() const { return last_wait_seconds_; }

 private:
  void allocate_kv_cache();
  void prepare_rows(int64_t rows);
  // Copies the step's arrays (padded to `shape`, and cuDNN's offsets when `cudnn` is set) to the device.
  void stage(const StepBatch& batch, const StepShape& shape, const CudnnAttentionBatch* cudnn = nullptr);
  void forward(const StepShape& shape, const CudnnAttentionBatch* cudnn = nullptr);
  void capture_graphs();
  static int64_t prefill_rows(int tokens);

  ModelWeights& weights_;
  RunnerOptions options_;
  cudaStream_t stream_;
  int64_t hidden_, inter_, heads_, kv_heads_, head_dim_, vocab_;
  int max_blocks_per_seq_ = 0, num_blocks_ = 0;
  float softmax_scale_ = 0;

  Bf16Gemm lm_head_gemm_;
  DeviceBuffer residual_, q_, attn_, codes_, scale_[2], acc_, workspace_, final_x_, logits_, sampled_;
  DeviceBuffer decode_workspace_, rope_cos_, rope_sin_, kv_, staged_device_, error_flag_;
  struct StagedOffsets {  // in int32s, of each StepBatch array inside staged_device_ / staged_host_
    size_t tokens, positions, slots, query_start, seq_len, block_table, sample_rows, cudnn_q_offsets,
        cudnn_kv_offsets;
  };
  StagedOffsets staged_{};
  int32_t* staged_host_ = nullptr;  // pinned mirror of staged_device_
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
