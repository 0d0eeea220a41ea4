#include "text/jinja_expression_parser.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>

#include "text/jinja_builtins.h"

namespace slidesparse::jinja {

ExprPtr ExpressionParser::make(Expr::Kind kind, size_t offset, std::string name) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->offset = offset;
  e->name = std::move(name);
  return e;
}

ExprPtr ExpressionParser::binary(const std::string& op, size_t offset, ExprPtr left, ExprPtr right) {
  auto e = make(Expr::Kind::kBinary, offset, op);
  e->args.push_back(std::move(left));
  e->args.push_back(std::move(right));
  return e;
}

ExprPtr ExpressionParser::parse_expression() {
  ExprPtr value = parse_or();
  while (at_name("if")) {
    const size_t offset = next().offset;
    auto e = make(Expr::Kind::kConditional, offset);
    e->args.push_back(parse_or());
    e->args.push_back(std::move(value));
    e->args.push_back(accept_name("else") ? parse_expression() : nullptr);
    value = std::move(e);
  }
  return value;
}

ExprPtr ExpressionParser::left_associative(std::initializer_list<std::string_view> ops, Token::Kind kind,
                                           ExprPtr (ExpressionParser::*operand)()) {
  ExprPtr left = (this->*operand)();
  while (peek().kind == kind && std::find(ops.begin(), ops.end(), peek().text) != ops.end()) {
    const Token& t = next();  // tokens outlive the parse
    left = binary(t.text, t.offset, std::move(left), (this->*operand)());
  }
  return left;
}

ExprPtr ExpressionParser::parse_or() { return left_associative({"or"}, TK::kName, &ExpressionParser::parse_and); }

ExprPtr ExpressionParser::parse_and() { return left_associative({"and"}, TK::kName, &ExpressionParser::parse_not); }

ExprPtr ExpressionParser::parse_not() {
  if (at_name("not")) {
    auto e = make(Expr::Kind::kUnary, next().offset, "not");
    e->args.push_back(parse_not());
    return e;
  }
  return parse_compare();
}

ExprPtr ExpressionParser::parse_compare() {
  ExprPtr left = parse_sum();
  while (true) {
    const size_t offset = peek().offset;
    std::string op;
    if (peek().kind == TK::kOperator &&
        (peek().text == "==" || peek().text == "!=" || peek().text == "<" || peek().text == "<=" ||
         peek().text == ">" || peek().text == ">=")) {
      op = next().text;
    } else if (at_name("in")) {
      next();
      op = "in";
    } else if (at_name("not") && peek(1).kind == TK::kName && peek(1).text == "in") {
      next();
      next();
      op = "not in";
    } else {
      return left;
    }
    left = binary(op, offset, std::move(left), parse_sum());
  }
}

ExprPtr ExpressionParser::parse_sum() {
  return left_associative({"+", "-"}, TK::kOperator, &ExpressionParser::parse_concat);
}

ExprPtr ExpressionParser::parse_concat() {
  return left_associative({"~"}, TK::kOperator, &ExpressionParser::parse_product);
}

ExprPtr ExpressionParser::parse_product() {
  return left_associative({"*", "/", "//", "%"}, TK::kOperator, &ExpressionParser::parse_power);
}

// Left-associative, as in Jinja (unlike Python's **).
ExprPtr ExpressionParser::parse_power() {
  return left_associative({"**"}, TK::kOperator, &ExpressionParser::parse_unary);
}

ExprPtr ExpressionParser::parse_unary() {
  if (at_op("-") || at_op("+")) {
    const Token& t = next();
    auto e = make(Expr::Kind::kUnary, t.offset, t.text);
    e->args.push_back(parse_unary());
    return parse_filters(std::move(e));
  }
  return parse_filters(parse_postfix(parse_primary()));
}

