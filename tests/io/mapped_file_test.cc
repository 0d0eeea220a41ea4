// MappedFile: whole-file read-only mappings, including the empty file mmap itself rejects.
#include "io/mapped_file.h"

#include <gtest/gtest.h>

#include "io_test_support.h"

namespace slidesparse {
namespace {

std::string text(const MappedFile& f) { return {reinterpret_cast<const char*>(f.bytes().data()), f.bytes().size()}; }

TEST(MappedFile, MapsTheWholeFile) {
  io_test::ScratchDir dir;
  io_test::write_bytes(dir / "a.bin", std::string("hello\0world", 11));
  const MappedFile file(dir / "a.bin");
  EXPECT_EQ(file.path(), dir / "a.bin");
  EXPECT_EQ(text(file), std::string("hello\0world", 11));
}

TEST(MappedFile, EmptyFileIsAnEmptySpan) {
  io_test::ScratchDir dir;
  io_test::write_bytes(dir / "empty", "");
  EXPECT_TRUE(MappedFile(dir / "empty").bytes().empty());
}

TEST(MappedFile, MovesOwnership) {
  io_test::ScratchDir dir;
  io_test::write_bytes(dir / "a.bin", "abc");
  io_test::write_bytes(dir / "b.bin", "defg");
  MappedFile a(dir / "a.bin");
  MappedFile moved(std::move(a));
  EXPECT_EQ(text(moved), "abc");
  EXPECT_TRUE(a.bytes().empty());  // NOLINT(bugprone-use-after-move): a moved-from file is empty
  MappedFile b(dir / "b.bin");
  b = std::move(moved);
  EXPECT_EQ(text(b), "abc");
  EXPECT_EQ(b.path(), dir / "a.bin");
}

TEST(MappedFile, ErrorsNameTheFile) {
  io_test::ScratchDir dir;
  EXPECT_EQ(io_test::error_of([&] { MappedFile f(dir / "missing"); }),
            (dir / "missing").string() + ": cannot open: No such file or directory");
  EXPECT_EQ(io_test::error_of([&] { MappedFile f(dir.path()); }), dir.path().string() + ": not a regular file");
}

}  // namespace
}  // namespace slidesparse
