// `slidesparse download`: a snapshot of a Hugging Face hub model repository in huggingface_hub's
// cache layout (see hub_cache.h), like huggingface_hub.snapshot_download: resumable ranged
// downloads, every file checked against the hub's sha256 / git blob id before it appears in the
// snapshot, HF_ENDPOINT / HF_TOKEN / HF_HOME / HF_HUB_CACHE / HF_HUB_OFFLINE honoured.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace slidesparse {

struct HubDownloadOptions {
  std::string repo;                    // "org/name"
  std::string revision = "main";       // branch, tag or commit
  std::filesystem::path cache_dir;     // empty: HF_HUB_CACHE, else $HF_HOME/hub
  std::vector<std::string> include;    // glob patterns; empty: every file
  std::string token;                   // empty: HF_TOKEN, else $HF_HOME/token
  bool quiet = false;                  // no progress output on stderr
};

// Returns the snapshot directory (<cache>/models--org--name/snapshots/<commit>). Throws Error with
// one line for every failure (access, not found, network, integrity, disk).
std::filesystem::path download_snapshot(const HubDownloadOptions& options);

// "org/name" with hub-valid characters that is not an existing local path.
bool looks_like_hub_repo_id(const std::string& s);

}  // namespace slidesparse
