#include "text/tokenizer_config.h"

#include <charconv>

#include "core/error.h"
#include "io/model_config.h"

namespace slidesparse {

namespace {

std::optional<std::string> token_content(const nlohmann::json& json, const char* key, const std::string& source) {
  const auto it = json.find(key);
  if (it == json.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  require(it->is_object() && it->contains("content") && (*it)["content"].is_string(),
          source + ": '" + key + "' must be a string or an object with a string 'content'");
  return (*it)["content"].get<std::string>();
}

std::optional<bool> optional_bool(const nlohmann::json& json, const char* key, const std::string& source) {
  const auto it = json.find(key);
  if (it == json.end() || it->is_null()) return std::nullopt;
  require(it->is_boolean(), source + ": '" + key + "' must be true or false");
  return it->get<bool>();
}

std::string chat_template(const nlohmann::json& json, const std::string& source) {
  const auto it = json.find("chat_template");
  if (it == json.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  require(it->is_array(), source + ": 'chat_template' must be a string or a list of named templates");
  for (const auto& named : *it)
    if (named.is_object() && named.value("name", "") == "default" && named.contains("template") &&
        named["template"].is_string())
      return named["template"].get<std::string>();
  fail(source + ": 'chat_template' lists no template named 'default'");
}

int32_t token_id(const nlohmann::json& value, const char* key, const std::string& source) {
  require(value.is_number_integer() && value.get<int64_t>() >= 0 && value.get<int64_t>() <= INT32_MAX,
          source + ": '" + key + "' must hold non-negative integer ids");
  return value.get<int32_t>();
}

std::optional<int32_t> optional_token_id(const nlohmann::json& json, const char* key, const std::string& source) {
  const auto it = json.find(key);
  if (it == json.end() || it->is_null()) return std::nullopt;
  return token_id(*it, key, source);
}

}  // namespace

TokenizerConfig parse_tokenizer_config(const nlohmann::json& json, const std::string& source) {
  require(json.is_object(), source + ": tokenizer config must be a JSON object");
  TokenizerConfig c;
  c.bos_token = token_content(json, "bos_token", source);
  c.eos_token = token_content(json, "eos_token", source);
  c.pad_token = token_content(json, "pad_token", source);
  c.unk_token = token_content(json, "unk_token", source);
  c.add_bos_token = optional_bool(json, "add_bos_token", source);
  c.add_eos_token = optional_bool(json, "add_eos_token", source);
  c.chat_template = chat_template(json, source);
  if (const auto decoder = json.find("added_tokens_decoder"); decoder != json.end() && !decoder->is_null()) {
    require(decoder->is_object(), source + ": 'added_tokens_decoder' must be an object of id -> token");
    for (const auto& [key, entry] : decoder->items()) {
      int32_t id = -1;
      const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), id);
      require(error == std::errc() && end == key.data() + key.size() && id >= 0,
              source + ": 'added_tokens_decoder' key '" + key + "' is not a token id");
      c.added_tokens_decoder[id] = parse_added_token(entry, id, source);
    }
  }
  return c;
}

TokenizerConfig load_tokenizer_config(const std::filesystem::path& file) {
  return parse_tokenizer_config(read_json_file(file), file.string());
}

GenerationConfig parse_generation_config(const nlohmann::json& json, const std::string& source) {
  require(json.is_object(), source + ": generation config must be a JSON object");
  GenerationConfig c;
  c.bos_token_id = optional_token_id(json, "bos_token_id", source);
  c.pad_token_id = optional_token_id(json, "pad_token_id", source);
  if (const auto eos = json.find("eos_token_id"); eos != json.end() && !eos->is_null()) {
    if (eos->is_array())
      for (const auto& id : *eos) c.eos_token_ids.push_back(token_id(id, "eos_token_id", source));
    else c.eos_token_ids.push_back(token_id(*eos, "eos_token_id", source));
  }
  return c;
}

GenerationConfig load_generation_config(const std::filesystem::path& file) {
  return parse_generation_config(read_json_file(file), file.string());
}

}  // namespace slidesparse
