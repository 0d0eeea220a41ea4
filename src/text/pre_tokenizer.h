// The pre-tokenizer of tokenizer.json: cuts text into the pieces BPE sees one at a time. Supported:
// Split (regex or literal pattern, every delimiter behavior, invert), ByteLevel (add_prefix_space,
// use_regex with GPT-2's pattern; maps bytes to the byte-level alphabet) and a Sequence of them, as
// GPT-2, Llama-3 and Qwen2 use. Any other type is refused by name.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/unicode_regex.h"

namespace slidesparse {

// What happens to the matches of a Split pattern (Hugging Face's SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct SplitStep {
  UnicodeRegex pattern;
  SplitBehavior behavior;
  bool invert;  // the pattern matches the pieces to keep; the text between them is the delimiter
};

struct ByteLevelStep {
  bool add_prefix_space;
  bool use_regex;  // first split with GPT-2's pattern
};

// Applies `behavior` to the matches of `pattern` in `text` (invert: to the text between them).
// Empty pieces are dropped.
std::vector<std::string> split_by_pattern(std::string_view text, const UnicodeRegex& pattern, SplitBehavior behavior,
                                          bool invert);

class PreTokenizer {
 public:
  // `json` is tokenizer.json's "pre_tokenizer" (null: the text is one piece); `source` names the file.
  static PreTokenizer from_json(const nlohmann::json& json, const std::string& source);

  std::vector<std::string> pre_tokenize(std::string_view text) const;

 private:
  std::vector<std::variant<SplitStep, ByteLevelStep>> steps_;
};

}  // namespace slidesparse
