#include "checkpoint/checkpoint_files.h"

#include <algorithm>
#include <set>

#include "core/error.h"

namespace slidesparse {

namespace fs = std::filesystem;

void copy_side_files(const fs::path& from, const fs::path& to, const std::vector<std::string>& rewritten) {
  for (const auto& entry : fs::directory_iterator(from)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".safetensors") || name == "model.safetensors.index.json" || name == "config.json" ||
        name.starts_with(".") || std::find(rewritten.begin(), rewritten.end(), name) != rewritten.end())
      continue;
    std::error_code ec;
    fs::copy_file(entry.path(), to / name, fs::copy_options::overwrite_existing, ec);
    require(!ec, "cannot copy '" + entry.path().string() + "': " + ec.message());
  }
}

void check_tensor_presence(const CheckpointReader& reader, const std::vector<ModelTensor>& layout,
                           const std::vector<std::string>& extra_allowed) {
  std::set<std::string, std::less<>> expected(extra_allowed.begin(), extra_allowed.end());
  for (const auto& t : layout) {
    reader.get(t.name);
    expected.insert(t.name);
  }
  for (const auto& name : reader.tensor_names())
    require(expected.count(name) != 0, reader.location().string() + ": unexpected tensor '" + name +
                                           "' (config.json does not describe it)");
}

void check_tensor_shape(const CheckpointReader& reader, const TensorRef& tensor,
                        const std::vector<int64_t>& expected) {
  require(tensor.info->shape == expected, reader.location().string() + ": tensor '" + tensor.info->name +
                                              "' has shape " + shape_string(tensor.info->shape) +
                                              " but config.json implies " + shape_string(expected));
}

void check_tensor_dtype(const CheckpointReader& reader, const TensorRef& tensor, DType expected) {
  require(tensor.info->dtype == expected, reader.location().string() + ": tensor '" + tensor.info->name +
                                              "' has dtype " + std::string(dtype_name(tensor.info->dtype)) +
                                              ", expected " + std::string(dtype_name(expected)));
}

}  // namespace slidesparse
