// `slidesparse download` through the real binary, against the loopback fake hub.
#include <gtest/gtest.h>

#include <filesystem>

#include "hub_test_fixture.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::kTinyCommit;
using testing::read_text;
using testing::run_slidesparse;

std::string last_line(const std::string& text) {
  const std::string trimmed = text.substr(0, text.find_last_not_of('\n') + 1);
  return trimmed.substr(trimmed.rfind('\n') + 1);
}

class CliDownload : public testing::HubTest {};

TEST_F(CliDownload, PrintsTheSnapshotDirectoryLastAndARerunSaysItIsCached) {
  CommandResult r = run_slidesparse({"download", "org/tiny"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, snapshot().string() + "\n");
  EXPECT_NE(r.err.find("download: org/tiny revision main is commit " + kTinyCommit +
                       ": 3 files, 0 already in the cache, 2.5 MiB to download\n"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("100%"), std::string::npos) << r.err;  // the progress bar
  EXPECT_EQ(read_text(snapshot() / "model.safetensors"),
            read_text(testing::test_data_dir() / "tiny_bitnet_bf16" / "model.safetensors"));

  r = run_slidesparse({"download", "org/tiny", "--revision", "main"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(last_line(r.out), snapshot().string());
  EXPECT_NE(r.err.find("3 files, 3 already in the cache, 0 B to download\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("download: every file was already in the cache ("), std::string::npos) << r.err;
}

TEST_F(CliDownload, OptionsSelectFilesCacheAndToken) {
  testing::FakeHubRepo gated = testing::tiny_repo();
  gated.id = "org/gated";
  gated.token = "hf_cli";
  server.add_repo(gated);
  const fs::path cache = dir / "cache";
  const CommandResult r = run_slidesparse({"download", "org/gated", "--cache-dir", cache.string(), "--include",
                                           "*.json,docs/", "--token", "hf_cli", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const fs::path snap = cache / "models--org--gated" / "snapshots" / kTinyCommit;
  EXPECT_EQ(r.out, snap.string() + "\n");
  EXPECT_EQ(testing::list_dir(snap), (std::vector<std::string>{"config.json", "docs"}));
}

TEST_F(CliDownload, ErrorsAreOneLine) {
  const auto expect_error = [](const CommandResult& r, const std::string& message) {
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "slidesparse: error: " + message + "\n");
  };
  expect_error(run_slidesparse({"download", "org/absent", "--quiet"}),
               "repository 'org/absent' not found on " + server.endpoint() +
                   " (HTTP 404; a private repository needs HF_TOKEN or --token)");
  expect_error(run_slidesparse({"download", "org/tiny", "--include", "a,,b"}),
               "slidesparse download: --include has an empty pattern");
  EXPECT_EQ(run_slidesparse({"download"}).err, "slidesparse: error: slidesparse download: missing argument REPO\n");
}

// The pipeline's task 1 takes a hub repo id: the snapshot is downloaded into the cache and linked
// as the BF16 source, then prepared and converted like the built-in model.
TEST_F(CliDownload, PipelineStartsFromAHubRepo) {
  const fs::path out = dir / "pipe";
  const CommandResult r = run_slidesparse({"pipeline", "--model", "org/tiny", "--out", out.string(), "--tasks",
                                           "1,1,0,0,0,0,0,0", "--dtypes", "int8", "--sparsities", "2:8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path source = out / "checkpoints" / "BitNet-2B-BF16";
  ASSERT_TRUE(fs::is_symlink(source));
  EXPECT_EQ(fs::canonical(source), fs::canonical(snapshot()));
  EXPECT_TRUE(fs::exists(out / "checkpoints" / "BitNet-2B-INT8" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(out / "checkpoints" / "BitNet-2B-INT8-SlideSparse-2_8" / "model.safetensors"));
  EXPECT_NE(read_text(out / "pipeline_status.json").find("\"model\": \"org/tiny\""), std::string::npos);
}

}  // namespace
}  // namespace slidesparse
