// A read-only memory mapping of a whole file (zero-copy tensor access).
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>

namespace slidesparse {

class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);  // throws Error "<path>: <reason>"
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

// Drops the resident pages behind `range` of a read-only mapping (they are clean file pages and
// come back from the page cache if touched again), so streaming over a large checkpoint keeps the
// process's memory near one tensor instead of the whole file.
void release_mapped_pages(std::span<const std::byte> range);

}  // namespace slidesparse
