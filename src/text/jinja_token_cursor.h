// A cursor over lexed chat-template tokens with the look-ahead, expect and error helpers both the
// statement and the expression parser use.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"
#include "text/jinja_lexer.h"

namespace slidesparse::jinja {

class TokenCursor {
 public:
  explicit TokenCursor(const LexedTemplate& lexed) : tokens_(lexed.tokens), map_(lexed.source) {}

 protected:
  using TK = Token::Kind;

  [[noreturn]] void error(size_t offset, const std::string& what) const {
    fail("chat template: " + map_.describe(offset) + ": " + what);
  }

  const Token& peek(size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  const Token& next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool at_op(const std::string& op) const { return peek().kind == TK::kOperator && peek().text == op; }
  bool at_name(const std::string& name) const { return peek().kind == TK::kName && peek().text == name; }
  bool accept_op(const std::string& op) { return at_op(op) ? (next(), true) : false; }
  bool accept_name(const std::string& name) { return at_name(name) ? (next(), true) : false; }

  std::string describe(const Token& t) const {
    switch (t.kind) {
      case TK::kEnd: return "end of template";
      case TK::kBlockEnd: return "'%}'";
      case TK::kVariableEnd: return "'}}'";
      case TK::kString: return "string literal";
      default: return "'" + t.text + "'";
    }
  }

  void expect_op(const std::string& op) {
    if (!accept_op(op)) error(peek().offset, "expected '" + op + "', found " + describe(peek()));
  }
  void expect(TK kind, const char* what) {
    if (peek().kind != kind) error(peek().offset, std::string("expected ") + what + ", found " + describe(peek()));
    next();
  }
  std::string expect_identifier() {
    if (peek().kind != TK::kName) error(peek().offset, "expected a name, found " + describe(peek()));
    return next().text;
  }

 private:
  const std::vector<Token>& tokens_;
  SourceMap map_;
  size_t pos_ = 0;
};

}  // namespace slidesparse::jinja
