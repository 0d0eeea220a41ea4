// StagedDirectory and write_file_atomic: nothing appears under the target name until commit, and
// every failure is one line naming the directory.
#include "io/staged_directory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "io_test_support.h"

namespace slidesparse {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using io_test::error_of;
using io_test::listing;
using io_test::read_bytes;

class StagedDirectoryTest : public ::testing::Test {
 protected:
  io_test::ScratchDir dir_;
  std::filesystem::path target_ = dir_ / "ckpt";
};

TEST_F(StagedDirectoryTest, RefusesExistingTargetWithoutForce) {
  std::filesystem::create_directory(target_);
  EXPECT_EQ(error_of([&] { StagedDirectory out(target_, false); }),
            "output directory '" + target_.string() + "' already exists (use --force to replace it)");
  EXPECT_THAT(listing(dir_.path()), ElementsAre("ckpt"));
}

TEST_F(StagedDirectoryTest, CommitMovesTheFilesIntoPlace) {
  {
    StagedDirectory out(target_, false);
    EXPECT_EQ(out.target(), target_);
    EXPECT_EQ(out.path().parent_path(), target_.parent_path());
    EXPECT_THAT(out.path().filename().string(), StartsWith(".ckpt.partial-"));
    write_file_atomic(out.path() / "config.json", "{}\n");
    io_test::write_bytes(out.path() / "model.safetensors", "weights");
    EXPECT_FALSE(std::filesystem::exists(target_));
    out.commit();
  }
  EXPECT_THAT(listing(dir_.path()), ElementsAre("ckpt"));
  EXPECT_THAT(listing(target_), ElementsAre("config.json", "model.safetensors"));
  EXPECT_EQ(read_bytes(target_ / "config.json"), "{}\n");
}

TEST_F(StagedDirectoryTest, CreatesMissingParents) {
  const auto deep = dir_ / "a" / "b" / "ckpt";
  StagedDirectory out(deep, false);
  out.commit();
  EXPECT_TRUE(std::filesystem::is_directory(deep));
  EXPECT_THAT(listing(dir_ / "a" / "b"), ElementsAre("ckpt"));
}

TEST_F(StagedDirectoryTest, TrailingSlashNamesTheDirectory) {
  StagedDirectory out(target_.string() + "/", false);
  EXPECT_THAT(out.path().filename().string(), StartsWith(".ckpt.partial-"));
  out.commit();
  EXPECT_THAT(listing(dir_.path()), ElementsAre("ckpt"));
}

TEST_F(StagedDirectoryTest, DestructorWithoutCommitLeavesNothing) {
  io_test::write_bytes(dir_ / "unrelated.txt", "keep");
  const auto before = listing(dir_.path());
  {
    StagedDirectory out(target_, false);
    io_test::write_bytes(out.path() / "model.safetensors", "half-written");
    EXPECT_EQ(listing(dir_.path()).size(), before.size() + 1);  // the hidden staging directory
  }
  EXPECT_EQ(listing(dir_.path()), before);
}

TEST_F(StagedDirectoryTest, RemovesAStaleStagingDirectory) {
  const auto stale = dir_ / (".ckpt.partial-" + std::to_string(::getpid()));
  std::filesystem::create_directory(stale);
  io_test::write_bytes(stale / "old.safetensors", "stale");
  StagedDirectory out(target_, false);
  EXPECT_TRUE(listing(out.path()).empty());
}

TEST_F(StagedDirectoryTest, OverwriteReplacesTheTarget) {
  std::filesystem::create_directory(target_);
  io_test::write_bytes(target_ / "old.txt", "old");
  {
    StagedDirectory out(target_, true);
    io_test::write_bytes(out.path() / "new.txt", "new");
    EXPECT_TRUE(std::filesystem::exists(target_ / "old.txt"));  // untouched until commit
    out.commit();
  }
  EXPECT_THAT(listing(target_), ElementsAre("new.txt"));
  EXPECT_THAT(listing(dir_.path()), ElementsAre("ckpt"));  // no trash or staging left behind
}

TEST_F(StagedDirectoryTest, UnwritableLocations) {
  io_test::write_bytes(dir_ / "file", "a regular file");
  const auto under_file = dir_ / "file" / "ckpt";
  EXPECT_THAT(error_of([&] { StagedDirectory out(under_file, false); }),
              StartsWith("cannot create output directory '" + under_file.string() + "': "));
  // /proc refuses new entries even to root, unlike a chmod-ed directory.
  const std::filesystem::path in_proc = "/proc/slidesparse-io-test-ckpt";
  const std::string message = error_of([&] { StagedDirectory out(in_proc, false); });
  EXPECT_THAT(message, StartsWith("cannot create output directory '" + in_proc.string() + "': "));
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST_F(StagedDirectoryTest, CommitTwiceIsAnError) {
  StagedDirectory out(target_, false);
  out.commit();
  EXPECT_THAT(error_of([&] { out.commit(); }), HasSubstr("already committed"));
}

TEST(WriteFileAtomic, WritesAndReplacesWithoutLeftovers) {
  io_test::ScratchDir dir;
  const auto file = dir / "config.json";
  write_file_atomic(file, "first");
  write_file_atomic(file, "second\n");
  EXPECT_EQ(read_bytes(file), "second\n");
  EXPECT_THAT(listing(dir.path()), ElementsAre("config.json"));
  const auto nowhere = dir / "missing" / "config.json";
  EXPECT_EQ(error_of([&] { write_file_atomic(nowhere, "x"); }),
            nowhere.string() + ": cannot write: No such file or directory");
}

}  // namespace
}  // namespace slidesparse
