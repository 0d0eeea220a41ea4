// config.json of a Hugging Face causal LM. BitNet is the target; Llama and Qwen2 configs parse too
// (same field names), so later models only need their own tensor layout.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace slidesparse {

struct ModelConfig {
  std::string model_type;    // "bitnet", "llama", "qwen2", ...
  std::string architecture;  // first entry of "architectures" ("" if absent)
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // defaults to num_attention_heads
  int64_t head_dim = 0;             // defaults to hidden_size / num_attention_heads
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;      // "rope_theta" or transformers 5's "rope_parameters.rope_theta"
  bool tie_word_embeddings = true;  // transformers' default when the key is absent
  std::string hidden_act;
  // "eos_token_id" when it is one integer (-1 otherwise: absent, or a list the tokenizer files own).
  int64_t eos_token_id = -1;
  int64_t bos_token_id = -1;  // likewise
  nlohmann::json raw;  // the whole file; unknown keys are carried through unchanged when rewritten
};

// Throws Error "<source>: ..." naming the missing or ill-typed field, or inconsistent dimensions.
ModelConfig parse_model_config(const nlohmann::json& json, const std::string& source);
ModelConfig load_model_config(const std::filesystem::path& file);

// Reads a JSON file; throws Error "<file>: ..." when missing or malformed.
nlohmann::json read_json_file(const std::filesystem::path& file);

}  // namespace slidesparse
