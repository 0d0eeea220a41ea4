#include "text/jinja_lexer.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "text/utf8.h"

namespace slidesparse::jinja {

SourceMap::SourceMap(const std::string& source) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < source.size(); ++i)
    if (source[i] == '\n') line_starts_.push_back(i + 1);
}

std::string SourceMap::describe(size_t offset) const {
  const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const size_t line = static_cast<size_t>(it - line_starts_.begin());
  return "line " + std::to_string(line) + ", column " + std::to_string(offset - line_starts_[line - 1] + 1);
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Jinja treats \r\n, \r and \n alike, and drops one final newline.
std::string normalize_newlines(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out += text[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string source) : map_(source) { out_.source = std::move(source); }

  LexedTemplate run() {
    const std::string& s = out_.source;
    while (pos_ < s.size()) {
      size_t tag = s.find('{', pos_);
      while (tag != std::string::npos && (tag + 1 >= s.size() || (s[tag + 1] != '{' && s[tag + 1] != '%' &&
                                                                   s[tag + 1] != '#')))
        tag = s.find('{', tag + 1);
      if (tag == std::string::npos) {
        emit_text(s.substr(pos_), pos_);
        break;
      }
      lex_tag(tag);
    }
    out_.tokens.push_back({Token::Kind::kEnd, "", s.size()});
    return std::move(out_);
  }

 private:
  [[noreturn]] void error(size_t offset, const std::string& what) const {
    fail("chat template: " + map_.describe(offset) + ": " + what);
  }

  void emit_text(std::string text, size_t offset) {
    if (!text.empty()) out_.tokens.push_back({Token::Kind::kText, std::move(text), offset});
  }

  // The text before a tag, with `{%-` stripping all whitespace and lstrip_blocks stripping the
  // spaces that open the tag's line (block and comment tags only, unless `{%+`).
  void lex_tag(size_t tag) {
    const std::string& s = out_.source;
    const char type = s[tag + 1];
    const char modifier = tag + 2 < s.size() ? s[tag + 2] : '\0';
    std::string text = s.substr(pos_, tag - pos_);
    if (modifier == '-') {
      while (!text.empty() && is_space(text.back())) text.pop_back();
    } else if (modifier != '+' && type != '{') {
      const size_t line_pos = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
      const bool only_spaces = line_pos < text.size() &&
                               std::all_of(text.begin() + static_cast<long>(line_pos), text.end(), is_space);
      if ((line_pos > 0 || line_starting_) && only_spaces) text.resize(line_pos);
    }
    emit_text(std::move(text), pos_);
    pos_ = tag + 2 + ((modifier == '-' || modifier == '+') ? 1 : 0);
    if (type == '#') return lex_comment(tag);
    out_.tokens.push_back({type == '{' ? Token::Kind::kVariableBegin : Token::Kind::kBlockBegin, "", tag});
    lex_inside_tag(type, tag);
  }

  void lex_comment(size_t tag) {
    const std::string& s = out_.source;
    const size_t close = s.find("#}", pos_);
    if (close == std::string::npos) error(tag, "comment '{#' is never closed with '#}'");
    pos_ = close + 2;
    end_tag(close > 0 ? s[close - 1] : '\0', true);
  }

  // After `%}` (trim_blocks) one newline goes; after `-%}` all whitespace; after `+%}` none.
  void end_tag(char modifier, bool block_like) {
    const std::string& s = out_.source;
    const size_t start = pos_;
    if (modifier == '-') {
      while (pos_ < s.size() && is_space(s[pos_])) ++pos_;
    } else if (modifier != '+' && block_like && pos_ < s.size() && s[pos_] == '\n') {
      ++pos_;
    }
    // Jinja's line_starting: did the tag's closing match end with a newline?
    line_starting_ = pos_ > start ? s[pos_ - 1] == '\n' : false;
  }

  void lex_inside_tag(char type, size_t tag) {
    const std::string& s = out_.source;
    const std::string close = type == '{' ? "}}" : "%}";
    std::vector<char> brackets;
    while (true) {
      while (pos_ < s.size() && is_space(s[pos_])) ++pos_;
      if (pos_ >= s.size())
        error(tag, std::string("tag '") + s.substr(tag, 2) + "' is never closed with '" + close + "'");
      if (brackets.empty()) {
        for (const char modifier : {'-', '+', '\0'}) {
          if (modifier == '+' && type == '{') continue;
          const std::string end = modifier ? std::string(1, modifier) + close : close;
          if (s.compare(pos_, end.size(), end) == 0) {
            pos_ += end.size();
            out_.tokens.push_back({type == '{' ? Token::Kind::kVariableEnd : Token::Kind::kBlockEnd, "", pos_});
            end_tag(modifier, type == '%');
            return;
          }
        }
      }
      if ((s[pos_] == '{' && pos_ + 1 < s.size() && (s[pos_ + 1] == '{' || s[pos_ + 1] == '%')) && brackets.empty())
        error(tag, std::string("tag '") + s.substr(tag, 2) + "' is never closed with '" + close + "'");
      lex_expression_token(brackets);
    }
  }

  void lex_expression_token(std::vector<char>& brackets) {
    const std::string& s = out_.source;
    const size_t start = pos_;
    const char c = s[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (pos_ < s.size() && (std::isalnum(static_cast<unsigned char>(s[pos_])) || s[pos_] == '_')) ++pos_;
      out_.tokens.push_back({Token::Kind::kName, s.substr(start, pos_ - start), start});
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      lex_number();
    } else if (c == '\'' || c == '"') {
      lex_string();
    } else {
      static const char* const kOperators[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~",
                                               "<",  ">",  "=",  "(",  ")",  "[", "]", "{", "}", ",", ".", ":",
                                               "|",  ";"};
      for (const char* op : kOperators) {
        const std::string o = op;
        if (s.compare(pos_, o.size(), o) != 0) continue;
        if (o == "(" || o == "[" || o == "{") brackets.push_back(o == "(" ? ')' : o == "[" ? ']' : '}');
        if (o == ")" || o == "]" || o == "}") {
          if (brackets.empty() || brackets.back() != o[0]) error(start, "unexpected '" + o + "'");
          brackets.pop_back();
        }
        pos_ += o.size();
        out_.tokens.push_back({Token::Kind::kOperator, o, start});
        return;
      }
      error(start, std::string("unexpected character '") + c + "'");
    }
  }

  void lex_number() {
    const std::string& s = out_.source;
    const size_t start = pos_;
    auto digits = [&] {
      while (pos_ < s.size() && (std::isdigit(static_cast<unsigned char>(s[pos_])) || s[pos_] == '_')) ++pos_;
    };
    digits();
    bool is_float = false;
    if (pos_ + 1 < s.size() && s[pos_] == '.' && std::isdigit(static_cast<unsigned char>(s[pos_ + 1]))) {
      is_float = true;
      ++pos_;
      digits();
    }
    if (pos_ < s.size() && (s[pos_] == 'e' || s[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < s.size() && (s[p] == '+' || s[p] == '-')) ++p;
      if (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
        is_float = true;
        pos_ = p;
        digits();
      }
    }
    std::string text = s.substr(start, pos_ - start);
    text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
    out_.tokens.push_back({is_float ? Token::Kind::kFloat : Token::Kind::kInt, text, start});
  }

  // Python string-literal escapes, as Jinja decodes them.
  void lex_string() {
    const std::string& s = out_.source;
    const size_t start = pos_;
    const char quote = s[pos_++];
    std::string value;
    while (true) {
      if (pos_ >= s.size()) error(start, "string literal is never closed");
      const char c = s[pos_++];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        continue;
      }
      if (pos_ >= s.size()) error(start, "string literal is never closed");
      const char e = s[pos_++];
      switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'v': value += '\v'; break;
        case 'a': value += '\a'; break;
        case '0': value += '\0'; break;
        case '\\': value += '\\'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case '\n': break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t width = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (pos_ + width > s.size()) error(start, "truncated \\" + std::string(1, e) + " escape in string");
          const std::string hex = s.substr(pos_, width);
          if (!std::all_of(hex.begin(), hex.end(), [](char h) { return std::isxdigit(static_cast<unsigned char>(h)); }))
            error(start, "malformed \\" + std::string(1, e) + " escape in string");
          const auto code_point = static_cast<char32_t>(std::stoul(hex, nullptr, 16));
          // Jinja decodes these as Python's unicode-escape codec does, which refuses code points past
          // U+10FFFF; a lone surrogate decodes there but can never be written as UTF-8.
          if (code_point > 0x10FFFF) error(start, "\\U escape beyond U+10FFFF in string");
          if (code_point >= 0xD800 && code_point <= 0xDFFF) error(start, "escape of a lone surrogate in string");
          append_utf8(value, code_point);
          pos_ += width;
          break;
        }
        default:  // Python keeps unknown escapes as written
          value += '\\';
          value += e;
      }
    }
    out_.tokens.push_back({Token::Kind::kString, std::move(value), start});
  }

  SourceMap map_;
  LexedTemplate out_;
  size_t pos_ = 0;
  bool line_starting_ = true;
};

}  // namespace

LexedTemplate lex_template(const std::string& text) { return Lexer(normalize_newlines(text)).run(); }

}  // namespace slidesparse::jinja
