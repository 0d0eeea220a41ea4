#include "math/sparsity_pattern.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace slidesparse {
namespace {

std::string parse_error(const std::string& text, bool allow_inf = false) {
  try {
    parse_sparsity(text, allow_inf);
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ParseSparsity, AcceptsEvenGroupsFrom4To16) {
  for (int l = 4; l <= 16; l += 2) {
    const SparsityPattern p = parse_sparsity("2:" + std::to_string(l));
    EXPECT_EQ(p.zeros, 2);
    EXPECT_EQ(p.group, l);
    EXPECT_FALSE(p.is_inf());
    EXPECT_EQ(p.str(), "2:" + std::to_string(l));
  }
}

TEST(ParseSparsity, AcceptsInfOnlyWhenAllowed) {
  const SparsityPattern p = parse_sparsity("2:inf", true);
  EXPECT_TRUE(p.is_inf());
  EXPECT_EQ(p.str(), "2:inf");
  EXPECT_EQ(parse_error("2:inf"),
            "invalid sparsity '2:inf': 2:inf is a kernel-benchmark shape only, not a weight pattern");
}

TEST(ParseSparsity, RejectsWithOneLineNamingTheInput) {
  const std::string form = "expected the form Z:L, e.g. 2:8";
  EXPECT_EQ(parse_error("3:8"), "invalid sparsity '3:8': only Z = 2 is supported (2:L)");
  EXPECT_EQ(parse_error("0:4"), "invalid sparsity '0:4': only Z = 2 is supported (2:L)");
  EXPECT_EQ(parse_error("3:inf", true), "invalid sparsity '3:inf': only Z = 2 is supported (2:L)");
  EXPECT_EQ(parse_error("2:5"), "invalid sparsity '2:5': L must be even");
  EXPECT_EQ(parse_error("2:3"), "invalid sparsity '2:3': L must be at least 4");
  EXPECT_EQ(parse_error("2:2"), "invalid sparsity '2:2': L must be at least 4");
  EXPECT_EQ(parse_error("2:-4"), "invalid sparsity '2:-4': L must be at least 4");
  EXPECT_EQ(parse_error("2:18"), "invalid sparsity '2:18': L must be at most 16");
  EXPECT_EQ(parse_error("2:17"), "invalid sparsity '2:17': L must be at most 16");
  EXPECT_EQ(parse_error("abc"), "invalid sparsity 'abc': " + form);
  EXPECT_EQ(parse_error("2:8x"), "invalid sparsity '2:8x': " + form);
  EXPECT_EQ(parse_error(""), "invalid sparsity '': " + form);
  EXPECT_EQ(parse_error("2:"), "invalid sparsity '2:': " + form);
  EXPECT_EQ(parse_error(":8"), "invalid sparsity ':8': " + form);
  EXPECT_EQ(parse_error("2:8:1"), "invalid sparsity '2:8:1': " + form);
  EXPECT_EQ(parse_error(" 2:8"), "invalid sparsity ' 2:8': " + form);
  EXPECT_EQ(parse_error("2:INF", true), "invalid sparsity '2:INF': " + form);
}

}  // namespace
}  // namespace slidesparse
