#include "text/pre_tokenizer.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace slidesparse {
namespace {

using Pieces = std::vector<std::string>;

Pieces split(const std::string& behavior, bool invert, const std::string& text = "a-b--c-") {
  const nlohmann::json spec = {
      {"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}};
  return PreTokenizer::from_json(spec, "test").pre_tokenize(text);
}

// Expected pieces are Hugging Face tokenizers' pre_tokenize_str on the same input.
TEST(PreTokenizer, SplitBehaviorsMatchHuggingFace) {
  EXPECT_EQ(split("Removed", false), (Pieces{"a", "b", "c"}));
  EXPECT_EQ(split("Removed", true), (Pieces{"-", "-", "-", "-"}));
  EXPECT_EQ(split("Isolated", false), (Pieces{"a", "-", "b", "-", "-", "c", "-"}));
  EXPECT_EQ(split("MergedWithPrevious", false), (Pieces{"a-", "b-", "-", "c-"}));
  EXPECT_EQ(split("MergedWithPrevious", true), (Pieces{"a", "-b", "-", "-c", "-"}));
  EXPECT_EQ(split("MergedWithNext", false), (Pieces{"a", "-b", "-", "-c", "-"}));
  EXPECT_EQ(split("MergedWithNext", true), (Pieces{"a-", "b-", "-", "c-"}));
  EXPECT_EQ(split("Contiguous", false), (Pieces{"a", "-", "b", "--", "c", "-"}));
}

TEST(PreTokenizer, ByteLevelWithGpt2RegexAndPrefixSpace) {
  const nlohmann::json spec = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}};
  EXPECT_EQ(PreTokenizer::from_json(spec, "test").pre_tokenize("hello  world\n"),
            (Pieces{"\xC4\xA0hello", "\xC4\xA0", "\xC4\xA0world", "\xC4\x8A"}));
}

TEST(PreTokenizer, LlamaThreePatternKeepsLookaheadAndUnicodeClasses) {
  const nlohmann::json spec = {
      {"type", "Split"},
      {"pattern",
       {{"Regex", R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*)"
                  R"(|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
      {"behavior", "Isolated"},
      {"invert", false}};
  EXPECT_EQ(PreTokenizer::from_json(spec, "test").pre_tokenize("I'M 1234567   x  \n\nÉté"),
            (Pieces{"I", "'M", " ", "123", "456", "7", "  ", " x", "  \n\n", "\xC3\x89t\xC3\xA9"}));
}

TEST(PreTokenizer, NullIsOnePiece) {
  EXPECT_EQ(PreTokenizer::from_json(nullptr, "test").pre_tokenize("a b"), (Pieces{"a b"}));
}

TEST(PreTokenizer, UnknownTypeIsNamed) {
  try {
    PreTokenizer::from_json({{"type", "Whitespace"}}, "x/tokenizer.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "x/tokenizer.json: pre-tokenizer type 'Whitespace' is not supported (supported: Split, ByteLevel, "
              "Sequence)");
  }
}

TEST(PreTokenizer, BadRegexIsNamed) {
  const nlohmann::json spec = {
      {"type", "Split"}, {"pattern", {{"Regex", "(a"}}}, {"behavior", "Isolated"}, {"invert", false}};
  EXPECT_THROW(PreTokenizer::from_json(spec, "test"), Error);
}

}  // namespace
}  // namespace slidesparse
