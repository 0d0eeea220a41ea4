#include "pipeline/run_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.h"

namespace slidesparse {

namespace fs = std::filesystem;

namespace {

// "<stem><marker><digits>": the pid-tagged names our atomic writers use.
bool ends_with_pid_tag(const std::string& name, const std::string& marker) {
  const size_t at = name.rfind(marker);
  if (at == std::string::npos || at + marker.size() == name.size()) return false;
  for (size_t i = at + marker.size(); i < name.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
  return true;
}

bool is_leftover(const std::string& name) {
  if (ends_with_pid_tag(name, ".tmp-")) return true;
  if (!name.starts_with(".")) return false;
  return ends_with_pid_tag(name, ".partial-") || ends_with_pid_tag(name, ".trash-") || name.ends_with(".link-tmp");
}

}  // namespace

RunDirectoryLock::RunDirectoryLock(const fs::path& out) {
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) fail("cannot create output directory '" + out.string() + "': " + ec.message());
  const fs::path file = out / ".pipeline.lock";
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(file.string() + ": cannot open: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fail(out.string() + ": another slidesparse pipeline is running there");
  }
}

RunDirectoryLock::~RunDirectoryLock() { ::close(fd_); }

std::vector<fs::path> remove_leftovers(const fs::path& out) {
  std::vector<fs::path> found;
  std::error_code ec;
  // Not into symlinks: the BF16 link may point at a hub cache or a user's directory.
  for (auto it = fs::recursive_directory_iterator(out, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (is_leftover(it->path().filename().string())) {
      found.push_back(it->path());
      if (it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
    }
  }
  for (const fs::path& path : found) {
    fs::remove_all(path, ec);
    if (ec) fail("cannot remove '" + path.string() + "' left by an interrupted run: " + ec.message());
  }
  return found;
}

}  // namespace slidesparse
