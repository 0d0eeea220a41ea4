#include "io/safetensors_reader.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/model_config.h"

namespace slidesparse {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the official library's limit
constexpr const char* kIndexFile = "model.safetensors.index.json";

// Parses the header JSON. nlohmann silently keeps the last of repeated keys, which would hide a
// tensor, so the parse callback records the first key repeated within one object.
nlohmann::json parse_header(std::string_view text, const std::string& where) {
  using Event = nlohmann::json::parse_event_t;
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> repeated;
  const nlohmann::json::parser_callback_t note_keys = [&](int, Event event, nlohmann::json& parsed) {
    if (event == Event::object_start) {
      open_objects.emplace_back();
    } else if (event == Event::object_end) {
      open_objects.pop_back();
    } else if (event == Event::key && !open_objects.back().insert(parsed.get<std::string>()).second && !repeated) {
      repeated = parsed.get<std::string>();
    }
    return true;
  };
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.begin(), text.end(), note_keys);
  } catch (const nlohmann::json::parse_error& e) {
    fail(where + ": header is not valid JSON (error at byte " + std::to_string(e.byte) + ")");
  } catch (const nlohmann::json::exception&) {  // out_of_range: a number past the range of a double
    fail(where + ": header holds a number out of range");
  }
  require(json.is_object(), where + ": header is not a JSON object");
  require(!repeated, where + ": header repeats the key '" + repeated.value_or("") + "'");
  return json;
}

// Non-negative JSON integers parse as unsigned; negatives and floats are something else.
std::optional<uint64_t> as_u64(const nlohmann::json& value) {
  if (!value.is_number_unsigned()) return std::nullopt;
  return value.get<uint64_t>();
}

TensorInfo parse_entry(const std::string& name, const nlohmann::json& entry, const std::string& where) {
  const std::string at = where + ": tensor '" + name + "': ";
  require(entry.is_object(), at + "entry is not a JSON object");
  for (const char* key : {"dtype", "shape", "data_offsets"})
    require(entry.contains(key), at + "entry lacks '" + key + "'");

  TensorInfo info;
  info.name = name;
  const auto& dtype = entry["dtype"];
  require(dtype.is_string(), at + "dtype is not a string");
  const auto parsed = dtype_from_name(dtype.get_ref<const std::string&>());
  require(parsed.has_value(), at + "unknown dtype '" + dtype.get<std::string>() + "'");
  info.dtype = *parsed;

  const auto& shape = entry["shape"];
  const std::string bad_shape = at + "shape must be an array of non-negative integers";
  require(shape.is_array(), bad_shape);
  for (const auto& dim : shape) {
    const auto d = as_u64(dim);
    require(d.has_value() && *d <= uint64_t{INT64_MAX}, bad_shape);
    info.shape.push_back(static_cast<int64_t>(*d));
  }
  const auto nbytes = tensor_nbytes(info.dtype, info.shape);
  if (!nbytes) fail(at + "shape " + shape_string(info.shape) + " has too many elements");
  info.nbytes = *nbytes;

  const auto& offsets = entry["data_offsets"];
  const std::string bad_offsets = at + "data_offsets must be [begin, end] with 0 <= begin <= end";
  require(offsets.is_array() && offsets.size() == 2, bad_offsets);
  const auto begin = as_u64(offsets[0]);
  const auto end = as_u64(offsets[1]);
  require(begin && end && *begin <= *end, bad_offsets);
  if (*end - *begin != info.nbytes)
    fail(at + "byte range is " + std::to_string(*end - *begin) + " bytes but shape " + shape_string(info.shape) +
         " of " + std::string(dtype_name(info.dtype)) + " needs " + std::to_string(info.nbytes));
  info.offset = *begin;
  return info;
}