ExprPtr ExpressionParser::parse_primary() {
  const Token& t = next();
  switch (t.kind) {
    case TK::kName: {
      if (t.text == "true" || t.text == "True") return literal(Value::boolean(true), t.offset);
      if (t.text == "false" || t.text == "False") return literal(Value::boolean(false), t.offset);
      if (t.text == "none" || t.text == "None") return literal(Value::none(), t.offset);
      return make(Expr::Kind::kName, t.offset, t.text);
    }
    case TK::kString: {
      std::string s = t.text;
      while (peek().kind == TK::kString) s += next().text;  // adjacent literals concatenate
      return literal(Value::string(std::move(s)), t.offset);
    }
    case TK::kInt: {
      // Python's integers are unbounded; ours are 64-bit, so a larger literal is refused by name.
      int64_t value = 0;
      const auto [end, status] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), value);
      if (status != std::errc() || end != t.text.data() + t.text.size())
        error(t.offset, "integer literal " + t.text + " outside the 64-bit range");
      return literal(Value::integer(value), t.offset);
    }
    // As Python's float(): beyond the range is inf, below it 0 (strtod's results on ERANGE).
    case TK::kFloat: return literal(Value::number(std::strtod(t.text.c_str(), nullptr)), t.offset);
    case TK::kOperator:
      if (t.text == "(") {
        ExprPtr inner = parse_expression();
        if (at_op(",")) error(peek().offset, "unsupported tuple literal");
        expect_op(")");
        return inner;
      }
      if (t.text == "[") {
        auto e = make(Expr::Kind::kList, t.offset);
        while (!accept_op("]")) {
          if (!e->args.empty()) expect_op(",");
          if (accept_op("]")) break;
          e->args.push_back(parse_expression());
        }
        return e;
      }
      if (t.text == "{") {
        auto e = make(Expr::Kind::kDict, t.offset);
        while (!accept_op("}")) {
          if (!e->args.empty()) expect_op(",");
          if (accept_op("}")) break;
          e->args.push_back(parse_expression());
          expect_op(":");
          e->args.push_back(parse_expression());
        }
        return e;
      }
      break;
    default: break;
  }
  error(t.offset, "expected an expression, found " + describe(t));
}

ExprPtr ExpressionParser::literal(Value v, size_t offset) {
  auto e = make(Expr::Kind::kLiteral, offset);
  e->value = std::move(v);
  return e;
}

void ExpressionParser::parse_call_arguments(Expr& call) {
  while (!accept_op(")")) {
    if (peek().kind == TK::kName && peek(1).kind == TK::kOperator && peek(1).text == "=") {
      std::string key = next().text;
      next();
      call.kwargs.emplace_back(std::move(key), parse_expression());
    } else {
      if (!call.kwargs.empty()) error(peek().offset, "positional argument after keyword argument");
      call.args.push_back(parse_expression());
    }
    if (!at_op(")")) expect_op(",");
  }
}

ExprPtr ExpressionParser::parse_postfix(ExprPtr value) {
  while (true) {
    if (at_op(".")) {
      const size_t offset = next().offset;
      auto e = make(Expr::Kind::kAttribute, offset, expect_identifier());
      e->args.push_back(std::move(value));
      value = std::move(e);
    } else if (at_op("[")) {
      value = parse_subscript(std::move(value));
    } else if (at_op("(")) {
      auto e = make(Expr::Kind::kCall, next().offset);
      e->args.push_back(std::move(value));
      parse_call_arguments(*e);
      value = std::move(e);
    } else {
      return value;
    }
  }
}

ExprPtr ExpressionParser::parse_subscript(ExprPtr value) {
  const size_t offset = next().offset;
  ExprPtr bounds[3];
  int colons = 0;
  while (!accept_op("]")) {
    if (accept_op(":")) {
      if (++colons > 2) error(offset, "too many ':' in slice");
      continue;
    }
    if (bounds[colons]) expect_op("]");
    bounds[colons] = parse_expression();
  }
  if (colons == 0) {
    if (!bounds[0]) error(offset, "empty subscript '[]'");
    auto e = make(Expr::Kind::kItem, offset);
    e->args.push_back(std::move(value));
    e->args.push_back(std::move(bounds[0]));
    return e;
  }
  auto e = make(Expr::Kind::kSlice, offset);
  e->args.push_back(std::move(value));
  for (auto& b : bounds) e->args.push_back(std::move(b));
  return e;
}

ExprPtr ExpressionParser::parse_filters(ExprPtr value) {
  while (true) {
    if (at_op("|")) {
      next();
      const size_t offset = peek().offset;
      auto e = make(Expr::Kind::kFilter, offset, expect_identifier());
      if (!is_supported_filter(e->name)) error(offset, "unsupported filter '" + e->name + "'");
      e->args.push_back(std::move(value));
      if (accept_op("(")) parse_call_arguments(*e);
      value = std::move(e);
    } else if (at_name("is")) {
      next();
      const bool negated = accept_name("not");
      const size_t offset = peek().offset;
      std::string test = expect_identifier();
      if (test == "None") test = "none";
      if (!is_supported_test(test)) error(offset, "unsupported test '" + test + "'");
      auto e = make(Expr::Kind::kTest, offset, test);
      e->negated = negated;
      e->args.push_back(std::move(value));
      if (accept_op("(")) {
        parse_call_arguments(*e);
      } else if (peek().kind == TK::kString || peek().kind == TK::kInt || peek().kind == TK::kFloat) {
        e->args.push_back(parse_primary());  // `is sameas "x"`, `is divisibleby 3`
      }
      value = std::move(e);
    } else {
      return value;
    }
  }
}
}  // namespace slidesparse::jinja
