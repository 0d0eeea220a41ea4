#include "text/jinja_parser.h"

#include <set>

#include "core/error.h"
#include "text/jinja_builtins.h"

namespace slidesparse::jinja {

namespace {

using TK = Token::Kind;

class Parser {
 public:
  explicit Parser(const LexedTemplate& lexed) : tokens_(lexed.tokens), map_(lexed.source) {}

  StmtList parse() {
    StmtList out = parse_body({});
    if (peek().kind != TK::kEnd) error(peek().offset, "unexpected '{% " + block_tag_name() + " %}'");
    return out;
  }

 private:
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

  // The name of the block tag at the cursor ("{%" already next), without consuming it.
  std::string block_tag_name() const { return peek(1).kind == TK::kName ? peek(1).text : ""; }

  // Statements until a `{% <one of end_tags> %}` (left unconsumed) or the end of the template.
  StmtList parse_body(const std::set<std::string>& end_tags) {
    StmtList body;
    while (true) {
      const Token& t = peek();
      if (t.kind == TK::kEnd) {
        if (!end_tags.empty()) error(t.offset, "unexpected end of template: expected '{% " + *end_tags.rbegin() + " %}'");
        return body;
      }
      if (t.kind == TK::kText) {
        auto s = make_stmt(Stmt::Kind::kText, t.offset);
        s->text = next().text;
        body.push_back(std::move(s));
      } else if (t.kind == TK::kVariableBegin) {
        next();
        auto s = make_stmt(Stmt::Kind::kOutput, t.offset);
        s->expr = parse_expression();
        expect(TK::kVariableEnd, "'}}'");
        body.push_back(std::move(s));
      } else {
        if (end_tags.count(block_tag_name())) return body;
        body.push_back(parse_block());
      }
    }
  }

  static std::unique_ptr<Stmt> make_stmt(Stmt::Kind kind, size_t offset) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->offset = offset;
    return s;
  }

  std::unique_ptr<Stmt> parse_block() {
    const size_t offset = next().offset;  // {%
    if (peek().kind != TK::kName) error(peek().offset, "expected a tag name after '{%', found " + describe(peek()));
    const std::string tag = next().text;
    if (tag == "if") return parse_if(offset);
    if (tag == "for") return parse_for(offset);
    if (tag == "set") return parse_set(offset);
    if (tag == "break" || tag == "continue") {
      expect(TK::kBlockEnd, "'%}'");
      return make_stmt(tag == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue, offset);
    }
    static const std::set<std::string> kUnsupported = {"macro", "call", "include", "import", "from", "extends",
                                                       "block", "filter", "with", "raw", "autoescape", "do"};
    if (kUnsupported.count(tag)) error(offset, "unsupported tag '{% " + tag + " %}'");
    error(offset, "unexpected tag '{% " + tag + " %}'");
  }

  std::unique_ptr<Stmt> parse_if(size_t offset) {
    auto s = make_stmt(Stmt::Kind::kIf, offset);
    s->expr = parse_expression();
    expect(TK::kBlockEnd, "'%}'");
    s->body = parse_body({"elif", "else", "endif"});
    const size_t tag_offset = next().offset;
    const std::string tag = next().text;
    if (tag == "elif") {
      s->else_body.push_back(parse_if(tag_offset));
      return s;  // the nested if consumed the endif
    }
    if (tag == "else") {
      expect(TK::kBlockEnd, "'%}'");
      s->else_body = parse_body({"endif"});
      next();
      next();
    }
    expect(TK::kBlockEnd, "'%}'");
    return s;
  }

  std::unique_ptr<Stmt> parse_for(size_t offset) {
    auto s = make_stmt(Stmt::Kind::kFor, offset);
    do s->targets.push_back(expect_identifier());
    while (accept_op(","));
    if (!accept_name("in")) error(peek().offset, "expected 'in' in for loop, found " + describe(peek()));
    s->expr = parse_or();  // not parse_expression: a trailing `if` filters the loop
    if (accept_name("if")) s->condition = parse_expression();
    if (accept_name("recursive")) error(peek().offset, "unsupported for-loop modifier 'recursive'");
    expect(TK::kBlockEnd, "'%}'");
    s->body = parse_body({"else", "endfor"});
    next();
    if (next().text == "else") {
      expect(TK::kBlockEnd, "'%}'");
      s->else_body = parse_body({"endfor"});
      next();
      next();
    }
    expect(TK::kBlockEnd, "'%}'");
    return s;
  }

