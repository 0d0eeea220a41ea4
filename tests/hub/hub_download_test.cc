// download_snapshot() against the loopback fake hub: cache layout, hashes, resume, faults, errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "hub/hub_download.h"
#include "hub_test_fixture.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;
using testing::FakeHubRepo;
using testing::FakeHubRequest;
using testing::FakeHubServer;
using testing::kConfigBlobId;
using testing::kEmptyBlobId;
using testing::kModelSha256;
using testing::kModelSize;
using testing::kTinyCommit;
using testing::list_dir;
using testing::read_text;
using testing::test_data_dir;

const fs::path kTiny = test_data_dir() / "tiny_bitnet_bf16";

HubDownloadOptions tiny_options() {
  HubDownloadOptions o;
  o.repo = "org/tiny";
  o.quiet = true;
  return o;
}

std::string download_error(const HubDownloadOptions& options) {
  try {
    download_snapshot(options);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

std::vector<std::string> file_requests(const FakeHubServer& server) {
  std::vector<std::string> out;
  for (const auto& r : server.requests())
    if (!r.target.starts_with("/api/")) out.push_back(r.target + " [" + r.range + "] " + std::to_string(r.status));
  return out;
}

class HubDownload : public testing::HubTest {
 protected:
  // The snapshot holds exactly the tiny checkpoint, each file a relative link to its verified blob.
  void expect_complete_snapshot(const fs::path& got) {
    ASSERT_EQ(got, snapshot());
    EXPECT_EQ(list_dir(got), (std::vector<std::string>{"config.json", "docs", "model.safetensors"}));
    EXPECT_EQ(fs::read_symlink(got / "model.safetensors"), fs::path("../../blobs") / kModelSha256);
    EXPECT_EQ(fs::read_symlink(got / "config.json"), fs::path("../../blobs") / kConfigBlobId);
    EXPECT_EQ(fs::read_symlink(got / "docs/notes/empty.txt"), fs::path("../../../../blobs") / kEmptyBlobId);
    EXPECT_EQ(read_text(got / "model.safetensors"), read_text(kTiny / "model.safetensors"));
    EXPECT_EQ(read_text(got / "config.json"), read_text(kTiny / "config.json"));
    EXPECT_EQ(fs::file_size(got / "docs/notes/empty.txt"), 0u);
    EXPECT_EQ(list_dir(repo_cache() / "blobs"), (std::vector<std::string>{kModelSha256, kEmptyBlobId, kConfigBlobId}));
    EXPECT_EQ(list_dir(repo_cache()), (std::vector<std::string>{"blobs", "refs", "snapshots"}));
    EXPECT_EQ(read_text(repo_cache() / "refs" / "main"), kTinyCommit);
  }
};

TEST_F(HubDownload, FetchesTheSnapshotIntoHuggingfaceHubsCacheLayout) {
  expect_complete_snapshot(download_snapshot(tiny_options()));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].target, "/api/models/org/tiny/revision/main?blobs=true");
  EXPECT_EQ(requests[1].target, "/org/tiny/resolve/" + kTinyCommit + "/config.json");
  EXPECT_EQ(requests[2].target, "/org/tiny/resolve/" + kTinyCommit + "/model.safetensors");
  EXPECT_EQ(requests[3].target, "/org/tiny/resolve/" + kTinyCommit + "/docs/notes/empty.txt");
  for (const auto& r : requests) EXPECT_EQ(r.authorization, "") << r.target;  // anonymous without a token
}

TEST_F(HubDownload, ARerunDownloadsNothing) {
  download_snapshot(tiny_options());
  const size_t first = server.requests().size();
  expect_complete_snapshot(download_snapshot(tiny_options()));
  ASSERT_EQ(server.requests().size(), first + 1);  // only the revision lookup
  EXPECT_EQ(server.requests().back().target, "/api/models/org/tiny/revision/main?blobs=true");
}