std::map<std::string, std::string> parse_metadata(const nlohmann::json& json, const std::string& where) {
  const std::string bad = where + ": __metadata__ must map strings to strings";
  require(json.is_object(), bad);
  std::map<std::string, std::string> metadata;
  for (const auto& [key, value] : json.items()) {
    require(value.is_string(), bad);
    metadata.emplace(key, value.get<std::string>());
  }
  return metadata;
}

}  // namespace

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : file_(path) {
  const std::string where = path.string();
  const auto bytes = file_.bytes();
  require(bytes.size() >= 8, where + ": truncated: the file is " + std::to_string(bytes.size()) +
                                 " bytes, shorter than the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(bytes[i]);
  require(header_len <= bytes.size() - 8, where + ": header length " + std::to_string(header_len) +
                                              " exceeds file size " + std::to_string(bytes.size()));
  require(header_len <= kMaxHeaderBytes, where + ": header length " + std::to_string(header_len) +
                                             " exceeds the limit of " + std::to_string(kMaxHeaderBytes));
  const auto header = bytes.subspan(8, header_len);
  data_section_ = bytes.subspan(8 + header_len);

  const nlohmann::json json =
      parse_header({reinterpret_cast<const char*>(header.data()), header.size()}, where);
  for (const auto& [name, entry] : json.items()) {
    if (name == "__metadata__") {
      metadata_ = parse_metadata(entry, where);
      continue;
    }
    TensorInfo info = parse_entry(name, entry, where);
    if (info.offset + info.nbytes > data_section_.size())
      fail(where + ": tensor '" + name + "': data_offsets [" + std::to_string(info.offset) + ", " +
           std::to_string(info.offset + info.nbytes) + "] run past the end of the file (data section is " +
           std::to_string(data_section_.size()) + " bytes)");
    tensors_.push_back(std::move(info));
  }

  // Like the official library, require the tensors to tile the data section exactly: a hole or a
  // shared byte means the header and the data disagree. Empty tensors sort before their neighbour.
  std::stable_sort(tensors_.begin(), tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return std::pair(a.offset, a.nbytes) < std::pair(b.offset, b.nbytes);
  });
  uint64_t covered = 0;
  const TensorInfo* last = nullptr;  // the tensor whose bytes end at `covered`
  for (const auto& t : tensors_) {
    if (t.offset < covered) fail(where + ": tensors '" + last->name + "' and '" + t.name + "' overlap");
    if (t.offset > covered)
      fail(where + ": gap in the data section: bytes [" + std::to_string(covered) + ", " + std::to_string(t.offset) +
           ") belong to no tensor");
    if (t.nbytes > 0) {
      covered = t.offset + t.nbytes;
      last = &t;
    }
  }
  require(covered == data_section_.size(), where + ": " + std::to_string(data_section_.size() - covered) +
                                               " trailing bytes after the last tensor in the data section");
  for (size_t i = 0; i < tensors_.size(); ++i) index_.emplace(tensors_[i].name, i);
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const std::byte> SafetensorsFile::data(const TensorInfo& info) const {
  return data_section_.subspan(info.offset, info.nbytes);
}

namespace {

// Shard files named by the index, sorted and distinct. Only plain names: a hostile index must not
// reach outside the checkpoint directory.
std::vector<std::filesystem::path> index_shards(const nlohmann::json& index, const std::filesystem::path& dir) {
  const std::string where = (dir / kIndexFile).string();
  require(index.is_object() && index.contains("weight_map") && index["weight_map"].is_object(),
          where + ": missing the 'weight_map' object");
  std::set<std::string> shards;
  for (const auto& [tensor, shard] : index["weight_map"].items()) {
    require(shard.is_string(), where + ": weight_map entry '" + tensor + "' is not a file name");
    const std::string& name = shard.get_ref<const std::string&>();
    require(!name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos,
            where + ": shard '" + name + "' is not a file name in the checkpoint directory");
    shards.insert(name);
  }
  require(!shards.empty(), where + ": weight_map is empty");
  std::vector<std::filesystem::path> paths;
  for (const auto& name : shards) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(dir / name, ec))
      fail(dir.string() + ": shard '" + name + "' named by " + kIndexFile + " is missing");
    paths.push_back(dir / name);
  }
  return paths;
}

// Every *.safetensors file, by name. Hidden files are skipped: they are editor or OS droppings
// (macOS "._model.safetensors") or another writer's temporaries, never part of the checkpoint.
std::vector<std::filesystem::path> directory_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> paths;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() == ".safetensors" && !name.starts_with(".") && entry.is_regular_file())
      paths.push_back(entry.path());
  }
  require(!ec, dir.string() + ": cannot list: " + ec.message());
  require(!paths.empty(), dir.string() + ": no .safetensors files");
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace

CheckpointReader::CheckpointReader(const std::filesystem::path& location) : location_(location) {
  std::error_code ec;
  const auto status = std::filesystem::status(location, ec);
  require(std::filesystem::exists(status), location.string() + ": no such file or directory");
  const bool is_dir = std::filesystem::is_directory(status);
  directory_ = is_dir ? location : location.parent_path();
  const auto index_path = location / kIndexFile;
  const bool sharded = is_dir && std::filesystem::exists(index_path, ec);
  const nlohmann::json index = sharded ? read_json_file(index_path) : nlohmann::json();

  const auto paths = !is_dir   ? std::vector{location}
                     : sharded ? index_shards(index, location)
                               : directory_files(location);
  for (const auto& path : paths) {
    const auto& file = *files_.emplace_back(std::make_unique<SafetensorsFile>(path));
    for (const auto& info : file.tensors()) {
      const auto [it, added] = tensors_.try_emplace(info.name, TensorRef{&info, file.data(info), &file});
      if (!added)
        fail(location.string() + ": tensor '" + info.name + "' is in both '" +
             it->second.file->path().filename().string() + "' and '" + path.filename().string() + "'");
      names_.push_back(info.name);
    }
  }
  if (!sharded) return;

  const auto& weight_map = index["weight_map"];
  for (const auto& [name, shard] : weight_map.items()) {
    const std::string& shard_name = shard.get_ref<const std::string&>();
    const auto it = tensors_.find(name);
    if (it == tensors_.end() || it->second.file->path().filename() != shard_name)
      fail((location / shard_name).string() + ": missing tensor '" + name + "' named by " + kIndexFile);
  }
  for (const auto& [name, ref] : tensors_)
    if (!weight_map.contains(name))
      fail(ref.file->path().string() + ": tensor '" + name + "' is not listed in " + kIndexFile);
}

const TensorRef* CheckpointReader::find(std::string_view name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const TensorRef& CheckpointReader::get(std::string_view name) const {
  const TensorRef* ref = find(name);
  require(ref != nullptr, location_.string() + ": missing tensor '" + std::string(name) + "'");
  return *ref;
}

}  // namespace slidesparse