  std::unique_ptr<Stmt> parse_set(size_t offset) {
    auto s = make_stmt(Stmt::Kind::kSet, offset);
    s->targets.push_back(expect_identifier());
    if (accept_op(".")) {
      s->attribute = expect_identifier();
    } else {
      while (accept_op(",")) s->targets.push_back(expect_identifier());
    }
    if (peek().kind == TK::kBlockEnd) error(offset, "unsupported tag '{% set %}...{% endset %}' (block assignment)");
    expect_op("=");
    s->expr = parse_expression();
    expect(TK::kBlockEnd, "'%}'");
    return s;
  }

  ExprPtr make(Expr::Kind kind, size_t offset, std::string name = "") {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->offset = offset;
    e->name = std::move(name);
    return e;
  }

  ExprPtr binary(const std::string& op, size_t offset, ExprPtr left, ExprPtr right) {
    auto e = make(Expr::Kind::kBinary, offset, op);
    e->args.push_back(std::move(left));
    e->args.push_back(std::move(right));
    return e;
  }

  // Precedence, loosest first, as Jinja's parser: conditional, or, and, not, comparisons, + -, ~, * / // %,
  // **, unary - +, then postfix . [] () with filters and tests.
  ExprPtr parse_expression() {
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

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (at_name("or")) {
      const size_t offset = next().offset;
      left = binary("or", offset, std::move(left), parse_and());
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (at_name("and")) {
      const size_t offset = next().offset;
      left = binary("and", offset, std::move(left), parse_not());
    }
    return left;
  }

  ExprPtr parse_not() {
    if (at_name("not")) {
      auto e = make(Expr::Kind::kUnary, next().offset, "not");
      e->args.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
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

  ExprPtr parse_sum() {
    ExprPtr left = parse_concat();
    while (at_op("+") || at_op("-")) {
      const Token& t = next();
      left = binary(t.text, t.offset, std::move(left), parse_concat());
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_product();
    while (at_op("~")) {
      const size_t offset = next().offset;
      left = binary("~", offset, std::move(left), parse_product());
    }
    return left;
  }

  ExprPtr parse_product() {
    ExprPtr left = parse_power();
    while (at_op("*") || at_op("/") || at_op("//") || at_op("%")) {
      const Token& t = next();
      left = binary(t.text, t.offset, std::move(left), parse_power());
    }
    return left;
  }

  ExprPtr parse_power() {
    ExprPtr left = parse_unary();
    while (at_op("**")) {
      const size_t offset = next().offset;
      left = binary("**", offset, std::move(left), parse_unary());
    }
    return left;
  }

  ExprPtr parse_unary() {
    if (at_op("-") || at_op("+")) {
      const Token& t = next();
      auto e = make(Expr::Kind::kUnary, t.offset, t.text);
      e->args.push_back(parse_unary());
      return parse_filters(std::move(e));
    }
    return parse_filters(parse_postfix(parse_primary()));
  }

  ExprPtr parse_primary() {
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
      case TK::kInt: return literal(Value::integer(std::stoll(t.text)), t.offset);
      case TK::kFloat: return literal(Value::number(std::stod(t.text)), t.offset);
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

  ExprPtr literal(Value v, size_t offset) {
    auto e = make(Expr::Kind::kLiteral, offset);
    e->value = std::move(v);
    return e;
  }

  void parse_call_arguments(Expr& call) {
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

  ExprPtr parse_postfix(ExprPtr value) {
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

  ExprPtr parse_subscript(ExprPtr value) {
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

  ExprPtr parse_filters(ExprPtr value) {
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

  const std::vector<Token>& tokens_;
  SourceMap map_;
  size_t pos_ = 0;
};

}  // namespace

StmtList parse_template(const LexedTemplate& lexed) { return Parser(lexed).parse(); }

}  // namespace slidesparse::jinja
