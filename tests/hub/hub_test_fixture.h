// Shared setup for the download tests: a fake hub on loopback serving the tiny BitNet checkpoint as
// "org/tiny", HF_HOME and HF_ENDPOINT pointing at a scratch folder and that server.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "fake_hub_server.h"
#include "test_support.h"

namespace slidesparse::testing {

inline const std::string kTinyCommit = "c0ffee0123456789abcdef0123456789abcdef01";
// sha256sum / git hash-object of tests/data/tiny_bitnet_bf16/*, and git's empty blob.
inline const std::string kModelSha256 = "39b14dd73145c516d95a3860140b4cf1813bcb3df6c432d9f573fe4605546619";
inline const std::string kConfigBlobId = "e7eba5e65f05f296addce291ecb482daa067d72e";
inline const std::string kEmptyBlobId = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";
inline constexpr size_t kModelSize = 2629648;

inline FakeHubRepo tiny_repo() {
  const std::filesystem::path data = test_data_dir() / "tiny_bitnet_bf16";
  FakeHubRepo repo;
  repo.id = "org/tiny";
  repo.commit = kTinyCommit;
  repo.files = {{"config.json", read_text(data / "config.json"), false},
                {"model.safetensors", read_text(data / "model.safetensors"), true},
                {"docs/notes/empty.txt", "", false}};
  return repo;
}

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"HF_TOKEN", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "HF_HUB_DOWNLOAD_TIMEOUT", "XDG_CACHE_HOME"})
      ::unsetenv(name);
    ::setenv("HF_HOME", (dir / "hf").c_str(), 1);
    ::setenv("HF_ENDPOINT", server.endpoint().c_str(), 1);
    server.add_repo(tiny_repo());
  }
  std::filesystem::path repo_cache() const { return dir / "hf" / "hub" / "models--org--tiny"; }
  std::filesystem::path snapshot() const { return repo_cache() / "snapshots" / kTinyCommit; }

  ScratchDir dir;
  FakeHubServer server;
};

}  // namespace slidesparse::testing
