#include "text/jinja_parser.h"

#include <set>

#include "core/error.h"
#include "text/jinja_expression_parser.h"

namespace slidesparse::jinja {

namespace {

class Parser : public ExpressionParser {
 public:
  using ExpressionParser::ExpressionParser;

  StmtList parse() {
    StmtList out = parse_body({});
    if (peek().kind != TK::kEnd) error(peek().offset, "unexpected '{% " + block_tag_name() + " %}'");
    return out;
  }

 private:
  // The name of the block tag at the cursor ("{%" already next), without consuming it.
  std::string block_tag_name() const { return peek(1).kind == TK::kName ? peek(1).text : ""; }

  // Statements until a `{% <one of end_tags> %}` (left unconsumed) or the end of the template.
  StmtList parse_body(const std::set<std::string>& end_tags) {
    StmtList body;
    while (true) {
      const Token& t = peek();
      if (t.kind == TK::kEnd) {
        if (!end_tags.empty())
          error(t.offset, "unexpected end of template: expected '{% " + *end_tags.rbegin() + " %}'");
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
};

}  // namespace

StmtList parse_template(const LexedTemplate& lexed) { return Parser(lexed).parse(); }

}  // namespace slidesparse::jinja
