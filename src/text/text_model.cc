#include "text/text_model.h"

#include <string_view>

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

std::string TextModel::render_chat(const std::vector<ChatMessage>& messages, const ChatOptions& options) const {
  const fs::path config = dir_ / "tokenizer_config.json";
  require(chat_template_.has_value(), config.string() + (fs::exists(config) ? " has no chat_template" : " not found") +
                                          ": chat needs the model's chat template");
  require(!(options.continue_final_message && options.add_generation_prompt),
          "continue_final_message and add_generation_prompt cannot both be set: the first continues the final "
          "message, the second starts a new assistant message");
  require(!options.continue_final_message || !messages.empty(), "continue_final_message needs a message to continue");
  ChatTemplateContext context = context_;
  context.variables = options.template_variables;
  std::string text = chat_template_->render(messages, options.add_generation_prompt, context);
  if (!options.continue_final_message) return text;
  // Cut after the last occurrence of the final message's content (trimmed of surrounding whitespace
  // if the template trims it), as transformers does.
  const auto cut_after = [&text](std::string_view content) {
    const size_t at = text.rfind(content);
    if (at == std::string::npos) return false;
    text.resize(at + content.size());
    return true;
  };
  const std::string_view content = messages.back().content;
  constexpr const char* kSpace = " \t\n\r\f\v";
  const size_t first = content.find_first_not_of(kSpace);
  const std::string_view trimmed =
      first == std::string_view::npos ? std::string_view()
                                      : content.substr(first, content.find_last_not_of(kSpace) - first + 1);
  require(cut_after(content) || cut_after(trimmed),
          "continue_final_message: the chat template does not render the final message's content verbatim");
  return text;
}

std::vector<int32_t> TextModel::encode_chat(const std::vector<ChatMessage>& messages,
                                             const ChatOptions& options) const {
  return tokenizer_.encode(render_chat(messages, options), false);
}

}  // namespace slidesparse
