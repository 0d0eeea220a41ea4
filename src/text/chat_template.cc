#include "text/chat_template.h"

#include <algorithm>

#include "text/jinja_eval.h"
#include "text/jinja_lexer.h"
#include "text/jinja_parser.h"

namespace slidesparse {

ChatTemplate::ChatTemplate(const std::string& source) {
  const jinja::LexedTemplate lexed = jinja::lex_template(source);
  statements_ = jinja::parse_template(lexed);
  source_map_ = std::make_unique<jinja::SourceMap>(lexed.source);
}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                 const ChatTemplateContext& context) const {
  using jinja::Value;
  jinja::ValueList message_values;
  for (const ChatMessage& m : messages)
    message_values.push_back(Value::dict({{"role", Value::string(m.role)}, {"content", Value::string(m.content)}}));
  jinja::ValueDict globals = {{"messages", Value::list(std::move(message_values))},
                              {"add_generation_prompt", Value::boolean(add_generation_prompt)}};
  if (context.bos_token) globals.emplace_back("bos_token", Value::string(*context.bos_token));
  if (context.eos_token) globals.emplace_back("eos_token", Value::string(*context.eos_token));
  if (context.tools) globals.emplace_back("tools", Value::from_json(*context.tools));
  if (context.date_string) globals.emplace_back("date_string", Value::string(*context.date_string));
  for (const auto& variable : context.variables) {
    const auto same =
        std::find_if(globals.begin(), globals.end(), [&](const auto& g) { return g.first == variable.first; });
    if (same != globals.end())
      same->second = Value::from_json(variable.second);
    else
      globals.emplace_back(variable.first, Value::from_json(variable.second));
  }
  return jinja::render_statements(statements_, *source_map_, std::move(globals));
}

std::string render_chat_template(const std::string& source, const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt, const ChatTemplateContext& context) {
  return ChatTemplate(source).render(messages, add_generation_prompt, context);
}

}  // namespace slidesparse
