#include "math/sparsity.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"
#include "test_support.h"

namespace slidesparse {
namespace {

using testing::error_of;

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
    const Sparsity p = parse_sparsity("2:" + std::to_string(l));
    EXPECT_EQ(p, Sparsity::two_of(l));
    EXPECT_EQ(p.group(), l);
    EXPECT_EQ(p.slide_group(), l);
    EXPECT_TRUE(p.is_finite_sparse());
    EXPECT_FALSE(p.is_dense());
    EXPECT_FALSE(p.is_inf());
    EXPECT_EQ(p.str(), "2:" + std::to_string(l));
  }
}

TEST(ParseSparsity, AcceptsInfOnlyWhenAllowed) {
  const Sparsity p = parse_sparsity("2:inf", true);
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

TEST(Sparsity, DenseAndInfHaveNoGroup) {
  const Sparsity dense, inf = Sparsity::two_of_inf();
  EXPECT_TRUE(dense.is_dense());
  EXPECT_EQ(dense, Sparsity::dense());
  EXPECT_EQ(dense.str(), "dense");
  EXPECT_EQ(dense.slide_group(), 4);  // the identity slide of plain quantization
  EXPECT_TRUE(inf.is_inf());
  EXPECT_FALSE(inf.is_finite_sparse());
  EXPECT_EQ(inf.str(), "2:inf");
  EXPECT_EQ(error_of([&] { dense.group(); }), "sparsity dense has no group size L");
  EXPECT_EQ(error_of([&] { inf.group(); }), "sparsity 2:inf has no group size L");
  EXPECT_EQ(error_of([&] { inf.slide_group(); }), "sparsity 2:inf has no group size L");
}

TEST(Sparsity, TwoOfChecksTheGroupSize) {
  EXPECT_EQ(Sparsity::two_of(16).str(), "2:16");
  for (int bad : {0, 2, 5, 18, -4})
    EXPECT_EQ(error_of([&] { Sparsity::two_of(bad); }),
              "sparsity 2:" + std::to_string(bad) + ": L must be even in [4, 16]");
}

TEST(Sparsity, OrdersDenseThenByLThenInf) {
  std::vector<Sparsity> v{Sparsity::two_of_inf(), Sparsity::two_of(8), Sparsity::dense(), Sparsity::two_of(4),
                          Sparsity::two_of(16)};
  std::sort(v.begin(), v.end());
  std::vector<std::string> names;
  for (const Sparsity s : v) names.push_back(s.str());
  EXPECT_EQ(names, (std::vector<std::string>{"dense", "2:4", "2:8", "2:16", "2:inf"}));
}

}  // namespace
}  // namespace slidesparse
