// The W8A8 BitNet forward on the CPU, a float32 emulation of BitNet b1.58 with W8A8 linears, with
// the bf16 rounding points docs/ENGINE.md fixes for the GPU engine. It is the oracle of the engine's end-to-end tests
// and runs on the same checkpoints: prepared (dense INT8 / FP8) or SlideSparse (slid [N, K'] codes,
// activations quantized then lifted). Per layer:
//   codes = quant(RMSNorm_in(h))                    math/rmsnorm.h + math/quantize.h (+ slide)
//   qkv   = bf16((float(acc) * scale_x) * scale_w)   math/reference_linear.h, then split q | k | v
//   q, k  = RoPE(q), RoPE(k)                          math/rope.h
//   attn  = causal GQA attention                      math/attention.h
//   h     = bf16(h + o(quant(attn_sub_norm(attn))))
//   gu    = gate_up(quant(RMSNorm_post(h)))
//   h     = bf16(h + down(quant(ffn_sub_norm(relu2(gate) * up))))   math/activation.h
// then x = model.norm(h) and logits = fp32(sum in double of x * lm_head), lm_head the embedding
// unless the config unties it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "checkpoint/checkpoint_kind.h"
#include "checkpoint/linear_weights.h"
#include "io/model_config.h"
#include "math/rope.h"
#include "math/slide.h"

namespace slidesparse {

class ReferenceModel {
 public:
  // Loads every weight into memory. Throws Error naming the directory for a checkpoint that is not a
  // prepared W8A8 or SlideSparse BitNet checkpoint.
  explicit ReferenceModel(const std::filesystem::path& dir);

  const ModelConfig& config() const { return config_; }
  const CheckpointDescription& description() const { return description_; }

  // Full causal forward of one sequence: logits fp32 [tokens.size(), vocab], row-major. Tokens must
  // lie in [0, vocab) and there must be at least one and at most max_position_embeddings of them.
  std::vector<float> forward(const std::vector<int32_t>& tokens) const;

 private:
  struct Layer {
    std::vector<uint16_t> input_norm, attn_sub_norm, post_norm, ffn_sub_norm;  // bf16 bits
    std::vector<HostLinear> linears;                                           // LinearSlot order
  };

  // out [rows, linear.n] bf16 = linear(quant(+slide)(norm(x))), x [rows, linear.k] bf16.
  void norm_linear(const uint16_t* x, const std::vector<uint16_t>& norm, const HostLinear& linear, int64_t rows,
                   uint16_t* out) const;

  ModelConfig config_;
  CheckpointDescription description_;
  std::vector<Layer> layers_;
  std::vector<uint16_t> embedding_, final_norm_, lm_head_;  // lm_head_ empty when tied
  RopeTable rope_;
};

}  // namespace slidesparse
