// TextStream: the streamed text of a token sequence equals the decode of the whole sequence, piece
// by piece, and never hands out half of a UTF-8 character.
#include "text/text_stream.h"

#include <gtest/gtest.h>

#include "test_support.h"
#include "text/tokenizer.h"

namespace slidesparse {
namespace {

const Tokenizer& tiny() {
  static const Tokenizer t = Tokenizer::load(testing::test_data_dir() / "tokenizers" / "tiny_chat");
  return t;
}

// Streams `ids` after `prompt`; returns the pieces.
std::vector<std::string> stream(const std::vector<int32_t>& prompt, const std::vector<int32_t>& ids, bool skip) {
  TextStream s(tiny(), prompt, skip);
  std::vector<std::string> pieces;
  for (int32_t id : ids) pieces.push_back(s.push(id));
  pieces.push_back(s.finish());
  return pieces;
}

std::string join(const std::vector<std::string>& pieces) {
  std::string all;
  for (const auto& p : pieces) all += p;
  return all;
}

TEST(TextStream, PiecesAddUpToTheDecodeOfTheGeneratedTokens) {
  const std::string text = "Hello, world! héllo wörld 123, ふりがな and 😀 👩‍👩‍👧 done.";
  const std::vector<int32_t> prompt = tiny().encode("Say:", true);
  const std::vector<int32_t> ids = tiny().encode(text, false);
  const std::vector<std::string> pieces = stream(prompt, ids, true);
  EXPECT_EQ(join(pieces), text);
  for (const auto& p : pieces) EXPECT_EQ(p.find("\xEF\xBF\xBD"), std::string::npos) << "a U+FFFD piece: " << p;
}

// Byte-level tokens of one 4-byte emoji arrive one by one: nothing until the character is whole.
TEST(TextStream, HoldsBackAnUnfinishedCharacter) {
  const std::vector<int32_t> ids = tiny().encode("😀", false);
  ASSERT_GT(ids.size(), 1u) << "the tiny vocabulary should split the emoji into several tokens";
  TextStream s(tiny(), {1}, true);
  for (size_t i = 0; i + 1 < ids.size(); ++i) EXPECT_EQ(s.push(ids[i]), "") << "token " << i;
  EXPECT_EQ(s.push(ids.back()), "😀");
  EXPECT_EQ(s.finish(), "");
}

TEST(TextStream, SpecialTokensAreSkippedOrKept) {
  const std::vector<int32_t> ids{*tiny().token_to_id("<|im_start|>"), 43, *tiny().token_to_id("<|im_end|>")};
  EXPECT_EQ(join(stream({1}, ids, true)), tiny().decode({43}, true));
  EXPECT_EQ(join(stream({1}, ids, false)), tiny().decode(ids, false));
}

// A sequence that ends inside a character: finish() hands out what the whole decode gives (U+FFFD).
TEST(TextStream, FinishReleasesAnUnfinishedTail) {
  const std::vector<int32_t> ids = tiny().encode("😀", false);
  TextStream s(tiny(), {1}, true);
  EXPECT_EQ(s.push(ids[0]), "");
  EXPECT_EQ(s.finish(), tiny().decode({ids[0]}, true));
}

// The model's vocabulary padded past the tokenizer's: such ids have no text (Hugging Face's decode).
TEST(TextStream, IdsOutsideTheTokenizerHaveNoText) {
  ASSERT_FALSE(tiny().knows_id(505));
  TextStream s(tiny(), {1}, true);
  EXPECT_EQ(s.push(505), "");
  EXPECT_EQ(s.push(43), tiny().decode({43}, true));
  EXPECT_EQ(s.finish(), "");
}

}  // namespace
}  // namespace slidesparse
