// The dtype's spellings: each has one function, and the option spelling parses back.
#include "math/weight_code.h"

#include <gtest/gtest.h>

namespace slidesparse {
namespace {

TEST(QuantKindNames, EachSpellingComesFromOneFunction) {
  EXPECT_EQ(quant_kind_name(QuantKind::Int8), "int8");
  EXPECT_EQ(quant_kind_name(QuantKind::Fp8E4M3), "fp8");
  EXPECT_EQ(quant_kind_label(QuantKind::Int8), "INT8");
  EXPECT_EQ(quant_kind_label(QuantKind::Fp8E4M3), "FP8");
  EXPECT_EQ(quant_kind_tag(QuantKind::Int8), "INT8");
  EXPECT_EQ(quant_kind_tag(QuantKind::Fp8E4M3), "FP8E4M3");
}

TEST(QuantKindNames, OnlyTheOptionSpellingParses) {
  EXPECT_EQ(parse_quant_kind("int8"), QuantKind::Int8);
  EXPECT_EQ(parse_quant_kind("fp8"), QuantKind::Fp8E4M3);
  for (const char* other : {"INT8", "FP8", "FP8E4M3", "e4m3", "", "int4"})
    EXPECT_FALSE(parse_quant_kind(other).has_value()) << other;
}

}  // namespace
}  // namespace slidesparse
