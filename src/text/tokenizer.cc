#include "text/tokenizer.h"

#include <utility>

#include "core/error.h"
#include "io/model_config.h"
#include "text/byte_level.h"
#include "text/utf8.h"

namespace slidesparse {

namespace fs = std::filesystem;

namespace {

std::string type_of(const nlohmann::json& json) {
  const auto it = json.find("type");
  return it != json.end() && it->is_string() ? it->get<std::string>() : "";
}

void check_model_type(const nlohmann::json& model, const std::string& source) {
  require(model.is_object(), source + ": no 'model' object");
  const std::string type = type_of(model);
  // Files written by early versions of the library leave out the type of a BPE model.
  if (type.empty() && model.contains("merges")) return;
  require(!type.empty(), source + ": the model has no 'type'");
  require(type == "BPE", source + ": model type '" + type + "' is not supported (only BPE tokenizers are)");
}

bool is_byte_level_decoder(const nlohmann::json& decoder, const std::string& source) {
  if (decoder.is_null()) return false;
  const std::string type = type_of(decoder);
  require(type == "ByteLevel", source + ": decoder type '" + (type.empty() ? decoder.dump() : type) +
                                   "' is not supported (supported: ByteLevel, none)");
  return true;
}

std::vector<AddedToken> with_normalized(const std::vector<AddedToken>& tokens, bool normalized) {
  std::vector<AddedToken> out;
  for (const AddedToken& t : tokens)
    if (t.normalized == normalized) out.push_back(t);
  return out;
}

const nlohmann::json& field(const nlohmann::json& json, const char* key) {
  static const nlohmann::json null_json;
  const auto it = json.find(key);
  return it == json.end() ? null_json : *it;
}

}  // namespace

Tokenizer::Tokenizer(BpeModel model, Normalizer normalizer, PreTokenizer pre_tokenizer, PostProcessor post_processor,
                     std::vector<AddedToken> added_tokens, bool byte_level_decoder)
    : model_(std::move(model)),
      normalizer_(std::move(normalizer)),
      pre_tokenizer_(std::move(pre_tokenizer)),
      post_processor_(std::move(post_processor)),
      raw_added_tokens_(with_normalized(added_tokens, false)),
      normalized_added_tokens_(with_normalized(added_tokens, true)),
      byte_level_decoder_(byte_level_decoder) {
  for (AddedToken& t : added_tokens) added_by_id_[t.id] = std::move(t);
}

Tokenizer Tokenizer::load(const fs::path& path) {
  fs::path file = path;
  require(fs::exists(path), path.string() + ": no such model directory or tokenizer.json");
  if (fs::is_directory(path)) {
    file = path / "tokenizer.json";
    if (!fs::exists(file)) {
      require(!fs::exists(path / "tokenizer.model"),
              path.string() + ": holds only a SentencePiece tokenizer.model; a Hugging Face tokenizer.json "
                              "(BPE) is needed");
      fail(path.string() + ": no tokenizer.json");
    }
  }
  return from_json(read_json_file(file), file.string());
}

Tokenizer Tokenizer::from_json(const nlohmann::json& json, const std::string& source) {
  require(json.is_object(), source + ": not a tokenizer.json object");
  const nlohmann::json& model = field(json, "model");
  check_model_type(model, source);
  Normalizer normalizer = Normalizer::from_json(field(json, "normalizer"), source);
  std::vector<AddedToken> added_tokens = parse_added_tokens(field(json, "added_tokens"), source);
  // Hugging Face keeps a normalized added token in normalized form: it is matched and decoded so.
  for (AddedToken& t : added_tokens)
    if (t.normalized) t.content = normalizer.normalize(t.content);
  return Tokenizer(BpeModel::from_json(model, source), std::move(normalizer),
                   PreTokenizer::from_json(field(json, "pre_tokenizer"), source),
                   PostProcessor::from_json(field(json, "post_processor"), source), std::move(added_tokens),
                   is_byte_level_decoder(field(json, "decoder"), source));
}

void Tokenizer::encode_plain_text(std::string_view text, std::vector<int32_t>& ids) const {
  for (const std::string& word : pre_tokenizer_.pre_tokenize(text)) model_.encode_word(word, ids);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const std::string valid = to_valid_utf8(text);
  std::vector<int32_t> ids;
  // Tokens matched in the raw input first; the text between them is normalized before the
  // normalized added tokens are looked for.
  for (const TextPiece& raw : raw_added_tokens_.split(valid)) {
    if (raw.id >= 0) {
      ids.push_back(raw.id);
      continue;
    }
    const std::string normalized = normalizer_.normalize(raw.text);
    for (const TextPiece& piece : normalized_added_tokens_.split(normalized)) {
      if (piece.id >= 0) ids.push_back(piece.id);
      else encode_plain_text(piece.text, ids);
    }
  }
  return add_special_tokens ? post_processor_.add_special_tokens(ids) : ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<const std::string*> tokens;
  for (const int32_t id : ids) {
    if (const auto added = added_by_id_.find(id); added != added_by_id_.end()) {
      if (!(skip_special_tokens && added->second.special)) tokens.push_back(&added->second.content);
      continue;
    }
    const std::string* token = model_.id_to_token(id);
    if (token == nullptr) fail("token id " + std::to_string(id) + " is not in the tokenizer's vocabulary");
    tokens.push_back(token);
  }
  std::string text;
  if (!byte_level_decoder_) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) text += ' ';
      text += *tokens[i];
    }
    return text;
  }
  for (const std::string* token : tokens) {
    const auto bytes = from_byte_level(*token);
    text += bytes ? *bytes : *token;
  }
  return to_valid_utf8(text);
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  for (const auto& [id, added] : added_by_id_)
    if (added.content == token) return id;
  return model_.token_to_id(token);
}

}  // namespace slidesparse
