// The transformers files next to tokenizer.json: tokenizer_config.json (special token names, the
// chat template, add_bos_token) and generation_config.json (the ids that end generation).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/added_tokens.h"

namespace slidesparse {

struct TokenizerConfig {
  // Token contents; the file gives each as a string or as an AddedToken object {"content": ...}.
  std::optional<std::string> bos_token, eos_token, pad_token, unk_token;
  std::optional<bool> add_bos_token, add_eos_token;
  // The Jinja chat template, verbatim ("" when absent). A list of named templates yields "default".
  std::string chat_template;
  std::map<int32_t, AddedToken> added_tokens_decoder;
};

// Throws Error "<source>: ..." naming the ill-typed field.
TokenizerConfig parse_tokenizer_config(const nlohmann::json& json, const std::string& source);
TokenizerConfig load_tokenizer_config(const std::filesystem::path& file);

struct GenerationConfig {
  std::optional<int32_t> bos_token_id, pad_token_id;
  std::vector<int32_t> eos_token_ids;  // "eos_token_id": one id or a list (Llama-3: end_of_text and eot_id)
};

GenerationConfig parse_generation_config(const nlohmann::json& json, const std::string& source);
GenerationConfig load_generation_config(const std::filesystem::path& file);

}  // namespace slidesparse
