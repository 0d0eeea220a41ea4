// One revision of a hub repository as the hub's API describes it
// (GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true): the commit it resolves to and its
// files with sizes and content hashes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hub/content_hash.h"

namespace slidesparse {

struct HubFile {
  std::string rfilename;  // path inside the repository
  uint64_t size = 0;      // content size (the LFS object's size for LFS files)
  std::string blob_id;    // cache blob name: the LFS sha256, else the git blob id
  ContentHashKind hash_kind = ContentHashKind::git_blob_sha1;
};

struct HubRevision {
  std::string commit;
  std::vector<HubFile> files;
};

// Throws Error naming `source` (the URL) when the answer lacks the fields we rely on, and for file
// names that would escape the snapshot folder.
HubRevision parse_hub_revision(const nlohmann::json& answer, const std::string& source);

// huggingface_hub's allow_patterns: fnmatch globs where '*' also matches '/', and a pattern
// ending in '/' matches everything below that folder. No patterns: every file.
std::vector<HubFile> select_hub_files(const std::vector<HubFile>& files, const std::vector<std::string>& include);

}  // namespace slidesparse
