#include "io/model_config.h"

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace slidesparse {

namespace {

int64_t positive_int(const nlohmann::json& json, const char* key, const std::string& source) {
  const auto it = json.find(key);
  require(it != json.end(), source + ": missing field '" + key + "'");
  require(it->is_number_integer() && it->get<int64_t>() > 0,
          source + ": field '" + key + "' must be a positive integer");
  return it->get<int64_t>();
}

int64_t optional_positive_int(const nlohmann::json& json, const char* key, int64_t fallback,
                              const std::string& source) {
  const auto it = json.find(key);
  if (it == json.end() || it->is_null()) return fallback;
  return positive_int(json, key, source);
}

double optional_number(const nlohmann::json& json, const char* key, double fallback, const std::string& source) {
  const auto it = json.find(key);
  if (it == json.end() || it->is_null()) return fallback;
  require(it->is_number(), source + ": field '" + key + "' must be a number");
  return it->get<double>();
}

}  // namespace

ModelConfig parse_model_config(const nlohmann::json& json, const std::string& source) {
  require(json.is_object(), source + ": config must be a JSON object");
  ModelConfig c;
  c.raw = json;
  const auto type = json.find("model_type");
  require(type != json.end() && type->is_string(), source + ": missing field 'model_type'");
  c.model_type = type->get<std::string>();
  if (auto arch = json.find("architectures"); arch != json.end() && arch->is_array() && !arch->empty() &&
                                              arch->front().is_string())
    c.architecture = arch->front().get<std::string>();

  c.hidden_size = positive_int(json, "hidden_size", source);
  c.intermediate_size = positive_int(json, "intermediate_size", source);
  c.num_hidden_layers = positive_int(json, "num_hidden_layers", source);
  c.num_attention_heads = positive_int(json, "num_attention_heads", source);
  c.num_key_value_heads = optional_positive_int(json, "num_key_value_heads", c.num_attention_heads, source);
  c.vocab_size = positive_int(json, "vocab_size", source);
  c.max_position_embeddings = optional_positive_int(json, "max_position_embeddings", 2048, source);
  require(c.hidden_size % c.num_attention_heads == 0 || json.contains("head_dim"),
          source + ": hidden_size is not a multiple of num_attention_heads and head_dim is missing");
  c.head_dim = optional_positive_int(json, "head_dim", c.hidden_size / c.num_attention_heads, source);
  require(c.num_attention_heads % c.num_key_value_heads == 0,
          source + ": num_attention_heads must be a multiple of num_key_value_heads");
  c.rms_norm_eps = optional_number(json, "rms_norm_eps", 1e-5, source);
  c.rope_theta = optional_number(json, "rope_theta", 10000.0, source);
  if (auto params = json.find("rope_parameters"); params != json.end() && params->is_object())
    c.rope_theta = optional_number(*params, "rope_theta", c.rope_theta, source);
  if (auto tie = json.find("tie_word_embeddings"); tie != json.end()) {
    require(tie->is_boolean(), source + ": field 'tie_word_embeddings' must be true or false");
    c.tie_word_embeddings = tie->get<bool>();
  }
  if (auto act = json.find("hidden_act"); act != json.end() && act->is_string()) c.hidden_act = act->get<std::string>();
  for (auto [key, field] : {std::pair{"eos_token_id", &c.eos_token_id}, std::pair{"bos_token_id", &c.bos_token_id}})
    if (auto id = json.find(key); id != json.end() && id->is_number_integer()) *field = id->get<int64_t>();
  return c;
}

nlohmann::json read_json_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  require(static_cast<bool>(in), file.string() + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  require(!json.is_discarded(), file.string() + ": not valid JSON");
  return json;
}

ModelConfig load_model_config(const std::filesystem::path& file) {
  return parse_model_config(read_json_file(file), file.string());
}

}  // namespace slidesparse
