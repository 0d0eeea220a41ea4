#include "hub/content_hash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace slidesparse {

struct ContentHasher::State {
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  ~State() { EVP_MD_CTX_free(context); }
};

ContentHasher::ContentHasher(ContentHashKind kind, uint64_t content_size)
    : kind_(kind), content_size_(content_size), state_(std::make_unique<State>()) {
  require(state_->context != nullptr, "cannot allocate a hash context (OpenSSL)");
  reset();
}

ContentHasher::~ContentHasher() = default;

void ContentHasher::reset() {
  const EVP_MD* digest = kind_ == ContentHashKind::sha256 ? EVP_sha256() : EVP_sha1();
  require(EVP_DigestInit_ex(state_->context, digest, nullptr) == 1, "cannot initialise a hash (OpenSSL)");
  if (kind_ == ContentHashKind::git_blob_sha1) {
    const std::string header = "blob " + std::to_string(content_size_);
    update(header.c_str(), header.size() + 1);  // the terminating NUL is part of git's header
  }
}

void ContentHasher::update(const void* data, size_t size) {
  require(EVP_DigestUpdate(state_->context, data, size) == 1, "hash update failed (OpenSSL)");
}

void ContentHasher::update_from_file(const std::filesystem::path& file, uint64_t bytes) {
  std::FILE* in = std::fopen(file.c_str(), "rbe");
  if (in == nullptr) fail("cannot read '" + file.string() + "': " + std::strerror(errno));
  std::vector<char> buffer(1 << 20);
  while (bytes > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(bytes, buffer.size()));
    const size_t got = std::fread(buffer.data(), 1, want, in);
    if (got == 0) {
      std::fclose(in);
      fail("cannot read '" + file.string() + "': unexpected end of file");
    }
    update(buffer.data(), got);
    bytes -= got;
  }
  std::fclose(in);
}

std::string ContentHasher::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  require(EVP_DigestFinal_ex(state_->context, digest, &size) == 1, "hash finalisation failed (OpenSSL)");
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) hex += kHex[digest[i] >> 4], hex += kHex[digest[i] & 15];
  return hex;
}

std::string_view content_hash_name(ContentHashKind kind) {
  return kind == ContentHashKind::sha256 ? "sha256" : "git blob sha1";
}

}  // namespace slidesparse
