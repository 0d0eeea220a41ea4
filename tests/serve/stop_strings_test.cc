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

TEST(StopStrings, NoStopsPassEverythingThrough) {
  StopStrings s({"", ""});
  EXPECT_EQ(s.push("a\n\nb").text, "a\n\nb");
  EXPECT_EQ(s.finish(), "");
}

}  // namespace
}  // namespace slidesparse
