// The text side of a checkpoint directory: its tokenizer.json, tokenizer_config.json (chat template,
// special tokens) and generation_config.json (the ids that end a reply). What `generate --text`,
// `tokenize --chat` and `serve` turn text and chat messages into token ids with.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "text/chat_template.h"
#include "text/tokenizer.h"
#include "text/tokenizer_config.h"

namespace slidesparse {

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
  // Messages through the chat template with the assistant header appended, then encoded without
  // the post-processor (the template writes its own special tokens), as transformers'
  // apply_chat_template(add_generation_prompt=True, tokenize=True). Throws Error without a template.
  std::string render_chat(const std::vector<ChatMessage>& messages) const;
  std::vector<int32_t> encode_chat(const std::vector<ChatMessage>& messages) const;

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