TEST_F(HubDownload, ACutTransferResumesWithARangedRequest) {
  server.cut_transfer("model.safetensors", 1000000);
  expect_complete_snapshot(download_snapshot(tiny_options()));
  const std::string model = "/org/tiny/resolve/" + kTinyCommit + "/model.safetensors";
  const auto files = file_requests(server);
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[1], model + " [] 200");
  EXPECT_EQ(files[2], model + " [bytes=1000000-] 206");
}

TEST_F(HubDownload, RepeatedCutsAllResume) {
  server.cut_transfer("model.safetensors", 700000, 3);
  expect_complete_snapshot(download_snapshot(tiny_options()));
  const std::string model = "/org/tiny/resolve/" + kTinyCommit + "/model.safetensors";
  const auto files = file_requests(server);
  ASSERT_EQ(files.size(), 6u);
  EXPECT_EQ(files[2], model + " [bytes=700000-] 206");
  EXPECT_EQ(files[3], model + " [bytes=1400000-] 206");
  EXPECT_EQ(files[4], model + " [bytes=2100000-] 206");
}

TEST_F(HubDownload, ContinuesThePartialFileAnInterruptedRunLeft) {
  fs::create_directories(repo_cache() / "blobs");
  testing::write_bytes(repo_cache() / "blobs" / (kModelSha256 + ".incomplete"),
                       read_text(kTiny / "model.safetensors").substr(0, 123457));
  expect_complete_snapshot(download_snapshot(tiny_options()));
  EXPECT_EQ(file_requests(server)[1], "/org/tiny/resolve/" + kTinyCommit + "/model.safetensors [bytes=123457-] 206");
}

TEST_F(HubDownload, AFullPartialFileIsCheckedWithoutARequest) {
  fs::create_directories(repo_cache() / "blobs");
  testing::write_bytes(repo_cache() / "blobs" / (kModelSha256 + ".incomplete"), read_text(kTiny / "model.safetensors"));
  expect_complete_snapshot(download_snapshot(tiny_options()));
  const auto files = file_requests(server);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], "/org/tiny/resolve/" + kTinyCommit + "/config.json [] 200");
  EXPECT_EQ(files[1], "/org/tiny/resolve/" + kTinyCommit + "/docs/notes/empty.txt [] 200");
}

TEST_F(HubDownload, AServerIgnoringRangesStillYieldsTheRightFile) {
  server.ignore_ranges();
  fs::create_directories(repo_cache() / "blobs");
  testing::write_bytes(repo_cache() / "blobs" / (kModelSha256 + ".incomplete"),
                       read_text(kTiny / "model.safetensors").substr(0, 5000));
  expect_complete_snapshot(download_snapshot(tiny_options()));
  EXPECT_EQ(file_requests(server)[1], "/org/tiny/resolve/" + kTinyCommit + "/model.safetensors [bytes=5000-] 200");
}

TEST_F(HubDownload, ACorruptPartialFileIsFetchedAgainWhole) {
  fs::create_directories(repo_cache() / "blobs");
  testing::write_bytes(repo_cache() / "blobs" / (kModelSha256 + ".incomplete"), std::string(5000, 'x'));
  expect_complete_snapshot(download_snapshot(tiny_options()));
  const auto files = file_requests(server);
  const std::string model = "/org/tiny/resolve/" + kTinyCommit + "/model.safetensors";
  EXPECT_EQ(files[1], model + " [bytes=5000-] 206");
  EXPECT_EQ(files[2], model + " [] 200");
}

