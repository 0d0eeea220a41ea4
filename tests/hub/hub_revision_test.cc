#include <gtest/gtest.h>

#include "core/error.h"
#include "hub/hub_revision.h"

namespace slidesparse {
namespace {

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kSha256 = "39b14dd73145c516d95a3860140b4cf1813bcb3df6c432d9f573fe4605546619";

// The shape of the hub's /api/models/{repo}/revision/{rev}?blobs=true answer.
nlohmann::json answer() {
  return nlohmann::json::parse(R"({"_id":"x","id":"org/name","sha":")" + kCommit + R"(","siblings":[
    {"rfilename":"config.json","size":657,"blobId":"e7eba5e65f05f296addce291ecb482daa067d72e"},
    {"rfilename":"model.safetensors","size":134,"blobId":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
     "lfs":{"sha256":")" + kSha256 + R"(","size":2629648,"pointerSize":134}},
    {"rfilename":"sub/dir/notes.md","size":0,"blobId":"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"}]})");
}

std::string error_of(const nlohmann::json& j) {
  try {
    parse_hub_revision(j, "URL");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(HubRevision, ParsesCommitSizesAndHashes) {
  const HubRevision r = parse_hub_revision(answer(), "URL");
  EXPECT_EQ(r.commit, kCommit);
  ASSERT_EQ(r.files.size(), 3u);
  EXPECT_EQ(r.files[0].rfilename, "config.json");
  EXPECT_EQ(r.files[0].size, 657u);
  EXPECT_EQ(r.files[0].blob_id, "e7eba5e65f05f296addce291ecb482daa067d72e");
  EXPECT_EQ(r.files[0].hash_kind, ContentHashKind::git_blob_sha1);
  // LFS: the object's size and sha256, not the pointer's.
  EXPECT_EQ(r.files[1].size, 2629648u);
  EXPECT_EQ(r.files[1].blob_id, kSha256);
  EXPECT_EQ(r.files[1].hash_kind, ContentHashKind::sha256);
  EXPECT_EQ(r.files[2].rfilename, "sub/dir/notes.md");
  EXPECT_EQ(r.files[2].size, 0u);
}

TEST(HubRevision, RejectsAnswersItCannotTrust) {
  auto j = answer();
  j.erase("sha");
  EXPECT_EQ(error_of(j), "unexpected answer from URL: no 40-hex-digit commit 'sha'");
  j = answer();
  j.erase("siblings");
  EXPECT_EQ(error_of(j), "unexpected answer from URL: no 'siblings' file list");
  j = answer();
  j["siblings"][0].erase("blobId");
  EXPECT_EQ(error_of(j),
            "unexpected answer from URL: file 'config.json' has no 40-hex-digit 'blobId' (was ?blobs=true honoured?)");
  j = answer();
  j["siblings"][1]["lfs"]["sha256"] = "abc";
  EXPECT_EQ(error_of(j), "unexpected answer from URL: file 'model.safetensors' has no 64-hex-digit 'lfs.sha256'");
  for (const std::string name : {"../escape", "/abs", "a//b", "a/./b", "a/..", ""}) {
    j = answer();
    j["siblings"][0]["rfilename"] = name;
    EXPECT_EQ(error_of(j), "unexpected answer from URL: refusing the unsafe file name '" + name + "'");
  }
}

std::vector<std::string> names(const std::vector<HubFile>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.rfilename);
  return out;
}

TEST(HubRevision, IncludePatternsSelectLikeHuggingfaceHub) {
  const auto files = parse_hub_revision(answer(), "URL").files;
  EXPECT_EQ(names(select_hub_files(files, {})).size(), 3u);
  EXPECT_EQ(names(select_hub_files(files, {"*.json"})), std::vector<std::string>{"config.json"});
  EXPECT_EQ(names(select_hub_files(files, {"*.md"})), std::vector<std::string>{"sub/dir/notes.md"});  // '*' spans '/'
  EXPECT_EQ(names(select_hub_files(files, {"sub/"})), std::vector<std::string>{"sub/dir/notes.md"});
  EXPECT_EQ(names(select_hub_files(files, {"*.safetensors", "config.json"})),
            (std::vector<std::string>{"config.json", "model.safetensors"}));
  EXPECT_TRUE(select_hub_files(files, {"*.bin"}).empty());
}

}  // namespace
}  // namespace slidesparse
