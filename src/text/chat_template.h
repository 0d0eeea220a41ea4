// Renders a Hugging Face chat template (tokenizer_config.json's `chat_template`, a Jinja program) into
// the prompt text transformers' apply_chat_template would produce, byte for byte. Covers the Jinja
// subset chat templates use; anything else is one error naming the construct and its position.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace slidesparse {

struct ChatMessage {
  std::string role, content;
};

// Variables a template reads besides `messages` and `add_generation_prompt`; absent ones are
// Jinja Undefined, as when transformers is not given them.
struct ChatTemplateContext {
  std::optional<std::string> bos_token, eos_token;
  std::optional<nlohmann::ordered_json> tools;  // a list of function schemas, key order kept for tojson
  std::optional<std::string> date_string;
  // Further variables (a request's chat_template_kwargs); one named like a variable above replaces
  // it, as keyword arguments of transformers' apply_chat_template do.
  std::vector<std::pair<std::string, nlohmann::ordered_json>> variables;
};

namespace jinja {
struct Stmt;
class SourceMap;
}  // namespace jinja

// Parse once, render many.
class ChatTemplate {
 public:
  // Throws Error "chat template: line L, column C: ..." for malformed or unsupported syntax.
  explicit ChatTemplate(const std::string& source);
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // Throws Error for run-time faults, and for raise_exception with the template's own message.
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                     const ChatTemplateContext& context) const;

 private:
  std::unique_ptr<jinja::SourceMap> source_map_;
  std::vector<std::unique_ptr<jinja::Stmt>> statements_;
};

std::string render_chat_template(const std::string& source, const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt, const ChatTemplateContext& context);

}  // namespace slidesparse
