#include "hub/hub_cache.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <system_error>

#include "core/error.h"
#include "io/staged_directory.h"

namespace fs = std::filesystem;

namespace slidesparse {

namespace {

void create_directories_or_fail(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create cache folder '" + dir.string() + "': " + ec.message());
}

}  // namespace

std::string hub_repo_folder_name(const std::string& repo_id) {
  std::string name = "models--";
  for (const char c : repo_id) {
    if (c == '/') name += "--";
    else name += c;
  }
  return name;
}

HubRepoCache::HubRepoCache(const fs::path& cache_dir, const std::string& repo_id)
    : repo_dir_(cache_dir / hub_repo_folder_name(repo_id)) {}

fs::path HubRepoCache::blob_path(const std::string& blob_id) const { return repo_dir_ / "blobs" / blob_id; }

fs::path HubRepoCache::incomplete_path(const std::string& blob_id) const {
  return repo_dir_ / "blobs" / (blob_id + ".incomplete");
}

fs::path HubRepoCache::snapshot_dir(const std::string& commit) const { return repo_dir_ / "snapshots" / commit; }

bool HubRepoCache::has_blob(const std::string& blob_id, uint64_t size) const {
  std::error_code ec;
  const fs::path blob = blob_path(blob_id);
  return fs::is_regular_file(blob, ec) && fs::file_size(blob, ec) == size && !ec;
}

bool HubRepoCache::is_linked(const std::string& commit, const std::string& rfilename,
                             const std::string& blob_id) const {
  std::error_code ec;
  const fs::path link = snapshot_dir(commit) / rfilename;
  return fs::is_symlink(link, ec) && fs::equivalent(link, blob_path(blob_id), ec) && !ec;
}

void HubRepoCache::create_blob_folder() const { create_directories_or_fail(repo_dir_ / "blobs"); }

void HubRepoCache::link_snapshot_file(const std::string& commit, const std::string& rfilename,
                                      const std::string& blob_id) const {
  const fs::path link = snapshot_dir(commit) / rfilename;
  create_directories_or_fail(link.parent_path());
  const fs::path target = fs::path(blob_path(blob_id)).lexically_relative(link.parent_path());
  // A symlink cannot be overwritten in place: create it under a temporary name, then rename.
  const fs::path temporary = link.string() + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove(temporary, ec);
  fs::create_symlink(target, temporary, ec);
  if (!ec) fs::rename(temporary, link, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    fail("cannot link '" + link.string() + "' to its blob: " + ec.message());
  }
}

std::optional<std::string> HubRepoCache::read_ref(const std::string& revision) const {
  std::ifstream in(repo_dir_ / "refs" / revision);
  if (!in) return std::nullopt;
  std::string commit;
  std::getline(in, commit);
  if (commit.empty()) return std::nullopt;
  return commit;
}

void HubRepoCache::write_ref(const std::string& revision, const std::string& commit) const {
  const fs::path ref = repo_dir_ / "refs" / revision;
  create_directories_or_fail(ref.parent_path());
  write_file_atomic(ref, commit);
}

}  // namespace slidesparse
