// Atomic output directories: everything is written into a hidden sibling staging directory that is
// renamed onto the target only when complete, so a failure or interruption never leaves a
// half-written checkpoint under the target name.
#pragma once

#include <filesystem>
#include <string_view>

namespace slidesparse {

class StagedDirectory {
 public:
  // Throws Error if `target` exists and !overwrite ("output directory '<t>' already exists (use
  // --force to replace it)"), or the parent cannot be created or written.
  StagedDirectory(const std::filesystem::path& target, bool overwrite);
  ~StagedDirectory();  // removes the staging directory unless committed
  StagedDirectory(const StagedDirectory&) = delete;
  StagedDirectory& operator=(const StagedDirectory&) = delete;

  const std::filesystem::path& path() const { return staging_; }  // write files here
  const std::filesystem::path& target() const { return target_; }
  // Renames staging onto target (an existing target is replaced when overwrite was given).
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path staging_;
  bool overwrite_ = false;
  bool committed_ = false;
};

// Writes a small text file atomically (temporary file in the same directory, then rename).
void write_file_atomic(const std::filesystem::path& path, std::string_view contents);

}  // namespace slidesparse
