#include "checkpoint/bitnet_layout.h"

#include <array>

#include "core/error.h"

namespace slidesparse {

std::vector<ModelTensor> bitnet_tensors(const ModelConfig& c) {
  require(c.head_dim * c.num_attention_heads == c.hidden_size,
          "BitNet layout needs num_attention_heads * head_dim == hidden_size");
  const int64_t h = c.hidden_size, f = c.intermediate_size, kv = c.num_key_value_heads * c.head_dim;
  std::vector<ModelTensor> t;
  t.push_back({"model.embed_tokens.weight", TensorRole::Embedding, {c.vocab_size, h}});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    t.push_back({p + "input_layernorm.weight", TensorRole::Norm, {h}});
    t.push_back({p + "self_attn.q_proj.weight", TensorRole::Linear, {h, h}});
    t.push_back({p + "self_attn.k_proj.weight", TensorRole::Linear, {kv, h}});
    t.push_back({p + "self_attn.v_proj.weight", TensorRole::Linear, {kv, h}});
    t.push_back({p + "self_attn.o_proj.weight", TensorRole::Linear, {h, h}});
    t.push_back({p + "self_attn.attn_sub_norm.weight", TensorRole::Norm, {h}});
    t.push_back({p + "post_attention_layernorm.weight", TensorRole::Norm, {h}});
    t.push_back({p + "mlp.gate_proj.weight", TensorRole::Linear, {f, h}});
    t.push_back({p + "mlp.up_proj.weight", TensorRole::Linear, {f, h}});
    t.push_back({p + "mlp.down_proj.weight", TensorRole::Linear, {h, f}});
    t.push_back({p + "mlp.ffn_sub_norm.weight", TensorRole::Norm, {f}});
  }
  t.push_back({"model.norm.weight", TensorRole::Norm, {h}});
  if (!c.tie_word_embeddings) t.push_back({"lm_head.weight", TensorRole::LmHead, {c.vocab_size, h}});
  return t;
}

std::string weight_scale_name(std::string_view weight_name) {
  constexpr std::string_view kSuffix = ".weight";
  require(weight_name.ends_with(kSuffix), "not a weight tensor name: '" + std::string(weight_name) + "'");
  return std::string(weight_name) + "_scale";
}

namespace {
struct NamedPreset {
  std::string_view name;
  BitnetDims dims;
};
const std::array<NamedPreset, 3> kPresets{{
    {"bitnet-2b", BitnetDims{}},
    {"bitnet-small", BitnetDims{1024, 2816, 4, 8, 2, 8192, 4096, true}},
    {"bitnet-tiny", BitnetDims{256, 512, 2, 4, 2, 512, 256, true}},
}};
}  // namespace

std::vector<std::string_view> bitnet_preset_names() {
  std::vector<std::string_view> names;
  for (const auto& p : kPresets) names.push_back(p.name);
  return names;
}

BitnetDims bitnet_preset(std::string_view name) {
  std::string known;
  for (const auto& p : kPresets) {
    if (p.name == name) return p.dims;
    known += (known.empty() ? "" : ", ") + std::string(p.name);
  }
  fail("unknown preset '" + std::string(name) + "' (known: " + known + ")");
}

nlohmann::json bitnet_config_json(const BitnetDims& d) {
  // Keys and values of the released checkpoint's config.json (its keys are in alphabetical order,
  // which is also how nlohmann::json writes them).
  nlohmann::json j;
  j["architectures"] = {"BitNetForCausalLM"};
  j["attention_bias"] = false;
  j["attention_dropout"] = 0.0;
  j["bos_token_id"] = 128000;
  j["eos_token_id"] = 128001;
  j["hidden_act"] = "relu2";
  j["hidden_size"] = d.hidden_size;
  j["initializer_range"] = 0.02;
  j["intermediate_size"] = d.intermediate_size;
  j["max_position_embeddings"] = d.max_position_embeddings;
  j["model_type"] = "bitnet";
  j["num_attention_heads"] = d.num_attention_heads;
  j["num_hidden_layers"] = d.num_hidden_layers;
  j["num_key_value_heads"] = d.num_key_value_heads;
  j["rms_norm_eps"] = 1e-05;
  j["rope_theta"] = 500000.0;
  j["tie_word_embeddings"] = d.tie_word_embeddings;
  j["torch_dtype"] = "bfloat16";
  j["transformers_version"] = "4.52.0";
  j["use_cache"] = true;
  j["vocab_size"] = d.vocab_size;
  return j;
}

}  // namespace slidesparse
