#include "io/safetensors_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/interrupt.h"
#include "io/safetensors_reader.h"

namespace slidesparse {

namespace {

// Large enough that per-call overhead vanishes next to a multi-GB checkpoint; pieces bigger than
// this bypass the buffer inside stdio anyway.
constexpr size_t kBufferBytes = size_t{8} << 20;

}  // namespace

SafetensorsWriter::SafetensorsWriter(const std::filesystem::path& path, std::vector<TensorDecl> tensors,
                                     const std::map<std::string, std::string>& metadata)
    : path_(path), tensors_(std::move(tensors)) {
  const std::string where = path_.string();
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    const std::string at = where + ": tensor '" + t.name + "': ";
    require(t.name != "__metadata__", at + "the name is reserved for metadata");
    require(!header.contains(t.name), at + "declared twice");
    const auto nbytes = tensor_nbytes(t.dtype, t.shape);
    if (!nbytes) fail(at + "shape " + shape_string(t.shape) + " has a negative dimension or too many elements");
    require(offset + *nbytes >= offset, at + "the checkpoint exceeds 2^64 bytes");
    header[t.name] = {{"dtype", std::string(dtype_name(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + *nbytes}}};
    sizes_.push_back(*nbytes);
    offset += *nbytes;
  }
  std::string text = header.dump();
  // Pad with spaces (valid JSON whitespace) so the data section starts 8-byte aligned, which lets
  // readers view the mapped tensors as their element type directly.
  text.append((8 - text.size() % 8) % 8, ' ');

  file_ = std::fopen(path_.c_str(), "wbe");
  if (file_ == nullptr) fail(where + ": cannot create: " + std::strerror(errno));
  buffer_ = std::make_unique<char[]>(kBufferBytes);
  std::setvbuf(file_, buffer_.get(), _IOFBF, kBufferBytes);
  std::byte length[8];
  for (size_t i = 0; i < 8; ++i) length[i] = static_cast<std::byte>(uint64_t{text.size()} >> (8 * i));
  put(length);
  put(std::as_bytes(std::span(text)));
}

SafetensorsWriter::~SafetensorsWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void SafetensorsWriter::put(std::span<const std::byte> bytes) {
  if (bytes.empty()) return;  // an empty span may carry a null pointer, which fwrite must not see
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
    fail(path_.string() + ": write failed: " + std::strerror(errno));
}

void SafetensorsWriter::select(std::string_view name) {
  const std::string where = path_.string();
  require(file_ != nullptr, where + ": tensor '" + std::string(name) + "' written after finish()");
  while (current_ < tensors_.size() && current_written_ == 0 && sizes_[current_] == 0 &&
         tensors_[current_].name != name)
    ++current_;
  if (current_ < tensors_.size() && tensors_[current_].name == name) return;

  const auto declared = std::find_if(tensors_.begin(), tensors_.end(), [&](const auto& t) { return t.name == name; });
  if (declared == tensors_.end()) fail(where + ": tensor '" + std::string(name) + "' was not declared");
  if (declared < tensors_.begin() + static_cast<ptrdiff_t>(current_))
    fail(where + ": tensor '" + std::string(name) + "' was already written");
  const TensorDecl& expected = tensors_[current_];
  if (current_written_ > 0)
    fail(where + ": tensor '" + expected.name + "' incomplete: wrote " + std::to_string(current_written_) + " of " +
         std::to_string(sizes_[current_]) + " bytes before '" + std::string(name) + "' began");
  fail(where + ": tensor '" + std::string(name) + "' is out of declaration order: expected '" + expected.name +
       "' next");
}

void SafetensorsWriter::append(std::string_view name, std::span<const std::byte> bytes) {
  throw_if_interrupted();  // Ctrl-C unwinds between pieces, so staging directories get removed
  select(name);
  const uint64_t room = sizes_[current_] - current_written_;
  if (bytes.size() > room)
    fail(path_.string() + ": tensor '" + std::string(name) + "': appending " + std::to_string(bytes.size()) +
         " bytes exceeds its size of " + std::to_string(sizes_[current_]) + " (" + std::to_string(current_written_) +
         " already written)");
  put(bytes);
  current_written_ += bytes.size();
  if (current_written_ == sizes_[current_]) {
    ++current_;
    current_written_ = 0;
  }
}

void SafetensorsWriter::write(std::string_view name, std::span<const std::byte> bytes) {
  select(name);
  const std::string at = path_.string() + ": tensor '" + std::string(name) + "': ";
  require(current_written_ == 0, at + "write() after append() began the tensor");
  const TensorDecl& t = tensors_[current_];
  if (bytes.size() != sizes_[current_])
    fail(at + "write of " + std::to_string(bytes.size()) + " bytes but shape " + shape_string(t.shape) + " of " +
         std::string(dtype_name(t.dtype)) + " needs " + std::to_string(sizes_[current_]));
  append(name, bytes);
}

void SafetensorsWriter::finish() {
  const std::string where = path_.string();
  require(!finished_, where + ": finish() called twice");
  while (current_ < tensors_.size() && current_written_ == 0 && sizes_[current_] == 0) ++current_;
  if (current_ < tensors_.size())
    fail(where + ": tensor '" + tensors_[current_].name + "' incomplete: wrote " + std::to_string(current_written_) +
         " of " + std::to_string(sizes_[current_]) + " bytes");
  // No fsync: the staged directory's rename is the commit point, and forcing gigabytes to disk
  // would dominate conversion time.
  const bool flushed = std::fflush(file_) == 0 && !std::ferror(file_);
  const int flush_errno = errno;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  finished_ = true;
  if (!flushed) fail(where + ": write failed: " + std::strerror(flush_errno));
  if (!closed) fail(where + ": close failed: " + std::strerror(errno));
}

}  // namespace slidesparse
