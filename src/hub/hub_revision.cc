#include "hub/hub_revision.h"

#include <fnmatch.h>

#include <algorithm>

#include "core/error.h"

namespace slidesparse {

namespace {

bool is_hex(const std::string& text, size_t length) {
  if (text.size() != length) return false;
  for (const char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Names become paths under snapshots/<commit>/: absolute paths, "..", "." and empty components
// would write outside it (or onto a folder), so the metadata is refused.
bool is_safe_relative_path(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string::npos) return false;
  size_t begin = 0;
  while (begin <= name.size()) {
    const size_t end = std::min(name.find('/', begin), name.size());
    const std::string part = name.substr(begin, end - begin);
    if (part.empty() || part == "." || part == "..") return false;
    begin = end + 1;
  }
  return true;
}

}  // namespace

HubRevision parse_hub_revision(const nlohmann::json& answer, const std::string& source) {
  const std::string bad = "unexpected answer from " + source + ": ";
  require(answer.is_object(), bad + "not a JSON object");
  require(answer.contains("sha") && answer["sha"].is_string() && is_hex(answer["sha"].get<std::string>(), 40),
          bad + "no 40-hex-digit commit 'sha'");
  require(answer.contains("siblings") && answer["siblings"].is_array(), bad + "no 'siblings' file list");
  HubRevision revision;
  revision.commit = answer["sha"].get<std::string>();
  for (const auto& sibling : answer["siblings"]) {
    require(sibling.is_object() && sibling.contains("rfilename") && sibling["rfilename"].is_string(),
            bad + "a file entry has no 'rfilename'");
    HubFile file;
    file.rfilename = sibling["rfilename"].get<std::string>();
    require(is_safe_relative_path(file.rfilename), bad + "refusing the unsafe file name '" + file.rfilename + "'");
    const std::string what = bad + "file '" + file.rfilename + "' ";
    if (sibling.contains("lfs") && sibling["lfs"].is_object()) {
      const auto& lfs = sibling["lfs"];
      require(lfs.contains("sha256") && lfs["sha256"].is_string() && is_hex(lfs["sha256"].get<std::string>(), 64),
              what + "has no 64-hex-digit 'lfs.sha256'");
      require(lfs.contains("size") && lfs["size"].is_number_unsigned(), what + "has no 'lfs.size'");
      file.blob_id = lfs["sha256"].get<std::string>();
      file.size = lfs["size"].get<uint64_t>();
      file.hash_kind = ContentHashKind::sha256;
    } else {
      require(sibling.contains("blobId") && sibling["blobId"].is_string() &&
                  is_hex(sibling["blobId"].get<std::string>(), 40),
              what + "has no 40-hex-digit 'blobId' (was ?blobs=true honoured?)");
      require(sibling.contains("size") && sibling["size"].is_number_unsigned(), what + "has no 'size'");
      file.blob_id = sibling["blobId"].get<std::string>();
      file.size = sibling["size"].get<uint64_t>();
      file.hash_kind = ContentHashKind::git_blob_sha1;
    }
    revision.files.push_back(std::move(file));
  }
  return revision;
}

std::vector<HubFile> select_hub_files(const std::vector<HubFile>& files, const std::vector<std::string>& include) {
  if (include.empty()) return files;
  std::vector<HubFile> selected;
  for (const auto& file : files) {
    for (std::string pattern : include) {
      if (pattern.ends_with('/')) pattern += '*';
      if (::fnmatch(pattern.c_str(), file.rfilename.c_str(), 0) == 0) {
        selected.push_back(file);
        break;
      }
    }
  }
  return selected;
}

}  // namespace slidesparse
