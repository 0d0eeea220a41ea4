// The two content hashes the Hugging Face hub publishes per file: sha256 of the content for LFS
// files, and the git blob id (sha1 of "blob <size>\0" + content) for regular files. Incremental, so
// a download is hashed as it arrives and a resumed one only rereads what is already on disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace slidesparse {

enum class ContentHashKind { sha256, git_blob_sha1 };

class ContentHasher {
 public:
  // git_blob_sha1 needs the total content size up front (it is part of the hashed header).
  ContentHasher(ContentHashKind kind, uint64_t content_size);
  ~ContentHasher();
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;

  void update(const void* data, size_t size);
  // Feeds the first `bytes` bytes of `file`; throws Error when it cannot be read.
  void update_from_file(const std::filesystem::path& file, uint64_t bytes);
  // Forgets everything fed so far (a download restarted from byte 0).
  void reset();
  std::string hex_digest();  // lower-case hex; ends the computation
  ContentHashKind kind() const { return kind_; }

 private:
  struct State;
  ContentHashKind kind_;
  uint64_t content_size_;
  std::unique_ptr<State> state_;
};

// "sha256" or "git blob sha1": how the hash is named in error messages.
std::string_view content_hash_name(ContentHashKind kind);

}  // namespace slidesparse
