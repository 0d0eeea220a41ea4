// Host-side assembly of a BitNet layer's linear weights for the engine: q/k/v and gate/up are
// fused by stacking their rows (outputs), each input tensor's per-tensor scale expanded to a
// per-output-channel vector. Works on prepared (dense) and SlideSparse (slid [N, K']) checkpoints;
// the backend must match the checkpoint.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "checkpoint/checkpoint_kind.h"
#include "io/model_config.h"
#include "io/safetensors_reader.h"

namespace slidesparse {

enum class LinearSlot { Qkv, O, GateUp, Down };

struct HostLinear {
  LinearSlot slot = LinearSlot::Qkv;
  int64_t n = 0;       // output features (fused)
  int64_t k = 0;       // input features of the model
  int64_t k_gemm = 0;  // columns stored: K (dense) or K' (SlideSparse)
  std::vector<uint8_t> codes;  // [n, k_gemm] row-major, int8 or E4M3 codes
  std::vector<float> scale;    // [n]: y[:, j] = acc[:, j] * scale_x * scale[j]
};

std::string_view linear_slot_name(LinearSlot slot);  // "qkv", "o", "gate_up", "down"

// Describes the checkpoint and checks it suits the backend: the sparse backend needs a SlideSparse
// checkpoint, the dense one a prepared W8A8 checkpoint. Throws Error naming the directory.
CheckpointDescription require_engine_checkpoint(const ModelConfig& config, const CheckpointReader& reader,
                                                bool sparse_backend);

// The four fused linears of `layer`, in slot order. Validates dtypes and shapes against the config.
std::vector<HostLinear> load_layer_linears(const CheckpointReader& reader, const ModelConfig& config,
                                           const CheckpointDescription& description, int layer);

}  // namespace slidesparse