TEST_F(HubDownload, AWrongPublishedChecksumFailsAndLeavesNothingBehind) {
  FakeHubRepo repo = testing::tiny_repo();
  repo.id = "org/bad";
  repo.published_hash["model.safetensors"] = std::string(64, 'a');
  server.add_repo(repo);
  HubDownloadOptions o = tiny_options();
  o.repo = "org/bad";
  EXPECT_EQ(download_error(o), "'model.safetensors': sha256 mismatch: expected " + std::string(64, 'a') + ", got " +
                                   kModelSha256 + " (the download was deleted)");
  const fs::path cache = dir / "hf" / "hub" / "models--org--bad";
  EXPECT_EQ(list_dir(cache / "blobs"), std::vector<std::string>{kConfigBlobId});  // fetched before the bad one
  EXPECT_FALSE(fs::exists(cache / "snapshots"));
  EXPECT_FALSE(fs::exists(cache / "refs"));
}

TEST_F(HubDownload, AWrongGitBlobIdNamesTheFileAndBothHashes) {
  FakeHubRepo repo = testing::tiny_repo();
  repo.id = "org/bad";
  repo.published_hash["config.json"] = std::string(40, '0');
  server.add_repo(repo);
  HubDownloadOptions o = tiny_options();
  o.repo = "org/bad";
  EXPECT_EQ(download_error(o), "'config.json': git blob sha1 mismatch: expected " + std::string(40, '0') + ", got " +
                                   kConfigBlobId + " (the download was deleted)");
  EXPECT_TRUE(list_dir(dir / "hf" / "hub" / "models--org--bad" / "blobs").empty());
}

TEST_F(HubDownload, NotFoundNamesTheRepositoryRevisionOrFile) {
  HubDownloadOptions o = tiny_options();
  o.repo = "org/absent";
  EXPECT_EQ(download_error(o), "repository 'org/absent' not found on " + server.endpoint() +
                                   " (HTTP 404; a private repository needs HF_TOKEN or --token)");
  o = tiny_options();
  o.revision = "v9";
  EXPECT_EQ(download_error(o), "revision 'v9' not found in repository 'org/tiny' on " + server.endpoint() +
                                   " (HTTP 404)");
  FakeHubRepo repo = testing::tiny_repo();
  repo.id = "org/holes";
  repo.missing = {"config.json"};
  server.add_repo(repo);
  o = tiny_options();
  o.repo = "org/holes";
  EXPECT_EQ(download_error(o), "file 'config.json' not found in repository 'org/holes' at commit " + kTinyCommit +
                                   " on " + server.endpoint() + " (HTTP 404)");
}

TEST_F(HubDownload, AGatedRepositoryNeedsTheRightToken) {
  FakeHubRepo repo = testing::tiny_repo();
  repo.id = "org/gated";
  repo.token = "hf_secret";
  server.add_repo(repo);
  HubDownloadOptions o = tiny_options();
  o.repo = "org/gated";
  EXPECT_EQ(download_error(o), "access to repository 'org/gated' denied by " + server.endpoint() +
                                   " (HTTP 401): it is gated or private; request access on its page and set "
                                   "HF_TOKEN (or pass --token)");
  ::setenv("HF_TOKEN", "hf_wrong", 1);
  EXPECT_EQ(download_error(o), "access to repository 'org/gated' denied by " + server.endpoint() +
                                   " (HTTP 401): it is gated or private; the token given has no access to it "
                                   "(request access on its page, check HF_TOKEN or --token)");
  o.token = "hf_secret";  // --token wins over HF_TOKEN
  EXPECT_EQ(download_snapshot(o), dir / "hf" / "hub" / "models--org--gated" / "snapshots" / kTinyCommit);
  for (const auto& r : server.requests()) {
    if (r.status == 200) {
      EXPECT_EQ(r.authorization, "Bearer hf_secret") << r.target;
    }
  }
}

