// Parses one chat-template expression with Jinja's precedence: conditional, or, and, not, comparisons
// (== != < <= > >= in, not in), + -, ~, * / // %, **, unary - +, then postfix . [] [:] () with | filters
// and `is` tests. Unknown filters and tests are rejected here, naming them.
#pragma once

#include <initializer_list>
#include <string_view>

#include "text/jinja_ast.h"
#include "text/jinja_token_cursor.h"

namespace slidesparse::jinja {

class ExpressionParser : public TokenCursor {
 public:
  using TokenCursor::TokenCursor;

  ExprPtr parse_expression();
  ExprPtr parse_or();

 private:
  ExprPtr make(Expr::Kind kind, size_t offset, std::string name = "");
  ExprPtr binary(const std::string& op, size_t offset, ExprPtr left, ExprPtr right);
  // operand (op operand)*, grouped to the left; ops are operators or keywords (`kind`).
  ExprPtr left_associative(std::initializer_list<std::string_view> ops, Token::Kind kind,
                           ExprPtr (ExpressionParser::*operand)());
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_sum();
  ExprPtr parse_concat();
  ExprPtr parse_product();
  ExprPtr parse_power();
  ExprPtr parse_unary();
  ExprPtr parse_primary();
  ExprPtr literal(Value v, size_t offset);
  void parse_call_arguments(Expr& call);
  ExprPtr parse_postfix(ExprPtr value);
  ExprPtr parse_subscript(ExprPtr value);
  ExprPtr parse_filters(ExprPtr value);
};

}  // namespace slidesparse::jinja
