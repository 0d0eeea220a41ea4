// SafetensorsFile against hand-crafted files: a valid one parses, and every lie a hostile header
// can tell is reported as one line naming the file and the fault.
#include "io/safetensors_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io_test_support.h"

namespace slidesparse {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class HostileSafetensors : public ::testing::Test {
 protected:
  // Writes `bytes` as a .safetensors file and returns the Error opening it produced.
  std::string error_for_bytes(std::string_view bytes) {
    io_test::write_bytes(file_, bytes);
    const std::string message = io_test::error_of([&] { SafetensorsFile st(file_); });
    EXPECT_THAT(message, StartsWith(file_.string() + ": "));
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }
  std::string error_for(std::string_view header, std::string_view data) {
    return error_for_bytes(io_test::raw_safetensors(header, data));
  }

  io_test::ScratchDir dir_;
  std::filesystem::path file_ = dir_ / "hostile.safetensors";
};

TEST_F(HostileSafetensors, AcceptsAValidHandWrittenFile) {
  // Keys out of data order, padding after the JSON, metadata, a scalar and an empty tensor.
  const std::string header =
      R"({"b": {"dtype": "U8", "shape": [2], "data_offsets": [4, 6]},)"
      R"( "__metadata__": {"format": "pt"},)"
      R"( "e": {"dtype": "F32", "shape": [0, 7], "data_offsets": [6, 6]},)"
      R"( "a": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}}   )";
  io_test::write_bytes(file_, io_test::raw_safetensors(header, "ABCDxy"));
  const SafetensorsFile st(file_);
  ASSERT_EQ(st.tensors().size(), 3u);
  EXPECT_EQ(st.tensors()[0].name, "a");
  EXPECT_EQ(st.tensors()[1].name, "b");
  EXPECT_EQ(st.tensors()[2].name, "e");
  const auto b = st.data(*st.find("b"));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), b.size()), "xy");
  EXPECT_EQ(st.metadata().at("format"), "pt");
  EXPECT_EQ(st.find("missing"), nullptr);
  EXPECT_EQ(shape_string(st.find("e")->shape), "[0, 7]");
}

TEST_F(HostileSafetensors, AcceptsAnEmptyCheckpoint) {
  io_test::write_bytes(file_, io_test::raw_safetensors("{}      ", ""));
  EXPECT_TRUE(SafetensorsFile(file_).tensors().empty());
}

TEST_F(HostileSafetensors, TruncatedFile) {
  EXPECT_EQ(error_for_bytes(""),
            file_.string() + ": truncated: the file is 0 bytes, shorter than the 8-byte header length");
  EXPECT_THAT(error_for_bytes(std::string_view("\x10\x00\x00", 3)), HasSubstr("truncated: the file is 3 bytes"));
}

TEST_F(HostileSafetensors, HeaderLengthPastTheEnd) {
  EXPECT_EQ(error_for_bytes(io_test::raw_safetensors("{}", "", 1000)),
            file_.string() + ": header length 1000 exceeds file size 10");
  EXPECT_THAT(error_for_bytes(io_test::raw_safetensors("{}", "", ~uint64_t{0})),
              HasSubstr("header length 18446744073709551615 exceeds file size 10"));
}

TEST_F(HostileSafetensors, HugeHeaderLength) {
  // A sparse file, so the 100 MB limit is reached without writing 100 MB.
  io_test::write_bytes(file_, io_test::raw_safetensors("", "", 100'000'001));
  std::filesystem::resize_file(file_, 100'000'016);
  const std::string message = io_test::error_of([&] { SafetensorsFile st(file_); });
  EXPECT_EQ(message, file_.string() + ": header length 100000001 exceeds the limit of 100000000");
}

TEST_F(HostileSafetensors, BrokenJson) {
  EXPECT_THAT(error_for(R"({"a": {"dtype": )", ""), HasSubstr("header is not valid JSON"));
  EXPECT_THAT(error_for("{\"a\xff\": 1}", ""), HasSubstr("header is not valid JSON"));
  EXPECT_THAT(error_for("[1, 2]", ""), HasSubstr("header is not a JSON object"));
  EXPECT_EQ(error_for(R"({"a": {"dtype": 5E555555}})", ""), file_.string() + ": header holds a number out of range");
}

TEST_F(HostileSafetensors, MalformedEntries) {
  EXPECT_THAT(error_for(R"({"a": 3})", ""), HasSubstr("tensor 'a': entry is not a JSON object"));
  EXPECT_THAT(error_for(R"({"a": {"dtype": "F32", "shape": [1]}})", "abcd"),
              HasSubstr("tensor 'a': entry lacks 'data_offsets'"));
  EXPECT_THAT(error_for(R"({"a": {"dtype": 5, "shape": [1], "data_offsets": [0, 4]}})", "abcd"),
              HasSubstr("tensor 'a': dtype is not a string"));
}

