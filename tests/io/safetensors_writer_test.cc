// SafetensorsWriter: byte-exact round trips through SafetensorsFile, streaming, and the misuse and
// I/O errors a converter can hit.
#include "io/safetensors_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/safetensors_reader.h"
#include "io_test_support.h"

namespace slidesparse {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using io_test::error_of;
using io_test::pattern;
using io_test::ScratchDir;

std::vector<std::byte> bytes_of(std::span<const std::byte> span) { return {span.begin(), span.end()}; }

TEST(SafetensorsWriter, RoundTripsEveryDTypeByteExact) {
  ScratchDir dir;
  const std::vector<TensorDecl> decls = {
      {"bf16", DType::BF16, {3, 5}},     {"f16", DType::F16, {7}},   {"f32.scalar", DType::F32, {}},
      {"i8.empty", DType::I8, {2, 0, 3}}, {"u8", DType::U8, {1, 1, 13}}, {"i32", DType::I32, {3, 1}},
      {"fp8", DType::F8_E4M3, {11}},
  };
  const auto file = dir / "model.safetensors";
  std::vector<std::vector<std::byte>> payloads;
  {
    SafetensorsWriter writer(file, decls, {{"format", "pt"}, {"note", "odd shapes"}});
    for (size_t i = 0; i < decls.size(); ++i) {
      payloads.push_back(pattern(*tensor_nbytes(decls[i].dtype, decls[i].shape), static_cast<uint32_t>(i)));
      writer.write(decls[i].name, payloads.back());
    }
    writer.finish();
  }

  const SafetensorsFile st(file);
  EXPECT_EQ(st.metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"note", "odd shapes"}}));
  ASSERT_EQ(st.tensors().size(), decls.size());
  for (size_t i = 0; i < decls.size(); ++i) {
    const TensorInfo& info = st.tensors()[i];  // data order is declaration order
    EXPECT_EQ(info.name, decls[i].name);
    EXPECT_EQ(info.dtype, decls[i].dtype);
    EXPECT_EQ(info.shape, decls[i].shape);
    EXPECT_EQ(bytes_of(st.data(info)), payloads[i]) << info.name;
    EXPECT_EQ(st.find(decls[i].name), &info);
  }
  EXPECT_EQ(st.find("f32.scalar")->numel(), 1);
  EXPECT_EQ(st.find("i8.empty")->nbytes, 0u);

  // The data section starts 8-byte aligned.
  const std::string raw = io_test::read_bytes(file);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(raw[i]);
  EXPECT_EQ((8 + header_len) % 8, 0u);
}

TEST(SafetensorsWriter, StreamsOneTensorInPieces) {
  ScratchDir dir;
  const auto file = dir / "s.safetensors";
  const auto big = pattern(size_t{5} << 20, 1);  // 20 MiB of F32 passes through the buffer several times
  const auto small = pattern(12, 2);
  {
    SafetensorsWriter writer(file, {{"big", DType::F32, {int64_t{5} << 18}}, {"small", DType::I32, {3}}});
    const std::span<const std::byte> all(big);
    size_t at = 0;
    for (size_t piece : {size_t{1}, size_t{0}, size_t{7}, size_t{3} << 20, size_t{100}}) {
      writer.append("big", all.subspan(at, piece));
      at += piece;
    }
    writer.append("big", all.subspan(at));
    writer.append("small", std::span(small).first(5));
    writer.append("small", std::span(small).subspan(5));
    writer.finish();
  }
  const SafetensorsFile st(file);
  EXPECT_EQ(bytes_of(st.data(*st.find("big"))), big);
  EXPECT_EQ(bytes_of(st.data(*st.find("small"))), small);
}

TEST(SafetensorsWriter, EmptyTensorsNeedNoBytes) {
  ScratchDir dir;
  const auto file = dir / "e.safetensors";
  const auto b = pattern(4, 3);
  {
    SafetensorsWriter writer(file, {{"a", DType::BF16, {0, 4}}, {"b", DType::U8, {4}}, {"c", DType::F32, {2, 0}}});
    writer.write("b", b);  // passes over "a"; "c" is never named
    writer.finish();
  }
  const SafetensorsFile st(file);
  std::vector<std::string> names;
  for (const auto& t : st.tensors()) names.push_back(t.name);
  EXPECT_THAT(names, ElementsAre("a", "b", "c"));
  EXPECT_EQ(bytes_of(st.data(*st.find("b"))), b);
}

