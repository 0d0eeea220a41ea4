// huggingface_hub's cache layout for one model repository, so that files we download are shared
// with (and reuse) the Python tools' cache:
//   <cache>/models--<org>--<name>/blobs/<sha256 or git blob id>      the file contents
//                                 blobs/<id>.incomplete              a download in progress
//                                 snapshots/<commit>/<rfilename>     relative symlink to the blob
//                                 refs/<revision>                    the commit the revision resolved to
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace slidesparse {

class HubRepoCache {
 public:
  HubRepoCache(const std::filesystem::path& cache_dir, const std::string& repo_id);

  const std::filesystem::path& repo_dir() const { return repo_dir_; }
  std::filesystem::path blob_path(const std::string& blob_id) const;
  std::filesystem::path incomplete_path(const std::string& blob_id) const;
  std::filesystem::path snapshot_dir(const std::string& commit) const;

  // A blob is complete once it exists with its full size: it is only ever renamed into place after
  // its hash was checked.
  bool has_blob(const std::string& blob_id, uint64_t size) const;
  // True when snapshots/<commit>/<rfilename> already links to the blob.
  bool is_linked(const std::string& commit, const std::string& rfilename, const std::string& blob_id) const;
  // Creates blobs/ (the snapshot folder appears with its first verified file); throws Error naming
  // the folder when it cannot.
  void create_blob_folder() const;
  // Points snapshots/<commit>/<rfilename> at the blob (relative symlink, replaced atomically).
  void link_snapshot_file(const std::string& commit, const std::string& rfilename, const std::string& blob_id) const;

  std::optional<std::string> read_ref(const std::string& revision) const;
  void write_ref(const std::string& revision, const std::string& commit) const;

 private:
  std::filesystem::path repo_dir_;
};

// "org/name" -> "models--org--name".
std::string hub_repo_folder_name(const std::string& repo_id);

}  // namespace slidesparse
