#include "text/added_tokens.h"

#include <algorithm>

#include "core/error.h"
#include "text/unicode_regex.h"
#include "text/utf8.h"

namespace slidesparse {

namespace {

// Rust's char::is_whitespace (the Unicode White_Space property), which lstrip / rstrip use.
bool is_whitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Start of the character that ends text[0, end).
size_t previous_char_start(std::string_view text, size_t end) {
  size_t pos = end - 1;
  while (pos > 0 && (static_cast<uint8_t>(text[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

// Hugging Face tests single_word with the regex \w on the neighbouring character.
bool is_word_char(std::string_view character) {
  static const UnicodeRegex word(R"(^\w$)");
  return !word.find_all(character).empty();
}

bool flag(const nlohmann::json& entry, const char* key, const std::string& source) {
  const auto it = entry.find(key);
  if (it == entry.end()) return false;
  require(it->is_boolean(), source + ": added token field '" + key + "' must be true or false");
  return it->get<bool>();
}

}  // namespace

AddedToken parse_added_token(const nlohmann::json& entry, int32_t id, const std::string& source) {
  require(entry.is_object() && entry.contains("content") && entry["content"].is_string(),
          source + ": added token " + std::to_string(id) + " needs a string 'content', found " + entry.dump());
  AddedToken t;
  t.id = id;
  t.content = entry["content"].get<std::string>();
  require(!t.content.empty() && is_valid_utf8(t.content),
          source + ": added token " + std::to_string(id) + " has empty or invalid UTF-8 content");
  t.special = flag(entry, "special", source);
  t.lstrip = flag(entry, "lstrip", source);
  t.rstrip = flag(entry, "rstrip", source);
  t.normalized = flag(entry, "normalized", source);
  t.single_word = flag(entry, "single_word", source);
  return t;
}

std::vector<AddedToken> parse_added_tokens(const nlohmann::json& json, const std::string& source) {
  std::vector<AddedToken> tokens;
  if (json.is_null()) return tokens;
  require(json.is_array(), source + ": 'added_tokens' must be a list");
  for (const auto& entry : json) {
    require(entry.is_object() && entry.contains("id") && entry["id"].is_number_integer(),
            source + ": every added token needs an integer 'id', found " + entry.dump());
    tokens.push_back(parse_added_token(entry, entry["id"].get<int32_t>(), source));
  }
  return tokens;
}

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  for (size_t i = 0; i < tokens_.size(); ++i)
    by_first_byte_[static_cast<uint8_t>(tokens_[i].content[0])].push_back(i);
  for (auto& bucket : by_first_byte_)
    std::stable_sort(bucket.begin(), bucket.end(), [&](size_t a, size_t b) {
      return tokens_[a].content.size() > tokens_[b].content.size();
    });
}

std::vector<TextPiece> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<TextPiece> pieces;
  size_t emitted = 0;  // text before this offset is already in `pieces`
  for (size_t pos = 0; pos < text.size();) {
    const AddedToken* found = nullptr;
    for (const size_t i : by_first_byte_[static_cast<uint8_t>(text[pos])])
      if (text.compare(pos, tokens_[i].content.size(), tokens_[i].content) == 0) {
        found = &tokens_[i];
        break;
      }
    if (!found) {
      ++pos;
      continue;
    }
    size_t begin = pos, end = pos + found->content.size();
    pos = end;
    if (found->single_word) {
      const size_t before = begin > 0 ? previous_char_start(text, begin) : 0;
      const bool word_before = begin > 0 && is_word_char(text.substr(before, begin - before));
      const bool word_after = end < text.size() && is_word_char(text.substr(end, utf8_sequence_length(text, end)));
      if (word_before || word_after) continue;
    }
    if (found->lstrip) {
      while (begin > emitted) {
        const size_t start = previous_char_start(text, begin);
        size_t p = start;
        if (!is_whitespace(next_code_point(text, p))) break;
        begin = start;
      }
    }
    if (found->rstrip) {
      while (end < text.size()) {
        size_t p = end;
        if (!is_whitespace(next_code_point(text, p))) break;
        end = p;
      }
      pos = end;
    }
    if (begin > emitted) pieces.push_back({text.substr(emitted, begin - emitted)});
    pieces.push_back({text.substr(begin, end - begin), found->id});
    emitted = end;
  }
  if (emitted < text.size()) pieces.push_back({text.substr(emitted)});
  return pieces;
}

}  // namespace slidesparse