TEST(SafetensorsWriter, EnforcesDeclarationOrder) {
  ScratchDir dir;
  const auto file = dir / "o.safetensors";
  SafetensorsWriter writer(file, {{"a", DType::F32, {2}}, {"b", DType::F32, {3}}});
  const auto bytes = pattern(12, 4);
  EXPECT_EQ(error_of([&] { writer.append("b", bytes); }),
            file.string() + ": tensor 'b' is out of declaration order: expected 'a' next");
  EXPECT_EQ(error_of([&] { writer.append("zzz", bytes); }), file.string() + ": tensor 'zzz' was not declared");

  writer.append("a", std::span(bytes).first(4));
  EXPECT_EQ(error_of([&] { writer.append("b", bytes); }),
            file.string() + ": tensor 'a' incomplete: wrote 4 of 8 bytes before 'b' began");
  EXPECT_THAT(error_of([&] { writer.write("a", std::span(bytes).first(8)); }),
              HasSubstr("tensor 'a': write() after append() began the tensor"));
  EXPECT_THAT(error_of([&] { writer.append("a", std::span(bytes).first(5)); }),
              HasSubstr("tensor 'a': appending 5 bytes exceeds its size of 8 (4 already written)"));
  writer.append("a", std::span(bytes).subspan(4, 4));
  EXPECT_EQ(error_of([&] { writer.append("a", bytes); }), file.string() + ": tensor 'a' was already written");
  EXPECT_EQ(error_of([&] { writer.write("b", std::span(bytes).first(8)); }),
            file.string() + ": tensor 'b': write of 8 bytes but shape [3] of F32 needs 12");
  writer.write("b", bytes);
  writer.finish();
  EXPECT_THAT(error_of([&] { writer.append("b", bytes); }), HasSubstr("written after finish()"));
  EXPECT_THAT(error_of([&] { writer.finish(); }), HasSubstr("finish() called twice"));
}

TEST(SafetensorsWriter, FinishRejectsIncompleteTensors) {
  ScratchDir dir;
  const auto file = dir / "i.safetensors";
  SafetensorsWriter writer(file, {{"a", DType::F32, {2}}, {"b", DType::BF16, {2, 3}}});
  const auto bytes = pattern(12, 5);
  writer.append("a", std::span(bytes).first(4));
  EXPECT_EQ(error_of([&] { writer.finish(); }), file.string() + ": tensor 'a' incomplete: wrote 4 of 8 bytes");
  writer.append("a", std::span(bytes).first(4));
  EXPECT_EQ(error_of([&] { writer.finish(); }), file.string() + ": tensor 'b' incomplete: wrote 0 of 12 bytes");
}

TEST(SafetensorsWriter, RejectsBadDeclarations) {
  ScratchDir dir;
  const auto file = dir / "d.safetensors";
  EXPECT_EQ(error_of([&] { SafetensorsWriter(file, {{"a", DType::F32, {2}}, {"a", DType::F32, {2}}}); }),
            file.string() + ": tensor 'a': declared twice");
  EXPECT_THAT(error_of([&] { SafetensorsWriter(file, {{"a", DType::F32, {2, -1}}}); }),
              HasSubstr("tensor 'a': shape [2, -1] has a negative dimension"));
  EXPECT_THAT(error_of([&] { SafetensorsWriter(file, {{"__metadata__", DType::U8, {1}}}); }),
              HasSubstr("reserved for metadata"));
}

TEST(SafetensorsWriter, ReportsCreateAndWriteErrors) {
  ScratchDir dir;
  const auto missing = dir / "no-such-dir" / "x.safetensors";
  EXPECT_EQ(error_of([&] { SafetensorsWriter(missing, {}); }),
            missing.string() + ": cannot create: No such file or directory");
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "/dev/full is needed to simulate a full disk";
  SafetensorsWriter writer("/dev/full", {{"a", DType::U8, {16}}});
  writer.write("a", pattern(16, 6));
  EXPECT_EQ(error_of([&] { writer.finish(); }), "/dev/full: write failed: No space left on device");
  SafetensorsWriter big("/dev/full", {{"a", DType::U8, {int64_t{32} << 20}}});
  EXPECT_EQ(error_of([&] { big.write("a", pattern(size_t{32} << 20, 7)); }),
            "/dev/full: write failed: No space left on device");
}

}  // namespace
}  // namespace slidesparse
