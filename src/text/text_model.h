// The text side of a checkpoint directory: its tokenizer.json, tokenizer_config.json (chat template,
// special tokens) and generation_config.json (the ids that end a reply). What `generate --text`,
// `tokenize --chat` and `serve` turn text and chat messages into token ids with.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "text/chat_template.h"
#include "text/tokenizer.h"
#include "text/tokenizer_config.h"

namespace slidesparse {

struct ChatOptions {
  bool add_generation_prompt = true;  // the assistant header after the messages
  // The prompt ends with the final message's content, as the template renders it, and nothing
  // after: the model continues that message (a reply started by the caller). Needs
  // add_generation_prompt false.
  bool continue_final_message = false;
  std::vector<std::pair<std::string, nlohmann::ordered_json>> template_variables;  // ChatTemplateContext::variables
};

class TextModel {
 public:
  // `dir`: a directory holding tokenizer.json (tokenizer_config.json and generation_config.json are
  // optional). Throws Error naming the directory when tokenizer.json is missing, and naming the
  // file for one that is malformed or unsupported.
  static TextModel load(const std::filesystem::path& dir);

  const Tokenizer& tokenizer() const { return tokenizer_; }
  bool has_chat_template() const { return chat_template_.has_value(); }

  // A plain prompt: the tokenizer's post-processor applies (Llama-3: <|begin_of_text|> first).
  std::vector<int32_t> encode_prompt(const std::string& text) const;
  // Messages through the chat template (by default with the assistant header appended), then
  // encoded without the post-processor (the template writes its own special tokens), as
  // transformers' apply_chat_template(tokenize=True). Throws Error without a template, and for
  // continue_final_message with add_generation_prompt, no message, or a final message the
  // template does not render verbatim.
  std::string render_chat(const std::vector<ChatMessage>& messages, const ChatOptions& options = {}) const;
  std::vector<int32_t> encode_chat(const std::vector<ChatMessage>& messages, const ChatOptions& options = {}) const;

  // Tokens that end a reply: generation_config.json's eos ids and tokenizer_config.json's eos token.
  const std::set<int32_t>& stop_token_ids() const { return stop_ids_; }

 private:
  TextModel(Tokenizer tokenizer, std::filesystem::path dir);

  Tokenizer tokenizer_;
  std::filesystem::path dir_;
  std::optional<ChatTemplate> chat_template_;
  ChatTemplateContext context_;
  std::set<int32_t> stop_ids_;
};

}  // namespace slidesparse
