// A BitNet W8A8 checkpoint on the GPU, ready for the forward pass: bf16 embedding, norms and
// lm_head; per linear slot (qkv, o, gate_up, down) one W8A8Linear holding every layer's fused
// weight (dense codes, or compressed cuSPARSELt weights for a SlideSparse checkpoint) and sharing
// descriptors and plans across layers.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <array>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "checkpoint/checkpoint_kind.h"
#include "checkpoint/linear_weights.h"
#include "gemm/w8a8_linear.h"
#include "gpu/device_buffer.h"
#include "io/model_config.h"
#include "runtime/host_model.h"

namespace slidesparse {

struct WeightLoadOptions {
  GemmBackend backend = GemmBackend::CublasLt;
  int64_t max_tokens = 0;     // largest M a linear will see
  bool exact_scales = false;  // INT8: int32 accumulators + epilogue on both backends (bit-exact path)
  bool fp8_fast_accum = false;
  bool scaled_gemm = true;  // INT8 dense: the scaled GEMM where it runs (gemm/scaled_gemm.h)
  // INT8 2:L: the sparse scaled GEMM where it runs (gemm/sparse_scaled_gemm.h) instead of cuSPARSELt,
  // with the same fused epilogues as the dense one. Off by default: with tuned plans it wins on the
  // H100 and loses on the H200, its epilogues costing it more than the dense GEMM's cost that one
  // (docs/PERF.md, "The sparse scaled GEMM's tiles, clusters and orders").
  bool sparse_scaled_gemm = false;
  // With the scaled GEMM: gate_up's weight stored with gate and up rows interleaved and relu2(gate) *
  // up in its epilogue (LinearConfig::relu2_mul_epilogue): half the output bytes, and the ffn_sub
  // norm reads half as much (docs/PERF.md, "relu2 * up in the gate_up GEMM's epilogue").
  bool relu2_mul_epilogue = true;
  // With the scaled GEMM: o_proj and down_proj add their output to the residual stream in their
  // epilogue (LinearConfig::residual_epilogue); the norms after them read one tensor instead of the
  // GEMM output and the residual, and write no residual.
  bool residual_epilogue = true;
  // 2:L checkpoints: the tuning database whose timings pick, per linear, a dense fallback
  // (W8A8Linear): built, with the pruned weight kept in plain form (for 2:L wider than 2:4, an
  // un-slid copy next to the compressed one), only for the linears whose dense GEMM it timed faster
  // at some row count. Empty: none.
  std::filesystem::path dense_fallback_db;
};

struct LayerNormWeights {
  const __nv_bfloat16* input = nullptr;     // input_layernorm
  const __nv_bfloat16* attn_sub = nullptr;  // self_attn.attn_sub_norm
  const __nv_bfloat16* post = nullptr;      // post_attention_layernorm
  const __nv_bfloat16* ffn_sub = nullptr;   // mlp.ffn_sub_norm
};

class ModelWeights {
 public:
  // Throws Error naming the directory for a checkpoint that does not suit the backend.
  ModelWeights(const std::filesystem::path& dir, const WeightLoadOptions& options, cudaStream_t stream);
  // From a checkpoint already read into host memory (runtime/host_model.h), which is not referenced
  // once this returns (the uploads of each layer are synchronized).
  ModelWeights(const HostModel& host, const WeightLoadOptions& options, cudaStream_t stream);

  const ModelConfig& config() const { return config_; }
  const CheckpointDescription& description() const { return description_; }
  const WeightLoadOptions& load_options() const { return options_; }
  const __nv_bfloat16* embedding() const { return embedding_.as<__nv_bfloat16>(); }
  const __nv_bfloat16* lm_head() const;  // the embedding when tied
  const __nv_bfloat16* final_norm() const { return final_norm_.as<__nv_bfloat16>(); }
  const LayerNormWeights& norms(int layer) const { return norms_.at(static_cast<size_t>(layer)); }
  W8A8Linear& linear(LinearSlot slot) { return *linears_[static_cast<size_t>(slot)]; }
  const W8A8Linear& linear(LinearSlot slot) const { return *linears_[static_cast<size_t>(slot)]; }

 private:
  WeightLoadOptions options_;
  DeviceBuffer upload_bf16(const CheckpointReader& reader, const std::string& name, int64_t numel,
                           cudaStream_t stream);
  // Uploads the bf16 tensors from `reader` and the fused linears layer by layer from
  // `layer_linears`, then builds the four W8A8Linears (compressing sparse weights).
  void build(const CheckpointReader& reader,
             const std::function<const std::vector<HostLinear>&(int64_t layer)>& layer_linears, cudaStream_t stream);

  ModelConfig config_;
  CheckpointDescription description_;
  DeviceBuffer embedding_, lm_head_, final_norm_;
  std::vector<DeviceBuffer> norm_buffers_;
  std::vector<LayerNormWeights> norms_;
  // Per linear slot: dense codes stay, sparse ones are dropped after compression unless the slot's
  // dense fallback runs them (2:4 with K' = K); wider slid ones leave an un-slid copy for it.
  std::array<std::vector<DeviceBuffer>, 4> codes_, fallback_codes_;
  std::vector<DeviceBuffer> scales_;
  std::array<std::unique_ptr<W8A8Linear>, 4> linears_;
};

}  // namespace slidesparse
