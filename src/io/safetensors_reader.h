// safetensors reading: one file (memory-mapped, zero-copy) or a checkpoint directory (single
// model.safetensors or sharded model.safetensors.index.json). Everything a hostile file can lie about
// is validated before any tensor is handed out.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/dtype.h"
#include "io/mapped_file.h"

namespace slidesparse {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t offset = 0;  // relative to the start of the data section
  uint64_t nbytes = 0;

  int64_t numel() const;
};

std::string shape_string(const std::vector<int64_t>& shape);  // "[2560, 6912]"

class SafetensorsFile {
 public:
  // Throws Error "<path>: <what is wrong>" for: file shorter than 8 bytes, header length past the
  // end or over 100 MB, header not JSON / not an object, repeated keys, unknown dtype, bad shape,
  // data_offsets not [begin, end] with begin <= end, byte range not equal to numel * dtype size,
  // range past the end of the file, overlapping ranges, gaps or trailing bytes in the data section,
  // __metadata__ not string -> string.
  explicit SafetensorsFile(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_.path(); }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in data order
  const TensorInfo* find(std::string_view name) const;
  std::span<const std::byte> data(const TensorInfo& info) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  MappedFile file_;
  std::span<const std::byte> data_section_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::map<std::string, std::string> metadata_;
};

struct TensorRef {
  const TensorInfo* info = nullptr;
  std::span<const std::byte> data;
  const SafetensorsFile* file = nullptr;
};

class CheckpointReader {
 public:
  // `location` is a directory with model.safetensors.index.json (sharded) or *.safetensors files
  // (all non-hidden ones, by name), or one .safetensors file. An index naming a missing shard, a
  // tensor its shard lacks, or a shard tensor it does not list, and a tensor present in two files,
  // are errors.
  explicit CheckpointReader(const std::filesystem::path& location);

  const std::filesystem::path& location() const { return location_; }
  // Directory holding the checkpoint (config.json and friends live here).
  const std::filesystem::path& directory() const { return directory_; }
  const std::vector<std::string>& tensor_names() const { return names_; }  // file order, then data order
  const TensorRef* find(std::string_view name) const;
  // Throws Error "<dir>: missing tensor '<name>'".
  const TensorRef& get(std::string_view name) const;
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  std::filesystem::path location_;
  std::filesystem::path directory_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<std::string> names_;
  std::map<std::string, TensorRef, std::less<>> tensors_;
};

}  // namespace slidesparse