TEST_F(HubDownload, TheTokenComesFromHfTokenElseTheTokenFile) {
  FakeHubRepo repo = testing::tiny_repo();
  repo.id = "org/gated";
  repo.token = "hf_secret";
  server.add_repo(repo);
  HubDownloadOptions o = tiny_options();
  o.repo = "org/gated";
  o.include = {"config.json"};
  fs::create_directories(dir / "hf");
  testing::write_bytes(dir / "hf" / "token", "hf_secret\n");  // as `huggingface-cli login` stores it
  EXPECT_EQ(download_snapshot(o).filename(), kTinyCommit);
  ::setenv("HF_TOKEN", "hf_wrong", 1);  // HF_TOKEN takes precedence over the file
  EXPECT_NE(download_error(o).find("the token given has no access"), std::string::npos);
}

TEST_F(HubDownload, RedirectsAreFollowedAndTheTokenStaysWithTheHub) {
  FakeHubServer cdn;
  FakeHubRepo repo = testing::tiny_repo();
  repo.token = "hf_secret";
  repo.id = "org/gated";
  server.add_repo(repo);
  cdn.add_repo(repo);
  server.redirect_files_to(cdn.endpoint());
  HubDownloadOptions o = tiny_options();
  o.repo = "org/gated";
  o.token = "hf_secret";
  const fs::path got = download_snapshot(o);
  EXPECT_EQ(read_text(got / "model.safetensors"), read_text(kTiny / "model.safetensors"));
  for (const auto& r : server.requests()) EXPECT_EQ(r.authorization, "Bearer hf_secret") << r.target;
  const auto cdn_requests = cdn.requests();
  ASSERT_EQ(cdn_requests.size(), 3u);
  EXPECT_EQ(cdn_requests[1].target, "/cdn/" + kModelSha256);
  for (const auto& r : cdn_requests) EXPECT_EQ(r.authorization, "") << r.target;
}

TEST_F(HubDownload, ARedirectToAnotherPathOnTheSameHostWorksWithResume) {
  server.redirect_files_to(server.endpoint());
  server.cut_transfer("model.safetensors", 4096);
  expect_complete_snapshot(download_snapshot(tiny_options()));
  const auto files = file_requests(server);
  EXPECT_EQ(files[2], "/org/tiny/resolve/" + kTinyCommit + "/model.safetensors [] 302");
  EXPECT_EQ(files[3], "/cdn/" + kModelSha256 + " [] 200");
  EXPECT_EQ(files[5], "/cdn/" + kModelSha256 + " [bytes=4096-] 206");
}

TEST_F(HubDownload, IncludeSelectsFiles) {
  HubDownloadOptions o = tiny_options();
  o.include = {"*.json"};
  const fs::path got = download_snapshot(o);
  EXPECT_EQ(list_dir(got), std::vector<std::string>{"config.json"});
  o.include = {"*.bin"};
  EXPECT_EQ(download_error(o), "no file of 'org/tiny' matches --include *.bin");
}

TEST_F(HubDownload, ConnectionFailuresNameTheEndpoint) {
  const std::string refused = testing::refused_endpoint();
  ::setenv("HF_ENDPOINT", (refused + "/").c_str(), 1);  // a trailing slash is dropped
  const std::string error = download_error(tiny_options());
  EXPECT_EQ(error.rfind("cannot connect to the hub at " + refused + ": ", 0), 0u) << error;
  EXPECT_TRUE(error.ends_with(" (check HF_ENDPOINT and the network, or set HF_HUB_OFFLINE=1 to use the cache)"))
      << error;
}

TEST_F(HubDownload, AStalledHubTimesOut) {
  FakeHubServer stalled;
  stalled.stall();
  ::setenv("HF_ENDPOINT", stalled.endpoint().c_str(), 1);
  ::setenv("HF_HUB_DOWNLOAD_TIMEOUT", "1", 1);
  const std::string error = download_error(tiny_options());
  EXPECT_EQ(error.rfind("the hub at " + stalled.endpoint() + " timed out: ", 0), 0u) << error;
  EXPECT_TRUE(error.ends_with(" (HF_HUB_DOWNLOAD_TIMEOUT sets the limit in seconds)")) << error;
  ::setenv("HF_HUB_DOWNLOAD_TIMEOUT", "soon", 1);
  EXPECT_EQ(download_error(tiny_options()), "HF_HUB_DOWNLOAD_TIMEOUT='soon' is not a positive number of seconds");
}

