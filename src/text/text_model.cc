#include "text/text_model.h"

#include "core/error.h"

namespace slidesparse {

namespace fs = std::filesystem;

TextModel TextModel::load(const fs::path& dir) {
  require(fs::exists(dir / "tokenizer.json"),
          dir.string() + " has no tokenizer.json (text input and output need the checkpoint's tokenizer files: "
                         "tokenizer.json, tokenizer_config.json)");
  return TextModel(Tokenizer::load(dir / "tokenizer.json"), dir);
}

TextModel::TextModel(Tokenizer tokenizer, fs::path dir) : tokenizer_(std::move(tokenizer)), dir_(std::move(dir)) {
  if (fs::exists(dir_ / "tokenizer_config.json")) {
    const TokenizerConfig config = load_tokenizer_config(dir_ / "tokenizer_config.json");
    context_.bos_token = config.bos_token;
    context_.eos_token = config.eos_token;
    if (!config.chat_template.empty()) chat_template_.emplace(config.chat_template);
    if (config.eos_token)
      if (const auto id = tokenizer_.token_to_id(*config.eos_token)) stop_ids_.insert(*id);
  }
  if (fs::exists(dir_ / "generation_config.json"))
    for (int32_t id : load_generation_config(dir_ / "generation_config.json").eos_token_ids) stop_ids_.insert(id);
}

std::vector<int32_t> TextModel::encode_prompt(const std::string& text) const { return tokenizer_.encode(text, true); }

std::string TextModel::render_chat(const std::vector<ChatMessage>& messages) const {
  const fs::path config = dir_ / "tokenizer_config.json";
  require(chat_template_.has_value(), config.string() + (fs::exists(config) ? " has no chat_template" : " not found") +
                                          ": chat needs the model's chat template");
  return chat_template_->render(messages, /*add_generation_prompt=*/true, context_);
}

std::vector<int32_t> TextModel::encode_chat(const std::vector<ChatMessage>& messages) const {
  return tokenizer_.encode(render_chat(messages), false);
}

}  // namespace slidesparse
