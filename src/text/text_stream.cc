#include "text/text_stream.h"

#include <algorithm>

namespace slidesparse {

namespace {

constexpr size_t kContextTokens = 5;   // tokens kept before the released point for the next decode
constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

bool ends_with_replacement(const std::string& s) { return s.size() >= 3 && s.compare(s.size() - 3, 3, kReplacement) == 0; }

std::vector<int32_t> slice(const std::vector<int32_t>& v, size_t from, size_t to) {
  return {v.begin() + static_cast<std::ptrdiff_t>(from), v.begin() + static_cast<std::ptrdiff_t>(to)};
}

}  // namespace

TextStream::TextStream(const Tokenizer& tokenizer, std::vector<int32_t> prompt, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_(skip_special_tokens), tokens_(std::move(prompt)) {
  read_ = tokens_.size();
  prefix_ = read_ - std::min(read_, kContextTokens);
}

std::string TextStream::push(int32_t token) {
  if (!tokenizer_.knows_id(token)) return "";
  tokens_.push_back(token);
  const std::string before = tokenizer_.decode(slice(tokens_, prefix_, read_), skip_special_);
  const std::string now = tokenizer_.decode(slice(tokens_, prefix_, tokens_.size()), skip_special_);
  // Held back while the newest token leaves a character unfinished, or while the window's text does
  // not yet extend what was released (a token that only changes earlier bytes).
  if (ends_with_replacement(now) || now.size() <= before.size() || now.compare(0, before.size(), before) != 0)
    return "";
  read_ = tokens_.size();
  // A few tokens of context before the released point: the next decode starts there, so a token
  // whose text depends on its predecessor (a leading space, a split character) decodes as in full.
  prefix_ = read_ - std::min(read_, kContextTokens);
  return now.substr(before.size());
}

std::string TextStream::finish() {
  const std::string before = tokenizer_.decode(slice(tokens_, prefix_, read_), skip_special_);
  const std::string now = tokenizer_.decode(slice(tokens_, prefix_, tokens_.size()), skip_special_);
  read_ = tokens_.size();
  if (now.size() <= before.size() || now.compare(0, before.size(), before) != 0) return "";
  return now.substr(before.size());
}

}  // namespace slidesparse
