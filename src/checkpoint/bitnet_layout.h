// The tensor layout of a Hugging Face BitNet checkpoint (names, shapes, roles) and the built-in model
// presets. Every command that reads or writes a BitNet checkpoint validates against this one table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/model_config.h"

namespace slidesparse {

enum class TensorRole { Embedding, Norm, Linear, LmHead };

struct ModelTensor {
  std::string name;
  TensorRole role = TensorRole::Norm;
  std::vector<int64_t> shape;  // Linear: [N (out features), K (in features)]
};

// All tensors of a BitNet checkpoint in layer order: embedding, per layer {input_layernorm, q, k, v,
// o, attn_sub_norm, post_attention_layernorm, gate, up, down, ffn_sub_norm}, final norm, and lm_head
// only when embeddings are untied. Throws Error for a config that is not BitNet-shaped.
std::vector<ModelTensor> bitnet_tensors(const ModelConfig& config);

// "model.layers.3.mlp.down_proj.weight" -> "model.layers.3.mlp.down_proj.weight_scale".
std::string weight_scale_name(std::string_view weight_name);

// Dimensions of a BitNet model; presets name known sizes, explicit fields override them.
struct BitnetDims {
  int64_t hidden_size = 2560;
  int64_t intermediate_size = 6912;
  int64_t num_hidden_layers = 30;
  int64_t num_attention_heads = 20;
  int64_t num_key_value_heads = 5;
  int64_t vocab_size = 128256;
  int64_t max_position_embeddings = 4096;
  bool tie_word_embeddings = true;
};

// "bitnet-2b" (the released bitnet-b1.58-2B-4T), "bitnet-small" (4 layers of 1024, vocab 8192),
// "bitnet-tiny" (2 layers of 256, vocab 512). Throws Error listing the known presets otherwise.
BitnetDims bitnet_preset(std::string_view name);
std::vector<std::string_view> bitnet_preset_names();

// config.json exactly as the released bitnet-b1.58-2B-4T-bf16 has it, with the given dimensions.
nlohmann::json bitnet_config_json(const BitnetDims& dims);

}  // namespace slidesparse
