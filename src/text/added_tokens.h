// Added tokens of tokenizer.json ("added_tokens": special tokens such as <|eot_id|> and user-added
// words): found in the text before pre-tokenization, as Hugging Face's AddedVocabulary does.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace slidesparse {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool lstrip = false;       // the match also takes the whitespace before it
  bool rstrip = false;       // ... and after it
  bool normalized = false;   // matched in the normalized text rather than the raw input
  bool single_word = false;  // only where no word character touches it on either side
};

// One {"content": ..., "special": ..., ...} entry (tokenizer.json, tokenizer_config.json's
// added_tokens_decoder); absent flags are false. Throws Error "<source>: ..." when malformed.
AddedToken parse_added_token(const nlohmann::json& entry, int32_t id, const std::string& source);
// tokenizer.json's "added_tokens" list (null: none).
std::vector<AddedToken> parse_added_tokens(const nlohmann::json& json, const std::string& source);

// A run of input text: an added token (id >= 0) or text for the pre-tokenizer (id < 0).
struct TextPiece {
  std::string_view text;
  int32_t id = -1;
};

// Finds a set of added tokens in text: leftmost-longest, non-overlapping matches (Aho-Corasick's
// LeftmostLongest, which Hugging Face uses); a match refused by single_word is skipped whole.
class AddedTokenMatcher {
 public:
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);

  // `text` cut into pieces; the whitespace an lstrip / rstrip token takes is dropped with it.
  std::vector<TextPiece> split(std::string_view text) const;

 private:
  std::vector<AddedToken> tokens_;
  std::array<std::vector<size_t>, 256> by_first_byte_;  // indices into tokens_, longest first
};

}  // namespace slidesparse