TEST_F(HostileSafetensors, UnknownDType) {
  EXPECT_EQ(error_for(R"({"x": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}})", "12345678"),
            file_.string() + ": tensor 'x': unknown dtype 'F64'");
  EXPECT_THAT(error_for(R"({"x": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 1]}})", "1"),
              HasSubstr("tensor 'x': unknown dtype 'Q4'"));
}

TEST_F(HostileSafetensors, BadShape) {
  for (const char* shape : {"[-1]", "[1.5]", "\"3\"", "[[2]]", "[9223372036854775808]"}) {
    const std::string header =
        std::string(R"({"s": {"dtype": "U8", "shape": )") + shape + R"(, "data_offsets": [0, 1]}})";
    EXPECT_THAT(error_for(header, "1"), HasSubstr("tensor 's': shape must be an array of non-negative integers"))
        << shape;
  }
  EXPECT_THAT(error_for(R"({"s": {"dtype": "F32", "shape": [4294967296, 4294967296, 4], "data_offsets": [0, 0]}})", ""),
              HasSubstr("tensor 's': shape [4294967296, 4294967296, 4] has too many elements"));
}

TEST_F(HostileSafetensors, BadDataOffsets) {
  for (const char* offsets : {"[4, 2]", "[1]", "[-1, 2]", "[0, 2, 4]", "[0.0, 2]", "\"0-2\""}) {
    const std::string header =
        std::string(R"({"s": {"dtype": "U8", "shape": [2], "data_offsets": )") + offsets + "}}";
    EXPECT_THAT(error_for(header, "1234"), HasSubstr("tensor 's': data_offsets must be [begin, end]")) << offsets;
  }
}

TEST_F(HostileSafetensors, ByteRangeTooShort) {
  EXPECT_EQ(error_for(R"({"x": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 10]}})", "0123456789"),
            file_.string() + ": tensor 'x': byte range is 10 bytes but shape [2, 3] of BF16 needs 12");
}

TEST_F(HostileSafetensors, ByteRangeTooLong) {
  EXPECT_EQ(error_for(R"({"x": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 14]}})", "0123456789abcd"),
            file_.string() + ": tensor 'x': byte range is 14 bytes but shape [2, 3] of BF16 needs 12");
}

TEST_F(HostileSafetensors, RangePastTheEnd) {
  EXPECT_EQ(error_for(R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", "0123"),
            file_.string() +
                ": tensor 'x': data_offsets [0, 8] run past the end of the file (data section is 4 bytes)");
}

TEST_F(HostileSafetensors, OverlappingRanges) {
  EXPECT_EQ(error_for(R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},)"
                      R"( "b": {"dtype": "F32", "shape": [3], "data_offsets": [8, 20]}})",
                      std::string(20, 'z')),
            file_.string() + ": tensors 'a' and 'b' overlap");
  // Identical ranges overlap too: two names for one set of bytes.
  EXPECT_THAT(error_for(R"({"a": {"dtype": "I32", "shape": [1], "data_offsets": [0, 4]},)"
                        R"( "b": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}})",
                        "wxyz"),
              HasSubstr("tensors 'a' and 'b' overlap"));
}

TEST_F(HostileSafetensors, GapInTheDataSection) {
  EXPECT_EQ(error_for(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                      R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})",
                      std::string(12, 'g')),
            file_.string() + ": gap in the data section: bytes [4, 8) belong to no tensor");
  EXPECT_THAT(error_for(R"({"a": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]}})", "abcd"),
              HasSubstr("gap in the data section: bytes [0, 2) belong to no tensor"));
}

TEST_F(HostileSafetensors, TrailingBytes) {
  EXPECT_EQ(error_for(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", "abcdef"),
            file_.string() + ": 2 trailing bytes after the last tensor in the data section");
  EXPECT_THAT(error_for("{}", "junk"), HasSubstr("4 trailing bytes"));
}

TEST_F(HostileSafetensors, DuplicateNames) {
  EXPECT_EQ(error_for(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},)"
                      R"( "a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})",
                      "ab"),
            file_.string() + ": header repeats the key 'a'");
  EXPECT_THAT(error_for(R"({"a": {"dtype": "U8", "dtype": "I8", "shape": [1], "data_offsets": [0, 1]}})", "a"),
              HasSubstr("header repeats the key 'dtype'"));
}

TEST_F(HostileSafetensors, MetadataMustBeStrings) {
  EXPECT_THAT(error_for(R"({"__metadata__": {"step": 1}})", ""), HasSubstr("__metadata__ must map strings to strings"));
  EXPECT_THAT(error_for(R"({"__metadata__": ["x"]})", ""), HasSubstr("__metadata__ must map strings to strings"));
}

TEST_F(HostileSafetensors, NotARegularFile) {
  EXPECT_EQ(io_test::error_of([&] { SafetensorsFile st(dir_.path()); }), dir_.path().string() + ": not a regular file");
  const auto missing = dir_ / "missing.safetensors";
  EXPECT_EQ(io_test::error_of([&] { SafetensorsFile st(missing); }),
            missing.string() + ": cannot open: No such file or directory");
}

}  // namespace
}  // namespace slidesparse
