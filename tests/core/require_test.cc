// require(): the message of the lazy form is built only when the check fails, and both forms throw
// the same Error with the message given.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"

namespace slidesparse {
namespace {

TEST(Require, PassingCheckNeverBuildsTheLazyMessage) {
  int built = 0;
  for (int i = 0; i < 1000; ++i)
    require(i >= 0, [&] {
      ++built;
      return std::string("never");
    });
  EXPECT_EQ(built, 0);
}

TEST(Require, FailingCheckThrowsTheLazyMessageOnce) {
  int built = 0;
  try {
    require(false, [&] {
      ++built;
      return "token id " + std::to_string(-3) + " outside the vocabulary";
    });
    FAIL() << "require(false, ...) returned";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "token id -3 outside the vocabulary");
  }
  EXPECT_EQ(built, 1);
}

TEST(Require, StringMessageFormStillThrowsIt) {
  try {
    require(false, "plain message");
    FAIL() << "require(false, ...) returned";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "plain message");
  }
  EXPECT_NO_THROW(require(true, std::string("unused")));
}

}  // namespace
}  // namespace slidesparse
