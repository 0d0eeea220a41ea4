// Stop strings on streamed text: cut before the first one, hold back what may become one.
#include "serve/stop_strings.h"

#include <gtest/gtest.h>

namespace slidesparse {
namespace {

TEST(StopStrings, CutsBeforeTheStopStringAcrossPieces) {
  StopStrings s({"END", "\n\n"});
  EXPECT_EQ(s.push("hello E").text, "hello ");  // "E" may start "END"
  StopStrings::Out o = s.push("N");
  EXPECT_EQ(o.text, "");
  EXPECT_FALSE(o.stopped);
  o = s.push("D and more");
  EXPECT_EQ(o.text, "");
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(s.push("later").text, "");
  EXPECT_EQ(s.finish(), "");
}

TEST(StopStrings, AHeldBackPrefixThatDoesNotCompleteIsReleased) {
  StopStrings s({"END"});
  EXPECT_EQ(s.push("EN").text, "");
  EXPECT_EQ(s.push("x").text, "ENx");
  EXPECT_EQ(s.push("E").text, "");
  EXPECT_EQ(s.finish(), "E");
}

TEST(StopStrings, TheEarliestOccurrenceWins) {
  StopStrings s({"cd", "b"});
  const StopStrings::Out o = s.push("abcd");
  EXPECT_EQ(o.text, "a");
  EXPECT_TRUE(o.stopped);
}

// vLLM's include_stop_str_in_output: the reply ends after the stop string; at one position the
// first of the list is the one kept.
TEST(StopStrings, KeptStopStringsEndTheTextAfterThem) {
  StopStrings s({"END", "\n\n"}, /*keep_stop_string=*/true);
  EXPECT_EQ(s.push("hello E").text, "hello ");
  const StopStrings::Out o = s.push("ND and more");
  EXPECT_EQ(o.text, "END");
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(s.finish(), "");
  StopStrings tie({"ab", "abc", "a"}, true);
  EXPECT_EQ(tie.push("xabcd").text, "xab");
}

TEST(StopStrings, NoStopsPassEverythingThrough) {
  StopStrings s({"", ""});
  EXPECT_EQ(s.push("a\n\nb").text, "a\n\nb");
  EXPECT_EQ(s.finish(), "");
}

}  // namespace
}  // namespace slidesparse
