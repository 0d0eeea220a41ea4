// The pipeline's OUT directory between invocations: one pipeline at a time, and what a killed run
// left behind removed before resuming.
#pragma once

#include <filesystem>
#include <vector>

namespace slidesparse {

// Holds an exclusive lock on OUT/.pipeline.lock for its lifetime (released by the kernel even after
// kill -9). Throws Error "<out>: another slidesparse pipeline is running there" when taken.
class RunDirectoryLock {
 public:
  explicit RunDirectoryLock(const std::filesystem::path& out);
  ~RunDirectoryLock();
  RunDirectoryLock(const RunDirectoryLock&) = delete;
  RunDirectoryLock& operator=(const RunDirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

// Removes what an interrupted writer leaves under `out`: StagedDirectory's hidden ".<name>.partial-<pid>"
// and ".<name>.trash-<pid>" directories, write_file_atomic's "<file>.tmp-<pid>" files and our own
// ".<name>.link-tmp" links. Returns the removed paths.
std::vector<std::filesystem::path> remove_leftovers(const std::filesystem::path& out);

}  // namespace slidesparse
