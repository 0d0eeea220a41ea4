#include "text/utf8.h"

#include <gtest/gtest.h>

#include "text/byte_level.h"

namespace slidesparse {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(Utf8, ValidTextPassesThroughUnchanged) {
  const std::string text = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x91\xA9\xE2\x80\x8D";  // a é 中 👩 ZWJ
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_EQ(to_valid_utf8(text), text);
  size_t pos = 0;
  EXPECT_EQ(next_code_point(text, pos), U'a');
  EXPECT_EQ(next_code_point(text, pos), U'\u00E9');
  EXPECT_EQ(next_code_point(text, pos), U'\u4E2D');
  EXPECT_EQ(next_code_point(text, pos), U'\U0001F469');
  EXPECT_EQ(next_code_point(text, pos), U'\u200D');
  EXPECT_EQ(pos, text.size());
}

TEST(Utf8, EncodesEveryLength) {
  std::string out;
  for (char32_t cp : {U'A', U'\u00E9', U'\u4E2D', U'\U0001F600'}) append_utf8(out, cp);
  EXPECT_EQ(out, "A\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80");
}

// Expected strings are Python's bytes.decode("utf-8", errors="replace").
TEST(Utf8, InvalidSequencesBecomeOneReplacementEachAsPythonDoes) {
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_EQ(to_valid_utf8("ab\xFF\xFF" "cd"), "ab" + kReplacement + kReplacement + "cd");
  EXPECT_EQ(to_valid_utf8("\xE4\xB8"), kReplacement);                    // truncated: one replacement
  EXPECT_EQ(to_valid_utf8("\xF0\x9F\x98 x"), kReplacement + " x");
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), kReplacement + kReplacement + kReplacement);  // a surrogate
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), kReplacement + kReplacement);     // overlong
  EXPECT_EQ(to_valid_utf8("\xF4\x90\x80\x80"), kReplacement + kReplacement + kReplacement + kReplacement);
  EXPECT_EQ(to_valid_utf8("caf\xC3"), "caf" + kReplacement);
  EXPECT_TRUE(is_valid_utf8(to_valid_utf8("\x80\xC3\x28\xE0\x80")));
}

TEST(ByteLevel, MapsBytesToGpt2sAlphabetAndBack) {
  EXPECT_EQ(to_byte_level(" "), "\xC4\xA0");   // Ġ
  EXPECT_EQ(to_byte_level("\n"), "\xC4\x8A");  // Ċ
  EXPECT_EQ(to_byte_level("a!~"), "a!~");
  EXPECT_EQ(to_byte_level("\xE4"), "\xC3\xA4");  // printable Latin-1 maps to itself
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes += static_cast<char>(b);
  EXPECT_EQ(from_byte_level(to_byte_level(all_bytes)), all_bytes);
}

TEST(ByteLevel, ATokenOutsideTheAlphabetHasNoBytes) {
  EXPECT_FALSE(from_byte_level("a b").has_value());  // a plain space is not in the alphabet
  EXPECT_FALSE(from_byte_level("\xE4\xB8\xAD").has_value());
}

}  // namespace
}  // namespace slidesparse
