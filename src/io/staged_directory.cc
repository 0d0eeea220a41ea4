#include "io/staged_directory.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

#include <unistd.h>

#include "core/error.h"

namespace fs = std::filesystem;

namespace slidesparse {

namespace {

// "out/" names the directory "out": drop the empty last component a trailing slash leaves.
fs::path without_trailing_slash(const fs::path& path) {
  return path.has_filename() || !path.has_parent_path() ? path : path.parent_path();
}

// A hidden sibling of `target`, tagged with the process id so concurrent runs cannot collide.
// Resolved against the working directory so that "." and ".." targets have a real name.
fs::path sibling(const fs::path& target, std::string_view tag) {
  const fs::path absolute = without_trailing_slash(fs::absolute(target).lexically_normal());
  std::string name = absolute.filename().string();
  name.insert(0, 1, '.').append(tag).append(std::to_string(::getpid()));
  return absolute.parent_path() / name;
}

bool exists_no_follow(const fs::path& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

}  // namespace

StagedDirectory::StagedDirectory(const fs::path& target, bool overwrite)
    : target_(without_trailing_slash(target)), staging_(sibling(target, ".partial-")), overwrite_(overwrite) {
  require(overwrite || !exists_no_follow(target_),
          "output directory '" + target_.string() + "' already exists (use --force to replace it)");
  const std::string cannot = "cannot create output directory '" + target_.string() + "': ";
  std::error_code ec;
  fs::create_directories(staging_.parent_path(), ec);
  if (ec) fail(cannot + ec.message());
  fs::remove_all(staging_, ec);  // left by an earlier run of a process with our pid
  if (ec) fail(cannot + ec.message());
  if (!fs::create_directory(staging_, ec) && !ec) ec = std::make_error_code(std::errc::file_exists);
  if (ec) fail(cannot + ec.message());
}

StagedDirectory::~StagedDirectory() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);  // best effort: a destructor must not throw
}

void StagedDirectory::commit() {
  require(!committed_, "output directory '" + target_.string() + "' was already committed");
  const std::string cannot = "cannot move '" + staging_.string() + "' to '" + target_.string() + "': ";
  std::error_code ec;
  if (exists_no_follow(target_)) {
    require(overwrite_, "output directory '" + target_.string() + "' already exists (use --force to replace it)");
    // rename() cannot replace a non-empty directory, so the old one moves aside first and is put
    // back if the second rename fails.
    const fs::path trash = sibling(target_, ".trash-");
    fs::remove_all(trash, ec);
    fs::rename(target_, trash, ec);
    if (ec) fail(cannot + ec.message());
    fs::rename(staging_, target_, ec);
    if (ec) {
      std::error_code restore;
      fs::rename(trash, target_, restore);
      fail(cannot + ec.message());
    }
    committed_ = true;
    fs::remove_all(trash, ec);  // the new checkpoint is in place; a leftover trash dir is harmless
    return;
  }
  fs::rename(staging_, target_, ec);
  if (ec) fail(cannot + ec.message());
  committed_ = true;
}

void write_file_atomic(const fs::path& path, std::string_view contents) {
  const fs::path temporary = path.string() + ".tmp-" + std::to_string(::getpid());
  std::FILE* file = std::fopen(temporary.c_str(), "wbe");
  if (file == nullptr) fail(path.string() + ": cannot write: " + std::strerror(errno));
  const bool written = std::fwrite(contents.data(), 1, contents.size(), file) == contents.size() &&
                       std::fflush(file) == 0;
  const int write_errno = errno;
  const bool closed = std::fclose(file) == 0;
  const int close_errno = errno;
  std::error_code ec;
  if (!written || !closed) {
    fs::remove(temporary, ec);
    fail(path.string() + ": cannot write: " + std::strerror(written ? close_errno : write_errno));
  }
  fs::rename(temporary, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    fail(path.string() + ": cannot write: " + ec.message());
  }
}

}  // namespace slidesparse