TEST_F(HubDownload, OfflineModeResolvesFromTheCacheOnly) {
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  EXPECT_EQ(download_error(tiny_options()), "HF_HUB_OFFLINE is set and revision 'main' of 'org/tiny' is not in the "
                                            "cache at " + repo_cache().string());
  ::unsetenv("HF_HUB_OFFLINE");
  download_snapshot(tiny_options());
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  ::setenv("HF_ENDPOINT", testing::refused_endpoint().c_str(), 1);
  expect_complete_snapshot(download_snapshot(tiny_options()));
  HubDownloadOptions by_commit = tiny_options();
  by_commit.revision = kTinyCommit;
  EXPECT_EQ(download_snapshot(by_commit), snapshot());
}

TEST_F(HubDownload, ACommitRevisionWritesNoRef) {
  HubDownloadOptions o = tiny_options();
  o.revision = kTinyCommit;
  EXPECT_EQ(download_snapshot(o), snapshot());
  EXPECT_FALSE(fs::exists(repo_cache() / "refs"));
}

TEST_F(HubDownload, AnExplicitCacheDirIsUsed) {
  HubDownloadOptions o = tiny_options();
  o.cache_dir = dir / "elsewhere";
  EXPECT_EQ(download_snapshot(o), dir / "elsewhere" / "models--org--tiny" / "snapshots" / kTinyCommit);
  ::setenv("HF_HUB_CACHE", (dir / "hub-cache").c_str(), 1);
  EXPECT_EQ(download_snapshot(tiny_options()), dir / "hub-cache" / "models--org--tiny" / "snapshots" / kTinyCommit);
}

TEST_F(HubDownload, AnUnwritableCacheFailsWithOneLine) {
  testing::write_bytes(dir / "plain-file", "x");
  HubDownloadOptions o = tiny_options();
  o.cache_dir = dir / "plain-file" / "cache";
  EXPECT_EQ(download_error(o), "cannot create cache folder '" + (dir / "plain-file/cache/models--org--tiny/blobs").string() +
                                   "': Not a directory");
}

TEST_F(HubDownload, RepoIdsAreValidated) {
  HubDownloadOptions o = tiny_options();
  o.repo = "no-slash";
  EXPECT_EQ(download_error(o), "invalid hub repository id 'no-slash' (expected org/name)");
  o.repo = "org/../x";
  EXPECT_EQ(download_error(o), "invalid hub repository id 'org/../x' (expected org/name)");
}

TEST(LooksLikeHubRepoId, OrgSlashNameThatIsNotALocalPath) {
  EXPECT_TRUE(looks_like_hub_repo_id("microsoft/bitnet-b1.58-2B-4T-bf16"));
  EXPECT_TRUE(looks_like_hub_repo_id("org_1/Name.v2"));
  EXPECT_FALSE(looks_like_hub_repo_id("bitnet"));
  EXPECT_FALSE(looks_like_hub_repo_id("a/b/c"));
  EXPECT_FALSE(looks_like_hub_repo_id("/abs/path"));
  EXPECT_FALSE(looks_like_hub_repo_id("./x"));
  EXPECT_FALSE(looks_like_hub_repo_id("org/-name"));
  EXPECT_FALSE(looks_like_hub_repo_id("org/na--me"));
  EXPECT_FALSE(looks_like_hub_repo_id("org/name."));
  testing::ScratchDir dir;
  fs::create_directories(dir / "org" / "name");
  const fs::path previous = fs::current_path();
  fs::current_path(dir.path());
  EXPECT_FALSE(looks_like_hub_repo_id("org/name"));  // an existing local directory wins
  fs::current_path(previous);
}

}  // namespace
}  // namespace slidesparse
