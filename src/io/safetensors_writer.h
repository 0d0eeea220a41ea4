// Streaming safetensors writer: all tensors are declared up front (so the header and every offset
// are known), then the bytes are appended tensor by tensor, in declaration order, possibly in
// several pieces per tensor. Memory stays at one piece, never the model.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/dtype.h"

namespace slidesparse {

struct TensorDecl {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
};

class SafetensorsWriter {
 public:
  // Creates `path` (truncating) and writes the header. Throws Error on duplicate names or I/O errors.
  SafetensorsWriter(const std::filesystem::path& path, std::vector<TensorDecl> tensors,
                    const std::map<std::string, std::string>& metadata = {});
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  // Appends bytes of the current tensor; starting a tensor requires naming it (declaration order is
  // enforced), finishing one happens when its byte count is reached. Empty tensors need no call.
  // Throws Error "<path>: write failed: <strerror>" on I/O errors.
  void append(std::string_view name, std::span<const std::byte> bytes);
  // Whole tensor at once.
  void write(std::string_view name, std::span<const std::byte> bytes);
  // Flushes and closes; throws if any declared tensor is incomplete.
  void finish();

 private:
  // Makes `name` the current tensor, passing over empty tensors before it (they need no bytes);
  // throws naming the expected tensor when `name` is out of declaration order.
  void select(std::string_view name);
  void put(std::span<const std::byte> bytes);

  std::filesystem::path path_;
  std::vector<TensorDecl> tensors_;
  std::vector<uint64_t> sizes_;
  std::unique_ptr<char[]> buffer_;  // large stdio buffer: small pieces coalesce into big writes
  std::FILE* file_ = nullptr;
  size_t current_ = 0;         // index of the tensor being written
  uint64_t current_written_ = 0;
  bool finished_ = false;
};

}  // namespace slidesparse
