#include "hub/blob_download.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <thread>

#include "core/error.h"

namespace fs = std::filesystem;

namespace slidesparse {

namespace {

constexpr int kAttempts = 5;

uint64_t existing_size(const fs::path& file) {
  std::error_code ec;
  const uint64_t size = fs::file_size(file, ec);
  return ec ? 0 : size;
}

[[noreturn]] void fail_write(const fs::path& file, int error) {
  fail("cannot write '" + file.string() + "': " + std::strerror(error));
}

// "bytes 100-199/200" -> 100; anything else -> -1.
long long content_range_start(const HttpResponse& response) {
  const auto it = response.headers.find("content-range");
  if (it == response.headers.end() || !it->second.starts_with("bytes ")) return -1;
  char* end = nullptr;
  const long long start = std::strtoll(it->second.c_str() + 6, &end, 10);
  return end != it->second.c_str() + 6 && *end == '-' ? start : -1;
}

bool retryable_status(long status) { return status == 429 || (status >= 500 && status <= 599); }

// Appends the rest of `file` to `partial` (already `have` bytes, fed to `hasher`), retrying broken
// transfers. Returns when the partial file holds exactly file.size bytes.
void fetch_into(HttpClient& http, const BlobRequest& request, const HubFile& file, const fs::path& partial,
                uint64_t have, ContentHasher& hasher, ByteProgressBar* progress) {
  std::FILE* out = std::fopen(partial.c_str(), "abe");
  if (out == nullptr) fail_write(partial, errno);
  const auto close_out = [&](bool check) {
    const bool ok = std::fclose(out) == 0;
    out = nullptr;
    if (check && !ok) fail_write(partial, errno);
  };
  try {
    int failures = 0;
    // A zero-byte file still takes one request (to learn that it exists); a full partial file
    // left by an earlier run takes none.
    while (have < file.size || file.size == 0) {
      std::vector<std::string> headers = request.headers;
      if (have > 0) headers.push_back("Range: bytes=" + std::to_string(have) + "-");
      int write_error = 0;
      bool misplaced_range = false;
      HttpBodySink sink;
      sink.begin = [&](const HttpResponse& response) {
        if (response.status == 206) {
          misplaced_range = content_range_start(response) != static_cast<long long>(have);
          return !misplaced_range;
        }
        if (have > 0) {  // the server ignored the range and sends the whole file: start over
          if (::ftruncate(::fileno(out), 0) != 0) return write_error = errno, false;
          hasher.reset();
          if (progress) progress->rewind(have);
          have = 0;
        }
        return true;
      };
      sink.write = [&](const char* data, size_t size) {
        if (have + size > file.size) return write_error = EFBIG, false;
        if (std::fwrite(data, 1, size, out) != size) return write_error = errno, false;
        hasher.update(data, size);
        have += size;
        if (progress) progress->advance(size);
        return true;
      };
      const HttpResponse response = http.get(request.url, headers, sink);
      if (std::fflush(out) != 0) fail_write(partial, errno);
      const bool oversized = response.outcome == HttpOutcome::write && write_error == EFBIG;
      if (oversized) {
        fail("'" + file.rfilename + "': " + request.target.endpoint + " sent more than the " +
             std::to_string(file.size) + " bytes its metadata gives");
      }
      if (response.outcome == HttpOutcome::write && !misplaced_range) fail_write(partial, write_error);
      const bool restart = misplaced_range || (response.outcome == HttpOutcome::ok && response.status == 416);
      const bool transient = response.outcome == HttpOutcome::cut || response.outcome == HttpOutcome::timeout ||
                             (response.outcome == HttpOutcome::ok && retryable_status(response.status));
      if (restart || transient) {
        if (++failures == kAttempts) {
          if (response.outcome != HttpOutcome::ok) fail_hub_transport(request.target, request.url, response);
          fail_hub_status(request.target, request.url, response, file.rfilename);
        }
        if (restart) {  // the partial file does not fit what the server has: fetch it whole
          if (::ftruncate(::fileno(out), 0) != 0) fail_write(partial, errno);
          hasher.reset();
          if (progress) progress->rewind(have);
          have = 0;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250 * failures));
        continue;
      }
      if (response.outcome != HttpOutcome::ok) fail_hub_transport(request.target, request.url, response);
      if (response.status != 200 && response.status != 206)
        fail_hub_status(request.target, request.url, response, file.rfilename);
      if (have < file.size) {
        fail("'" + file.rfilename + "': " + request.target.endpoint + " sent " + std::to_string(have) +
             " bytes, its metadata gives " + std::to_string(file.size));
      }
      break;
    }
  } catch (...) {
    close_out(false);
    throw;
  }
  close_out(true);
}

}  // namespace

void download_blob(HttpClient& http, const BlobRequest& request, const HubFile& file, const HubRepoCache& cache,
                   ByteProgressBar* progress) {
  const fs::path partial = cache.incomplete_path(file.blob_id);
  ContentHasher hasher(file.hash_kind, file.size);
  uint64_t have = existing_size(partial);
  std::error_code ec;
  if (have > file.size) fs::remove(partial, ec), have = 0;
  // Bytes left by an interrupted run are trusted only as far as the final hash check: if that
  // fails, they may be the culprit and the file is fetched once more from the start.
  const bool resumed = have > 0;
  if (resumed) {
    hasher.update_from_file(partial, have);
    if (progress) progress->resume(have);
  }
  fetch_into(http, request, file, partial, have, hasher, progress);
  std::string actual = hasher.hex_digest();
  if (actual != file.blob_id && resumed) {
    fs::remove(partial, ec);
    if (progress) progress->rewind(file.size);
    ContentHasher fresh(file.hash_kind, file.size);
    fetch_into(http, request, file, partial, 0, fresh, progress);
    actual = fresh.hex_digest();
  }
  if (actual != file.blob_id) {
    fs::remove(partial, ec);
    fail("'" + file.rfilename + "': " + std::string(content_hash_name(file.hash_kind)) + " mismatch: expected " +
         file.blob_id + ", got " + actual + " (the download was deleted)");
  }
  fs::rename(partial, cache.blob_path(file.blob_id), ec);
  if (ec) fail("cannot move '" + partial.string() + "' into place: " + ec.message());
}

}  // namespace slidesparse
