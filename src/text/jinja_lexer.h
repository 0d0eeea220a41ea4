// Splits a chat template into raw text and tag tokens, applying Jinja's whitespace control exactly as
// transformers configures it: trim_blocks and lstrip_blocks on, `-`/`+` modifiers, comments dropped,
// newlines normalized and one trailing newline removed (keep_trailing_newline off).
#pragma once

#include <string>
#include <vector>

namespace slidesparse::jinja {

struct Token {
  enum class Kind { kText, kVariableBegin, kVariableEnd, kBlockBegin, kBlockEnd, kName, kString, kInt, kFloat,
                    kOperator, kEnd };
  Kind kind;
  std::string text;  // text data, a name, an operator, a decoded string literal, or a number's digits
  size_t offset;     // into the normalized source, for line:column in errors
};

// Where a token sits, for error messages: "line 3, column 14".
class SourceMap {
 public:
  explicit SourceMap(const std::string& source);
  std::string describe(size_t offset) const;

 private:
  std::vector<size_t> line_starts_;
};

struct LexedTemplate {
  std::string source;  // newlines normalized to \n
  std::vector<Token> tokens;
};

// Throws Error "chat template: line L, column C: ..." for an unclosed tag, comment or string.
LexedTemplate lex_template(const std::string& text);

}  // namespace slidesparse::jinja
