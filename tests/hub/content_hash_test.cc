#include <gtest/gtest.h>

#include "core/error.h"
#include "hub/content_hash.h"
#include "test_support.h"

namespace slidesparse {
namespace {

std::string hash_of(ContentHashKind kind, const std::string& content) {
  ContentHasher hasher(kind, content.size());
  hasher.update(content.data(), content.size());
  return hasher.hex_digest();
}

TEST(ContentHash, Sha256MatchesTheStandardVectors) {
  EXPECT_EQ(hash_of(ContentHashKind::sha256, "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hash_of(ContentHashKind::sha256, ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ContentHash, GitBlobIdHashesTheGitHeaderToo) {
  // `printf 'hello\n' | git hash-object --stdin` and the empty blob.
  EXPECT_EQ(hash_of(ContentHashKind::git_blob_sha1, "hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
  EXPECT_EQ(hash_of(ContentHashKind::git_blob_sha1, ""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
}

TEST(ContentHash, FileResetAndPiecesGiveTheSameDigest) {
  testing::ScratchDir dir;
  testing::write_bytes(dir / "f", "hello\n");
  ContentHasher hasher(ContentHashKind::git_blob_sha1, 6);
  hasher.update("junk", 4);
  hasher.reset();
  hasher.update_from_file(dir / "f", 3);
  hasher.update("lo\n", 3);
  EXPECT_EQ(hasher.hex_digest(), "ce013625030ba8dba906f756967f9e9ca394464a");
  ContentHasher short_file(ContentHashKind::sha256, 0);
  try {
    short_file.update_from_file(dir / "f", 7);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read '" + (dir / "f").string() + "': unexpected end of file");
  }
}

}  // namespace
}  // namespace slidesparse
